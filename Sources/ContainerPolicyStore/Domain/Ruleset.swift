import Foundation

/// A runtime ruleset: managed rules with their mitigations, made on its own and linked to
/// policies. Its editable part is its ``RulesetContent``, whose fields read as the ruleset's
/// own (`ruleset.rules`).
///
/// ```swift
/// let baseline = try store.perform(.createRuleset(
///     named: "baseline",
///     rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
/// print(baseline.rules.count)   // 1
/// ```
@dynamicMemberLookup
public struct Ruleset: Sendable, Hashable, Identifiable {
    /// The row id in `rulesets`.
    public let id: Int
    /// Unique ignoring letter case among rulesets; never changes.
    public let name: String
    /// The description and the rules.
    public var content: RulesetContent
    /// Starts at 1 and grows by one with every change to the ruleset or to one of its rules.
    public let revision: Int
    /// When the ruleset was created.
    public let createdAt: Date
    /// When the ruleset or its rules last changed.
    public let updatedAt: Date
    /// Stored values of the ruleset that break the product's rules (a rule whose ID or
    /// mitigation is not one the product has, which is then not in `rules`); empty for a
    /// sound one.
    public let damage: [StoredDamage]

    /// A ruleset as the store holds it.
    public init(
        id: Int, name: String, content: RulesetContent, revision: Int, createdAt: Date, updatedAt: Date,
        damage: [StoredDamage] = []
    ) {
        self.id = id
        self.name = name
        self.content = content
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.damage = damage
    }

    /// A field of the content, as if it were the ruleset's own.
    public subscript<Value>(dynamicMember field: WritableKeyPath<RulesetContent, Value>) -> Value {
        get { content[keyPath: field] }
        set { content[keyPath: field] = newValue }
    }
}

extension Ruleset: Codable {
    /// The product API's shape (`id`, `name`, the content, `createdDateTime`,
    /// `updatedDateTime`), plus `revision`, and `damage` when there is any.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(id, forKey: FieldKey("id"))
        try container.encode(name, forKey: FieldKey("name"))
        try content.encode(to: encoder)
        try container.encode(revision, forKey: FieldKey("revision"))
        try container.encode(Timestamp.text(from: createdAt), forKey: FieldKey("createdDateTime"))
        try container.encode(Timestamp.text(from: updatedAt), forKey: FieldKey("updatedDateTime"))
        if !damage.isEmpty { try container.encode(damage, forKey: FieldKey("damage")) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        self.init(
            id: try container.decode(Int.self, forKey: FieldKey("id")),
            name: try container.decode(String.self, forKey: FieldKey("name")),
            content: try RulesetContent(from: decoder),
            revision: try container.decode(Int.self, forKey: FieldKey("revision")),
            createdAt: try decodeTimestamp(container, "createdDateTime"),
            updatedAt: try decodeTimestamp(container, "updatedDateTime"),
            damage: try container.decodeIfPresent([StoredDamage].self, forKey: FieldKey("damage")) ?? [])
    }
}
