import ContainerPolicyStore

/// What a push would do to Vision One to make it match the store, computed by
/// ``SyncPlanner/plan(local:remotePolicies:remoteRulesets:state:clusters:prune:force:)``: the
/// steps in the order they are applied, the conflicts that refuse it, what is reported and
/// left alone, and the bookkeeping for ``SyncState``.
///
/// Its `description` is stable text in the shape of the store's ``ImportPlan``:
///
/// ```text
/// + create ruleset strict: rules +TM-00000003 +TM-00000004
/// ~ modify ruleset baseline: rules ~TM-00000001 (log -> terminate)
/// + create policy web.staging: rulesets +strict
/// ~ modify policy web.prod: description, rulesets +strict -legacy
/// - delete policy old.test
/// - delete ruleset legacy
/// ! conflict policy api: changed in Vision One since the last sync (...), and differs from the store; ...
/// ? policy "web prod" (id 7f3a): the name contains a space at position 4: left untouched
/// 4 unchanged
/// ```
public struct SyncPlan: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One change to one remote object.
    public struct Step: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Action: String, Sendable, Hashable, Codable {
            case create
            case modify
            case delete
        }

        /// ``RemoteObjectKind/policy`` or ``RemoteObjectKind/ruleset``.
        public let kind: RemoteObjectKind
        /// The name, as the store has it (or as Vision One has it, for a delete).
        public let name: String
        public let action: Action
        /// The remote object modified or deleted; nil for a create.
        public let remoteID: String?
        /// The remote `updatedDateTime` the plan saw. A push refuses to modify or delete an
        /// object whose timestamp has moved since, unless the step overrides a conflict.
        public let remoteUpdatedDateTime: String?
        /// For a policy: what to send.
        public let policy: PolicyChange?
        /// For a ruleset: what to send.
        public let ruleset: RulesetChange?
        /// True when the plan was made with `force` and this step overwrites or deletes a
        /// remote object despite a ``Conflict``.
        public let overridesConflict: Bool

        public init(
            kind: RemoteObjectKind, name: String, action: Action, remoteID: String? = nil, remoteUpdatedDateTime: String? = nil,
            policy: PolicyChange? = nil, ruleset: RulesetChange? = nil, overridesConflict: Bool = false
        ) {
            self.kind = kind
            self.name = name
            self.action = action
            self.remoteID = remoteID
            self.remoteUpdatedDateTime = remoteUpdatedDateTime
            self.policy = policy
            self.ruleset = ruleset
            self.overridesConflict = overridesConflict
        }

        /// What changes, in words, as an ``ImportPlan`` says it: `description`, `xdrEnabled`,
        /// `rulesets +strict -legacy`, `rules +TM-00000003 -TM-00000009 ~TM-00000001`.
        /// For a create, what the new object holds: `rulesets +baseline`, `rules +TM-00000001`.
        public var changes: [String] {
            if let policy { return policy.summary(creating: action == .create) }
            if let ruleset { return ruleset.summary(creating: action == .create, detailed: false) }
            return []
        }

        public var description: String {
            let sign: String
            switch action {
            case .create: sign = "+"
            case .modify: sign = "~"
            case .delete: sign = "-"
            }
            let details = action == .delete ? [] : ruleset?.summary(creating: action == .create, detailed: true) ?? changes
            let forced = overridesConflict ? " (forced over a conflict)" : ""
            let head = "\(sign) \(action.rawValue) \(kind) \(escaped(name))"
            return (details.isEmpty ? head : head + ": " + details.joined(separator: ", ")) + forced
        }

        private enum CodingKeys: String, CodingKey {
            case kind, name, action, remoteID, remoteUpdatedDateTime, changes, policy, ruleset, overridesConflict
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            kind = try container.decode(RemoteObjectKind.self, forKey: .kind)
            name = try container.decode(String.self, forKey: .name)
            action = try container.decode(Action.self, forKey: .action)
            remoteID = try container.decodeIfPresent(String.self, forKey: .remoteID)
            remoteUpdatedDateTime = try container.decodeIfPresent(String.self, forKey: .remoteUpdatedDateTime)
            policy = try container.decodeIfPresent(PolicyChange.self, forKey: .policy)
            ruleset = try container.decodeIfPresent(RulesetChange.self, forKey: .ruleset)
            overridesConflict = try container.decodeIfPresent(Bool.self, forKey: .overridesConflict) ?? false
        }

        /// `kind`, `name`, `action` and `changes` as in an import plan, then what a push
        /// sends.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(name, forKey: .name)
            try container.encode(action, forKey: .action)
            try container.encode(changes, forKey: .changes)
            try container.encodeIfPresent(remoteID, forKey: .remoteID)
            try container.encodeIfPresent(remoteUpdatedDateTime, forKey: .remoteUpdatedDateTime)
            try container.encodeIfPresent(policy, forKey: .policy)
            try container.encodeIfPresent(ruleset, forKey: .ruleset)
            try container.encode(overridesConflict, forKey: .overridesConflict)
        }
    }

    /// The fields of a policy a step sends: for a create all of them, for a modify exactly
    /// those that differ (nil means "unchanged, not sent").
    public struct PolicyChange: Sendable, Hashable, Codable {
        public var description: String?
        public var xdrEnabled: Bool?
        /// The complete set of linked ruleset names after the step, sorted; nil when the links
        /// do not change.
        public var rulesets: [String]?
        /// Links the step adds, by name, sorted.
        public var rulesetsAdded: [String]
        /// Links the step removes, by name (`id:<id>` for a link to a ruleset that is not
        /// listed), sorted.
        public var rulesetsRemoved: [String]

        public init(
            description: String? = nil, xdrEnabled: Bool? = nil, rulesets: [String]? = nil,
            rulesetsAdded: [String] = [], rulesetsRemoved: [String] = []
        ) {
            self.description = description
            self.xdrEnabled = xdrEnabled
            self.rulesets = rulesets
            self.rulesetsAdded = rulesetsAdded
            self.rulesetsRemoved = rulesetsRemoved
        }

        /// The API fields sent: `description`, `xdrEnabled`, `runtime.rulesets`.
        public var fields: [String] {
            [description.map { _ in "description" }, xdrEnabled.map { _ in "xdrEnabled" }, rulesets.map { _ in "runtime.rulesets" }]
                .compactMap { $0 }
        }

        func summary(creating: Bool) -> [String] {
            var words: [String] = []
            if creating {
                if xdrEnabled == false { words.append("xdrEnabled false") }
            } else {
                if description != nil { words.append("description") }
                if xdrEnabled != nil { words.append("xdrEnabled") }
            }
            let links = rulesetsAdded.map { "+" + escaped($0) } + rulesetsRemoved.map { "-" + escaped($0) }
            if !links.isEmpty { words.append("rulesets " + links.joined(separator: " ")) }
            return words
        }
    }

    /// The fields of a ruleset a step sends: for a create all of them, for a modify exactly
    /// those that differ.
    public struct RulesetChange: Sendable, Hashable, Codable {
        public var description: String?
        /// The complete list of rules after the step, sorted by id, when the rules change. A
        /// rule that stays keeps the fields Vision One sent with it.
        public var rules: [RemoteRule]?
        public var rulesAdded: [RuleReference]
        /// Rule ids the step removes, sorted.
        public var rulesRemoved: [String]
        public var rulesRemitigated: [Remitigation]

        public init(
            description: String? = nil, rules: [RemoteRule]? = nil, rulesAdded: [RuleReference] = [],
            rulesRemoved: [String] = [], rulesRemitigated: [Remitigation] = []
        ) {
            self.description = description
            self.rules = rules
            self.rulesAdded = rulesAdded
            self.rulesRemoved = rulesRemoved
            self.rulesRemitigated = rulesRemitigated
        }

        /// The API fields sent: `description`, `rules`.
        public var fields: [String] {
            [description.map { _ in "description" }, rules.map { _ in "rules" }].compactMap { $0 }
        }

        /// `detailed` spells out each mitigation change, for the text rendering.
        func summary(creating: Bool, detailed: Bool) -> [String] {
            var words: [String] = []
            if description != nil, !creating { words.append("description") }
            let rules = rulesAdded.map { "+" + escaped($0.id) } + rulesRemoved.map { "-" + escaped($0) }
                + rulesRemitigated.map { detailed ? "~\(escaped($0.id)) (\($0.from) -> \($0.to))" : "~" + escaped($0.id) }
            if !rules.isEmpty { words.append("rules " + rules.joined(separator: " ")) }
            return words
        }
    }

    /// A rule whose mitigation a step changes.
    public struct Remitigation: Sendable, Hashable, Codable {
        public var id: String
        public var from: Mitigation
        public var to: Mitigation

        public init(id: String, from: Mitigation, to: Mitigation) {
            self.id = id
            self.from = from
            self.to = to
        }
    }

    /// A remote object a push would overwrite or delete although it may hold a change the
    /// store has not seen. Refused unless the plan is made with `force`.
    public struct Conflict: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Reason: String, Sendable, Hashable, Codable {
            /// Its `updatedDateTime` moved since the last sync.
            case changedRemotely
            /// Never synced: it was made in Vision One, not by a push of this store (or the
            /// push that made it was cut short before its state was saved, and it has changed
            /// since).
            case neverSynced
            /// The remote object with this name is not the one synced: deleted and made again.
            case replacedRemotely
            /// Deleted in Vision One since the last sync, and still in the store: a push would
            /// make it again.
            case deletedRemotely
        }

        public let kind: RemoteObjectKind
        public let name: String
        /// The remote object's id; for ``Reason/deletedRemotely``, the id it had.
        public let remoteID: String
        /// The step the conflict holds back: `modify`, `create` (of an object deleted
        /// remotely), or `delete` with `prune`.
        public let action: Step.Action
        public let reason: Reason
        /// The `updatedDateTime` recorded at the last sync.
        public let syncedUpdatedDateTime: String?
        /// The `updatedDateTime` Vision One shows now.
        public let remoteUpdatedDateTime: String?

        public init(
            kind: RemoteObjectKind, name: String, remoteID: String, action: Step.Action, reason: Reason,
            syncedUpdatedDateTime: String?, remoteUpdatedDateTime: String?
        ) {
            self.kind = kind
            self.name = name
            self.remoteID = remoteID
            self.action = action
            self.reason = reason
            self.syncedUpdatedDateTime = syncedUpdatedDateTime
            self.remoteUpdatedDateTime = remoteUpdatedDateTime
        }

        public var description: String {
            let now = remoteUpdatedDateTime.map { escaped($0) } ?? "unknown"
            let what: String
            switch reason {
            case .changedRemotely:
                what = "changed in Vision One since the last sync (synced \(syncedUpdatedDateTime.map { escaped($0) } ?? "unknown"), now \(now))"
            case .neverSynced:
                what = "exists in Vision One (id \(escaped(remoteID)), updated \(now)) but was never synced with this store"
            case .replacedRemotely:
                what = "was deleted and made again in Vision One since the last sync (now id \(escaped(remoteID)))"
            case .deletedRemotely:
                what = "was deleted in Vision One since the last sync (it had id \(escaped(remoteID)))"
            }
            let outcome: String
            switch action {
            case .create: outcome = "and the store still has it; pull to delete it here too, or push with force to make it again"
            case .modify: outcome = "and differs from the store; pull it first, or push with force to overwrite it"
            case .delete: outcome = "and the store no longer has it; pull to keep it, or push with force to delete it"
            }
            return "! conflict \(kind) \(escaped(name)): \(what), \(outcome)"
        }
    }

    /// Something reported and left alone.
    public struct Finding: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Issue: String, Sendable, Hashable, Codable {
            /// The remote name breaks the product's name rules: never touched.
            case invalidRemoteName
            /// Several remote objects have this name ignoring letter case: none is touched.
            case ambiguousRemoteName
            /// The store and Vision One spell the name with different letter case; names never
            /// change, so the object is not touched.
            case letterCaseDiffers
            /// Parts only Kubernetes clusters use: kept as they are, not compared.
            case kubernetesOnlyParts
            /// Only in Vision One; a push with `prune` would delete it.
            case remoteOnly
            /// `prune` would delete it, but it is still in use (by a policy left as is, or a
            /// cluster's assignment).
            case deletionBlocked
            /// A remote policy links a ruleset id that no listed ruleset has.
            case unknownRulesetLink
            /// A policy of the store links a ruleset that has no usable remote counterpart (its
            /// remote name is ambiguous or differs in letter case): the policy is not pushed.
            case linkUnavailable
        }

        public let kind: RemoteObjectKind
        public let name: String
        public let remoteID: String?
        public let issue: Issue
        /// What, why and what to do.
        public let detail: String

        public init(kind: RemoteObjectKind, name: String, remoteID: String?, issue: Issue, detail: String) {
            self.kind = kind
            self.name = name
            self.remoteID = remoteID
            self.issue = issue
            self.detail = detail
        }

        public var description: String {
            let id = remoteID.map { " (id \(escaped($0)))" } ?? ""
            return "? \(kind) \(quotedName(name))\(id): \(detail)"
        }
    }

    /// Bookkeeping a push applies to ``SyncState`` without any request.
    public struct StateUpdate: Sendable, Hashable, Codable {
        public enum Action: String, Sendable, Hashable, Codable {
            /// The object is the same on both sides: remember its remote id and timestamp.
            case record
            /// The object is on neither side any more.
            case forget
        }

        public let kind: RemoteObjectKind
        public let name: String
        public let action: Action
        public let remoteID: String?
        public let updatedDateTime: String?

        public init(kind: RemoteObjectKind, name: String, action: Action, remoteID: String? = nil, updatedDateTime: String? = nil) {
            self.kind = kind
            self.name = name
            self.action = action
            self.remoteID = remoteID
            self.updatedDateTime = updatedDateTime
        }
    }

    /// In the order a push applies them: rulesets created, rulesets modified, policies
    /// created, policies modified, then (with `prune`) policies deleted and rulesets deleted.
    public let steps: [Step]
    /// Sorted by kind and name. A plan with conflicts is refused unless made with `force`.
    public let conflicts: [Conflict]
    /// Sorted by kind, name and issue.
    public let findings: [Finding]
    public let stateUpdates: [StateUpdate]
    /// Objects that match on both sides.
    public let unchanged: Int
    public let prune: Bool
    public let force: Bool
    /// The remote id of every ruleset the store has that Vision One has too, by the store's
    /// name: what a push links policies to (with the ids of the rulesets it creates).
    public let rulesetIDs: [String: String]

    public init(
        steps: [Step], conflicts: [Conflict], findings: [Finding], stateUpdates: [StateUpdate], unchanged: Int,
        prune: Bool, force: Bool, rulesetIDs: [String: String]
    ) {
        self.steps = steps
        self.conflicts = conflicts
        self.findings = findings
        self.stateUpdates = stateUpdates
        self.unchanged = unchanged
        self.prune = prune
        self.force = force
        self.rulesetIDs = rulesetIDs
    }

    /// Nothing to send and nothing in conflict: the remote side matches the store.
    public var isEmpty: Bool { steps.isEmpty && conflicts.isEmpty }

    /// A push of this plan is refused: there are conflicts and no `force`.
    public var isRefused: Bool { !conflicts.isEmpty && !force }

    public var description: String {
        (steps.map(\.description) + conflicts.map(\.description) + findings.map(\.description) + ["\(unchanged) unchanged"])
            .joined(separator: "\n")
    }
}
