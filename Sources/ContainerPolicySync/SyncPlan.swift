import ContainerPolicyStore

/// What a push would do to Vision One to make it match the store, as
/// ``SyncPlanner/plan(local:remote:records:endpoint:prune:force:)`` computes it: the steps in
/// the order they are applied, each shaped as a step of the store's `ImportPlan`; the
/// conflicts that refuse the push; what is reported and left alone; and the bookkeeping a push
/// writes to the store before its first request.
///
/// ```text
/// + create ruleset strict
/// ~ modify ruleset baseline: rules +TM-00000003:log -TM-00000002 ~TM-00000001:terminate
/// + create policy web.staging
/// ~ modify policy web.prod: description, rulesets +strict -legacy
/// - delete policy old.test
/// ! conflict policy api: changed in Vision One since the last sync (synced ..., now ...) and in the store; ...
/// ? policy "web prod" (id 7f3a): the policy name "web prod" contains a space at position 4: ...
/// 4 unchanged
/// ```
public struct SyncPlan: Sendable, Hashable, Encodable, CustomStringConvertible {
    /// One change to one remote object.
    public struct Step: Sendable, Hashable, Encodable, CustomStringConvertible {
        /// A policy or a ruleset.
        public let kind: ObjectKind
        /// The name, as the store has it (as Vision One has it, for a delete).
        public let name: String
        /// What the step does, as an import's step says it: create with this content, modify
        /// exactly these fields, links and rules, or delete.
        public let action: ImportPlan.Step.Action
        /// The content both sides have once the step is done (the store's); nil for a delete.
        public let content: RecordedContent?
        /// The remote object modified or deleted; nil for a create.
        public let remoteID: String?
        /// The remote `updatedDateTime` the plan saw. A push refuses to modify or delete an
        /// object whose timestamp has moved since.
        public let remoteUpdatedDateTime: String?
        /// True when the plan was made with `force` and the step goes ahead over a conflict or
        /// over a change made only in Vision One.
        public let forced: Bool

        public init(
            kind: ObjectKind, name: String, action: ImportPlan.Step.Action, content: RecordedContent?, remoteID: String? = nil,
            remoteUpdatedDateTime: String? = nil, forced: Bool = false
        ) {
            self.kind = kind
            self.name = name
            self.action = action
            self.content = content
            self.remoteID = remoteID
            self.remoteUpdatedDateTime = remoteUpdatedDateTime
            self.forced = forced
        }

        /// The step as an import plan has it.
        public var importStep: ImportPlan.Step { ImportPlan.Step(kind: kind, name: name, action: action) }

        public var description: String {
            importStep.description + (forced ? " (forced)" : "")
        }

        private enum Key: String, CodingKey { case remoteId, remoteUpdatedDateTime, forced }

        /// An import plan's step (`action`, `kind`, `name`, then `content` or `changes`), then
        /// `remoteId` and `remoteUpdatedDateTime` for a step on an existing remote object, and
        /// `forced`.
        public func encode(to encoder: any Encoder) throws {
            try importStep.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encodeIfPresent(remoteID, forKey: .remoteId)
            try container.encodeIfPresent(remoteUpdatedDateTime, forKey: .remoteUpdatedDateTime)
            try container.encode(forced, forKey: .forced)
        }
    }

    /// A remote object a push would overwrite, delete or make again although a change may be
    /// lost: changed on both sides since the last sync, or never synced. Refused unless the
    /// plan is made with `force`.
    public struct Conflict: Sendable, Hashable, Encodable, CustomStringConvertible {
        public enum Reason: String, Sendable, Hashable, Codable {
            /// Changed in Vision One since the last sync (its `updatedDateTime` moved and its
            /// content differs from the one synced), and in the store too.
            case changedOnBothSides
            /// Both sides have it and they differ, and this store never synced it with this
            /// endpoint: nothing tells which side is right.
            case neverSynced
            /// The remote object with this name is not the one synced: deleted and made again.
            case replacedRemotely
            /// Deleted in Vision One since the last sync, and changed in the store since.
            case deletedRemotely
        }

        /// What the push would do.
        public enum Action: String, Sendable, Hashable, Codable {
            /// Make again an object deleted remotely.
            case create
            case modify
            /// With `prune`.
            case delete
        }

        public let kind: ObjectKind
        public let name: String
        /// The remote object's id; for ``Reason/deletedRemotely``, the id it had.
        public let remoteID: String
        public let action: Action
        public let reason: Reason
        /// The `updatedDateTime` recorded at the last sync.
        public let syncedUpdatedDateTime: String?
        /// The `updatedDateTime` Vision One shows now.
        public let remoteUpdatedDateTime: String?

        public init(
            kind: ObjectKind, name: String, remoteID: String, action: Action, reason: Reason, syncedUpdatedDateTime: String?,
            remoteUpdatedDateTime: String?
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
            let now = remoteUpdatedDateTime.map(escaped) ?? "unknown"
            let synced = syncedUpdatedDateTime.map(escaped) ?? "unknown"
            let id = escaped(remoteID)
            let what: String
            switch reason {
            case .changedOnBothSides:
                what = "changed in Vision One since the last sync (synced \(synced), now \(now)) and \(action == .delete ? "deleted" : "changed") in the store"
            case .neverSynced:
                what = "exists in Vision One (id \(id), updated \(now)) but was never synced with this store, and the two differ"
            case .replacedRemotely:
                what = "was deleted and made again in Vision One since the last sync (now id \(id)), and the two differ"
            case .deletedRemotely:
                what = "was deleted in Vision One since the last sync (it had id \(id)) and changed in the store"
            }
            let outcome: String
            switch action {
            case .create: outcome = "a push would make it again: pull to delete it here too, or push with force to make it again"
            case .delete: outcome = "a push would delete it: pull to keep it, or push with force to delete it"
            case .modify: outcome = "a push would overwrite it: pull it first, or push with force to overwrite it"
            }
            return "! conflict \(kind) \(name): \(what); \(outcome)"
        }

