import Foundation

/// One recorded change to a policy, a ruleset or a cluster, from the `changes` table: for a
/// policy or a ruleset, with the object's content before and after it; for a cluster, the
/// policy assigned to it or removed from it.
///
/// ```swift
/// let last = try store.perform(.history(ofPolicy: "web.prod")).last
/// print(last?.action, last?.actor, last?.after?.policy?.xdrEnabled)
/// ```
public struct Change: Sendable, Hashable {
    /// What the change did.
    public enum Action: String, Sendable, Hashable, CaseIterable, Codable {
        case create
        /// The description, the XDR setting, or several things at once (rules included).
        case modify
        case delete
        /// Rulesets were added to a policy, and nothing else changed.
        case link
        /// Rulesets were removed from a policy, and nothing else changed.
        case unlink
        /// A policy's content was set back to that of an earlier revision,
        /// ``Change/restoredRevision``.
        case restore
        /// A cluster was given the policy ``Change/policy``.
        case assign
        /// The policy ``Change/policy`` was removed from a cluster.
        case unassign
    }

    /// Increases with every change in the database.
    public let sequence: Int
    /// When, to the millisecond.
    public let changedAt: Date
    /// A policy, a ruleset or a cluster.
    public let kind: ObjectKind
    /// The object's name (a cluster's ARN).
    public let name: String
    /// Which life of the name the change belongs to: the ``sequence`` of the `create` that
    /// began it, so a policy deleted and created again under the same name is told apart
    /// from its earlier life. Nil for a change of an object older than its history.
    public let life: Int?
    public let action: Action
    /// The object's revision after the change (for a delete, its last revision); 0 for a
    /// cluster, which has none.
    public let revision: Int
    /// For a `restore`, the revision whose content it wrote back.
    public let restoredRevision: Int?
    /// For a cluster's `assign` or `unassign`, the policy it concerns.
    public let policy: String?
    /// The content before the change; nil for a create (or a state the history cannot read,
    /// then named in `damage`).
    public let before: RecordedContent?
    /// The content after the change; nil for a delete (or a damaged state).
    public let after: RecordedContent?
    /// Who made the change, as the library's caller said (`StoreOptions.actor`); empty for
    /// a change made from the shell.
    public let actor: String
    /// Stored values of the row that break the history's format (a state that is not the
    /// JSON the history writes, a timestamp in another format); empty for a sound row.
    public let damage: [StoredDamage]

    /// A change as the history holds it.
    public init(
        sequence: Int, changedAt: Date, kind: ObjectKind, name: String, life: Int?, action: Action, revision: Int,
        restoredRevision: Int? = nil, policy: String? = nil,
        before: RecordedContent?, after: RecordedContent?, actor: String, damage: [StoredDamage] = []
    ) {
        self.sequence = sequence
        self.changedAt = changedAt
        self.kind = kind
        self.name = name
        self.life = life
        self.action = action
        self.revision = revision
        self.restoredRevision = restoredRevision
        self.policy = policy
        self.before = before
        self.after = after
        self.actor = actor
        self.damage = damage
    }

    /// Whether the change is in the history of the `kind` named `name` (ignoring letter case,
    /// as names do), as ``StoreTransaction/history(ofPolicy:after:limit:)`` and its siblings
    /// read it: the object's own changes and, for a policy, the assigns and unassigns of its
    /// clusters (``policy``). To pick one object's changes out of ``PolicyStore/changes(after:)``.
    ///
    /// ```swift
    /// for try await change in store.changes(after: 0) where change.belongs(to: .policy, named: "web.prod") {
    ///     print(change.kind, change.name, change.action)
    /// }
    /// ```
    public func belongs(to kind: ObjectKind, named name: String) -> Bool {
        if self.kind == kind, sameName(self.name, name) { return true }
        return kind == .policy && policy.map { sameName($0, name) } == true
    }

    /// The same change, of the life `life`.
    func living(_ life: Int?) -> Change {
        Change(
            sequence: sequence, changedAt: changedAt, kind: kind, name: name, life: life, action: action, revision: revision,
            restoredRevision: restoredRevision, policy: policy, before: before, after: after, actor: actor, damage: damage)
    }

    /// What changed between `before` and `after`, in the words of the one diff of the
    /// library: for a create, from a new object's defaults. Nil for a delete, or when a
    /// state is damaged.
    public var changes: ContentChanges? {
        switch (before, after) {
        case (.policy(let old)?, .policy(let new)?): return .policy(old.changes(to: new))
        case (.ruleset(let old)?, .ruleset(let new)?): return .ruleset(old.changes(to: new))
        case (nil, .policy(let new)?) where damage.isEmpty: return .policy(PolicyContent().changes(to: new))
        case (nil, .ruleset(let new)?) where damage.isEmpty: return .ruleset(RulesetContent().changes(to: new))
        default: return nil
        }
    }
}