        public func encode(to encoder: any Encoder) throws {
            try encoder.encodeMembers([
                "kind": kind, "name": name, "remoteId": remoteID, "action": action, "reason": reason,
                "syncedUpdatedDateTime": syncedUpdatedDateTime, "remoteUpdatedDateTime": remoteUpdatedDateTime,
            ])
        }
    }

    /// Something reported and left alone.
    public struct Finding: Sendable, Hashable, Encodable, CustomStringConvertible {
        public enum Issue: String, Sendable, Hashable, Codable {
            /// The remote name breaks the product's name rules: never touched.
            case invalidRemoteName
            /// Several remote objects have this name ignoring letter case: none is touched.
            case ambiguousRemoteName
            /// The store and Vision One spell the name with different letter case; names never
            /// change, so the object is not touched.
            case letterCaseDiffers
            /// Parts only Kubernetes clusters use: kept as they are, not compared, not stored.
            case kubernetesOnlyParts
            /// Changed in Vision One since the last sync, not in the store: left as it is
            /// there (a pull takes the change; a push with `force` overwrites it).
            case changedRemotely
            /// Deleted in Vision One since the last sync, not changed in the store: not made
            /// again (a pull with `prune` deletes it here; a push with `force` makes it again).
            case deletedRemotely
            /// Only in Vision One; a push with `prune` would delete it.
            case remoteOnly
            /// `prune` would delete it, but it is still in use (by a policy left as is, or a
            /// cluster's assignment).
            case deletionBlocked
            /// A remote policy links a ruleset id that no listed ruleset has: that link is not
            /// compared, and not pulled.
            case unknownRulesetLink
            /// A policy links a ruleset that is not available on the other side (its remote name
            /// is ambiguous, differs in letter case, or it is left out): the policy waits.
            case linkUnavailable
        }

        public let kind: ObjectKind
        public let name: String
        public let remoteID: String?
        public let issue: Issue
        /// What, why and what to do.
        public let detail: String

        public init(kind: ObjectKind, name: String, remoteID: String?, issue: Issue, detail: String) {
            self.kind = kind
            self.name = name
            self.remoteID = remoteID
            self.issue = issue
            self.detail = detail
        }

        public var description: String {
            "? \(kind) \(quoted(name))\(remoteID.map { " (id \(escaped($0)))" } ?? ""): \(detail)"
        }

        public func encode(to encoder: any Encoder) throws {
            try encoder.encodeMembers(["kind": kind, "name": name, "remoteId": remoteID, "issue": issue, "detail": detail])
        }
    }

    /// The tenant the plan is for.
    public let endpoint: String
    /// In the order a push applies them: rulesets created, rulesets modified, policies
    /// created, policies modified, then (with `prune`) policies deleted and rulesets deleted.
    public let steps: [Step]
    /// Sorted by kind and name. A plan with conflicts is refused unless made with `force`.
    public let conflicts: [Conflict]
    /// Sorted by kind, name and issue.
    public let findings: [Finding]
    /// Objects that match on both sides.
    public let unchanged: Int
    /// False for a plan; true for the plan a push carried out.
    public let applied: Bool
    /// Objects found equal on both sides whose record the store lacks or has out of date:
    /// a push records them before its first request (a push cut short after a create, before
    /// recording it, is resumed so).
    public let records: [SyncRecord]
    /// Records of objects gone from both sides: a push forgets them.
    public let forgotten: [SyncRecord]
    /// The remote id of each ruleset both sides have, by the store's name: what a push links
    /// policies to, besides the rulesets it creates.
    public let rulesetIDs: [String: String]
    public let prune: Bool
    public let force: Bool

    public init(
        endpoint: String, steps: [Step], conflicts: [Conflict], findings: [Finding], unchanged: Int, applied: Bool = false,
        records: [SyncRecord] = [], forgotten: [SyncRecord] = [], rulesetIDs: [String: String] = [:], prune: Bool = false,
        force: Bool = false
    ) {
        self.endpoint = endpoint
        self.steps = steps
        self.conflicts = conflicts
        self.findings = findings
        self.unchanged = unchanged
        self.applied = applied
        self.records = records
        self.forgotten = forgotten
        self.rulesetIDs = rulesetIDs
        self.prune = prune
        self.force = force
    }

    /// Nothing to send and nothing in conflict: Vision One matches the store.
    public var isEmpty: Bool { steps.isEmpty && conflicts.isEmpty }

    /// A push of this plan is refused: there are conflicts and no `force`.
    public var isRefused: Bool { !conflicts.isEmpty && !force }

    /// The same plan, carried out.
    var carriedOut: SyncPlan {
        SyncPlan(
            endpoint: endpoint, steps: steps, conflicts: conflicts, findings: findings, unchanged: unchanged, applied: true,
            records: records, forgotten: forgotten, rulesetIDs: rulesetIDs, prune: prune, force: force)
    }

    public var description: String {
        (steps.map(\.description) + conflicts.map(\.description) + findings.map(\.description) + ["\(unchanged) unchanged"])
            .joined(separator: "\n")
    }

    /// `endpoint`, then an import plan's `steps`, `unchanged` and `applied`, then `conflicts`
    /// and `findings`.
    public func encode(to encoder: any Encoder) throws {
        try encoder.encodeMembers([
            "endpoint": endpoint, "steps": steps, "unchanged": unchanged, "applied": applied, "conflicts": conflicts,
            "findings": findings,
        ])
    }
}