/// The content of a policy or of a ruleset, as the history and a plan hold it.
public enum RecordedContent: Sendable, Hashable {
    case policy(PolicyContent)
    case ruleset(RulesetContent)

    /// The policy's content, when it is one.
    public var policy: PolicyContent? {
        if case .policy(let content) = self { return content }
        return nil
    }

    /// The ruleset's content, when it is one.
    public var ruleset: RulesetContent? {
        if case .ruleset(let content) = self { return content }
        return nil
    }
}

/// A content type as a case of ``RecordedContent`` and its changes as a case of
/// ``ContentChanges``: what code written once for both kinds (duplicate, the import plan)
/// needs to record or plan one.
protocol RecordableContent: ObjectContent {
    var recorded: RecordedContent { get }
    func contentChanges(to new: Self) -> ContentChanges
}

extension PolicyContent: RecordableContent {
    var recorded: RecordedContent { .policy(self) }
    func contentChanges(to new: PolicyContent) -> ContentChanges { .policy(changes(to: new)) }
}

extension RulesetContent: RecordableContent {
    var recorded: RecordedContent { .ruleset(self) }
    func contentChanges(to new: RulesetContent) -> ContentChanges { .ruleset(changes(to: new)) }
}

/// How a policy's or a ruleset's content changes.
public enum ContentChanges: Sendable, Hashable {
    case policy(PolicyChanges)
    case ruleset(RulesetChanges)

    public var isEmpty: Bool {
        switch self {
        case .policy(let changes): return changes.isEmpty
        case .ruleset(let changes): return changes.isEmpty
        }
    }
}

extension RecordedContent: Codable, JSONRepresentable {
    /// The content as it is, without a tag: a policy's fields or a ruleset's.
    var jsonValue: JSONValue {
        switch self {
        case .policy(let content): return content.jsonValue
        case .ruleset(let content): return content.jsonValue
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try encodeTree(to: encoder)
    }

    /// A ruleset's content has `rules`; anything else is a policy's.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        self = container.contains(FieldKey("rules")) ? .ruleset(try RulesetContent(from: decoder)) : .policy(try PolicyContent(from: decoder))
    }
}

extension ContentChanges: Codable {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .policy(let changes): try changes.encode(to: encoder)
        case .ruleset(let changes): try changes.encode(to: encoder)
        }
    }

    /// Rule lists mark a ruleset's changes; anything else is a policy's.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        self = container.contains(FieldKey("addedRules")) ? .ruleset(try RulesetChanges(from: decoder)) : .policy(try PolicyChanges(from: decoder))
    }
}

extension Change: Codable {
    private enum CodingKeys: String, CodingKey {
        case sequence, changedDateTime, kind, name, life, action, revision, restoredRevision, policy, actor, before, after, damage
    }

    /// `sequence`, `changedDateTime`, `kind`, `name`, `life`, `action`, `revision`,
    /// `restoredRevision`, `policy` (null when they do not apply), `actor`, the contents
    /// `before` and `after` (null when there is none), and `damage` when there is any.
    public func encode(to encoder: any Encoder) throws {
        try encoder.encodeMembers([
            "sequence": sequence, "changedDateTime": Timestamp.text(from: changedAt), "kind": kind, "name": name, "life": life,
            "action": action, "revision": revision, "restoredRevision": restoredRevision, "policy": policy, "actor": actor,
            "before": before, "after": after,
        ])
        if !damage.isEmpty { try encoder.encodeMembers(["damage": damage]) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .changedDateTime)
        guard let changedAt = Timestamp.date(from: text) else {
            throw DecodingError.dataCorruptedError(forKey: .changedDateTime, in: container, debugDescription: "not a timestamp: \(text)")
        }
        self.init(
            sequence: try container.decode(Int.self, forKey: .sequence), changedAt: changedAt,
            kind: try container.decode(ObjectKind.self, forKey: .kind), name: try container.decode(String.self, forKey: .name),
            life: try container.decodeIfPresent(Int.self, forKey: .life),
            action: try container.decode(Action.self, forKey: .action), revision: try container.decode(Int.self, forKey: .revision),
            restoredRevision: try container.decodeIfPresent(Int.self, forKey: .restoredRevision),
            policy: try container.decodeIfPresent(String.self, forKey: .policy),
            before: try container.decodeIfPresent(RecordedContent.self, forKey: .before),
            after: try container.decodeIfPresent(RecordedContent.self, forKey: .after),
            actor: try container.decode(String.self, forKey: .actor),
            damage: try container.decodeIfPresent([StoredDamage].self, forKey: .damage) ?? [])
    }
}
