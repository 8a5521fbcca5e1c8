import ContainerPolicyStore

/// What Vision One holds: the policies and rulesets, and, for a plan with `prune`, the Amazon
/// ECS clusters (a policy assigned to one cannot be deleted).
public struct RemoteState: Sendable, Hashable {
    public var policies: [RemotePolicy]
    public var rulesets: [RemoteRuleset]
    public var clusters: [RemoteECSCluster]

    public init(policies: [RemotePolicy] = [], rulesets: [RemoteRuleset] = [], clusters: [RemoteECSCluster] = []) {
        self.policies = policies
        self.rulesets = rulesets
        self.clusters = clusters
    }
}

/// Computes what a push must do to make Vision One match the store. Pure: no network, no
/// database; the same inputs give the same plan.
///
/// - Objects are matched by name, ignoring ASCII letter case; a name on one side only is a
///   create (or, with `prune`, a delete), never a rename.
/// - Contents compare with the store's own diff, once the server's defaults are filled: rules
///   keyed by rule ID, linked rulesets by name; list order never matters. A modify step
///   carries exactly that diff.
/// - Three versions tell who changed what: the store's content, Vision One's, and the one
///   both had at the last sync (the `SyncRecord`). Changed in the store only: a step.
///   Changed in Vision One only (its `updatedDateTime` moved and its content differs from the
///   one synced): left as it is there and reported. Changed on both sides, or never synced:
///   a ``SyncPlan/Conflict``. `force` plans the step anyway.
/// - A remote object whose name breaks the product's rules is reported and never touched;
///   Kubernetes-only parts are reported and kept as they are.
///
/// ```swift
/// let plan = try SyncPlanner.plan(
///     local: try store.perform(.exportDocument()), remote: remote,
///     records: try store.perform(.syncRecords(endpoint: endpoint)), endpoint: endpoint)
/// print(plan)
/// ```
public enum SyncPlanner {
    /// The plan for `local` against `remote`. Throws `PolicyStoreError.invalidDocument`
    /// when `local` breaks the product's rules (a store's export never does).
    public static func plan(
        local: PolicyDocument, remote: RemoteState, records: [SyncRecord], endpoint: String, prune: Bool = false,
        force: Bool = false
    ) throws(PolicyStoreError) -> SyncPlan {
        try checkLocal(local)
        var planner = Planner(endpoint: endpoint, records: records, prune: prune, force: force)
        return planner.plan(local: local, remote: remote)
    }

    private static func checkLocal(_ local: PolicyDocument) throws(PolicyStoreError) {
        var problems = local.validationProblems()
        let rulesets = Set(local.rulesets.map { NameRules.key($0.name) })
        for (index, policy) in local.policies.enumerated() {
            for (link, name) in policy.rulesets.enumerated() where !rulesets.contains(NameRules.key(name)) {
                problems.append(DocumentProblem(
                    path: "policies[\(index)].runtime.rulesets[\(link)].name",
                    message: "the ruleset \(quoted(name)) is not in the document; add it to the document's rulesets"))
            }
        }
        if !problems.isEmpty { throw .invalidDocument(problems) }
    }
}

/// A record's key: its kind and name as the store compares names.
func recordKey(_ kind: ObjectKind, _ name: String) -> String {
    kind.rawValue + "/" + NameRules.key(name)
}

/// How one content becomes another, in the store's words.
func changes(from old: RecordedContent, to new: RecordedContent) -> ContentChanges {
    switch (old, new) {
    case (.policy(let old), .policy(let new)): return .policy(old.changes(to: new))
    case (.ruleset(let old), .ruleset(let new)): return .ruleset(old.changes(to: new))
    default: preconditionFailure("a policy's content compared with a ruleset's")
    }
}

private struct Planner {
    let endpoint: String
    let records: [String: SyncRecord]
    let prune: Bool
    let force: Bool

    var findings: [SyncPlan.Finding] = []
    var conflicts: [SyncPlan.Conflict] = []
    var recordsToWrite: [SyncRecord] = []
    var unchanged = 0

    init(endpoint: String, records: [SyncRecord], prune: Bool, force: Bool) {
        self.endpoint = endpoint
        self.records = Dictionary(records.map { (recordKey($0.kind, $0.name), $0) }, uniquingKeysWith: { first, _ in first })
        self.prune = prune
        self.force = force
    }

    mutating func plan(local: PolicyDocument, remote state: RemoteState) -> SyncPlan {
        let rulesetIndex = RemoteIndex(state.rulesets)
        let policyIndex = RemoteIndex(state.policies)
        findings += rulesetIndex.findings + policyIndex.findings
        let rulesetNamesByID = Dictionary(state.rulesets.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        for ruleset in rulesetIndex.unique.values where !ruleset.kubernetesOnlyParts.isEmpty {
            findings.append(kubernetesFinding(.ruleset, name: ruleset.name, id: ruleset.id, ruleset.kubernetesOnlyParts, outcome: "kept as they are, and not compared"))
        }
        for policy in policyIndex.unique.values where !policy.kubernetesOnlyParts.isEmpty {
            findings.append(kubernetesFinding(.policy, name: policy.name, id: policy.id, policy.kubernetesOnlyParts, outcome: "kept as they are, and not compared"))
        }

        // Rulesets first: the policies' links depend on which rulesets will exist remotely.
        var rulesetCreates: [SyncPlan.Step] = []
        var rulesetModifies: [SyncPlan.Step] = []
        var linkable: Set<String> = []
        var rulesetIDs: [String: String] = [:]
        let localRulesets = local.rulesets.sorted { NameRules.key($0.name) < NameRules.key($1.name) }
        for entry in localRulesets {
            let key = NameRules.key(entry.name)
            if rulesetIndex.ambiguous.contains(key) { continue }
            let content = RecordedContent.ruleset(entry.content)
            guard let remote = rulesetIndex.unique[key] else {
                if let step = create(.ruleset, name: entry.name, content) {
                    rulesetCreates.append(step)
                    linkable.insert(key)
                }
                continue
            }
            guard remote.name == entry.name else {
                reportLetterCase(.ruleset, local: entry.name, remote: remote.name, id: remote.id)
                continue
            }
            linkable.insert(key)
            rulesetIDs[entry.name] = remote.id
            if let step = compare(.ruleset, name: entry.name, id: remote.id, updated: remote.lastModified, remote: .ruleset(remote.content), local: content) {
                rulesetModifies.append(step)
            }
        }

        var policyCreates: [SyncPlan.Step] = []
        var policyModifies: [SyncPlan.Step] = []
        /// What each remote policy links once the plan is applied, by remote id.
        var linksAfter: [String: Set<String>] = [:]
        for policy in state.policies { linksAfter[policy.id] = Set(policy.rulesetLinks.map(\.id)) }
        let localRulesetNames = Dictionary(localRulesets.map { (NameRules.key($0.name), $0.name) }, uniquingKeysWith: { first, _ in first })
        for entry in local.policies.sorted(by: { NameRules.key($0.name) < NameRules.key($1.name) }) {
            let key = NameRules.key(entry.name)
            if policyIndex.ambiguous.contains(key) { continue }
            let unavailable = entry.rulesets.filter { !linkable.contains(NameRules.key($0)) }
            guard unavailable.isEmpty else {
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: entry.name, remoteID: policyIndex.unique[key]?.id, issue: .linkUnavailable,
                    detail: "links \(unavailable.map(quoted).joined(separator: ", ")), which will not exist in Vision One as the store has it (see that ruleset's finding or conflict); the policy is not pushed until that is resolved"))
                continue
            }
            var content = entry.content
            content.rulesets = sortedNames(content.rulesets.map { localRulesetNames[NameRules.key($0)] ?? $0 })
            guard let remote = policyIndex.unique[key] else {
                if let step = create(.policy, name: entry.name, .policy(content)) { policyCreates.append(step) }
                continue
            }
            guard remote.name == entry.name else {
                reportLetterCase(.policy, local: entry.name, remote: remote.name, id: remote.id)
                continue
            }
            var remoteContent = remote.content
            remoteContent.rulesets = remote.rulesetLinks.compactMap { rulesetNamesByID[$0.id] }
            if let step = compare(.policy, name: entry.name, id: remote.id, updated: remote.lastModified, remote: .policy(remoteContent), local: .policy(content)) {
                policyModifies.append(step)
                if case .modify(.policy(let changes)) = step.action, !changes.addedRulesets.isEmpty || !changes.removedRulesets.isEmpty {
                    // Links to rulesets this push creates have no id yet; none of those can be
                    // a ruleset that pruning would delete, so they are left out here.
                    linksAfter[remote.id] = Set(content.rulesets.compactMap { rulesetIDs[$0] })
                }
            }
        }

        // Remote only.
        let localPolicies = Set(local.policies.map { NameRules.key($0.name) })
        let localRulesetKeys = Set(localRulesets.map { NameRules.key($0.name) })
        var policyDeletes: [SyncPlan.Step] = []
        for (key, remote) in policyIndex.unique.sorted(by: { $0.key < $1.key }) where !localPolicies.contains(key) {
            guard prune else {
                reportRemoteOnly(.policy, name: remote.name, id: remote.id)
                continue
            }
            let assigned = state.clusters.filter { $0.policyID == remote.id }.map { quoted($0.name ?? $0.id) }
            guard assigned.isEmpty else {
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: remote.name, remoteID: remote.id, issue: .deletionBlocked,
                    detail: "prune would delete it, but it is assigned to \(assigned.joined(separator: ", ")); you cannot delete active policies: assign those clusters another policy first"))
                continue
            }
            var content = remote.content
            content.rulesets = remote.rulesetLinks.compactMap { rulesetNamesByID[$0.id] }
            if let step = delete(.policy, name: remote.name, id: remote.id, updated: remote.lastModified, remote: .policy(content)) {
                policyDeletes.append(step)
                linksAfter[remote.id] = []
            }
        }
        var rulesetDeletes: [SyncPlan.Step] = []
        let remotePolicyNames = Dictionary(state.policies.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        for (key, remote) in rulesetIndex.unique.sorted(by: { $0.key < $1.key }) where !localRulesetKeys.contains(key) {
            guard prune else {
                reportRemoteOnly(.ruleset, name: remote.name, id: remote.id)
                continue
            }
            let users = linksAfter.filter { $0.value.contains(remote.id) }.keys.compactMap { remotePolicyNames[$0] }.sorted()
            guard users.isEmpty else {
                let one = users.count == 1
                findings.append(SyncPlan.Finding(
                    kind: .ruleset, name: remote.name, remoteID: remote.id, issue: .deletionBlocked,
                    detail: "prune would delete it, but \(one ? "the policy" : "the policies") \(users.map(quoted).joined(separator: ", ")), left as \(one ? "it is" : "they are"), still \(one ? "links" : "link") it"))
                continue
            }
            if let step = delete(.ruleset, name: remote.name, id: remote.id, updated: remote.lastModified, remote: .ruleset(remote.content)) {
                rulesetDeletes.append(step)
            }
        }

        for policy in state.policies {
            for link in policy.rulesetLinks where rulesetNamesByID[link.id] == nil {
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: policy.name, remoteID: policy.id, issue: .unknownRulesetLink,
                    detail: "links the ruleset id \(quoted(link.id))\(link.name.map { " (\(quoted($0)))" } ?? ""), which no listed ruleset has; the link is not compared"))
            }
        }

        let here = Set(localPolicies.map { "policy/" + $0 } + localRulesetKeys.map { "ruleset/" + $0 })
        let there = Set(
            (Array(policyIndex.unique.keys) + policyIndex.ambiguous).map { "policy/" + $0 }
                + (Array(rulesetIndex.unique.keys) + rulesetIndex.ambiguous).map { "ruleset/" + $0 })
        let forgotten = records.filter { !here.contains($0.key) && !there.contains($0.key) }.values
            .sorted { recordKey($0.kind, $0.name) < recordKey($1.kind, $1.name) }

        return SyncPlan(
            endpoint: endpoint,
            steps: rulesetCreates + rulesetModifies + policyCreates + policyModifies + policyDeletes + rulesetDeletes,
            conflicts: conflicts.sorted { recordKey($0.kind, $0.name) < recordKey($1.kind, $1.name) },
            findings: sortedFindings(findings), unchanged: unchanged, records: recordsToWrite, forgotten: Array(forgotten),
            rulesetIDs: rulesetIDs, prune: prune, force: force)
    }

    // MARK: Deciding

    /// The record of the last sync, and the content it holds when it can be read.
    private func record(_ kind: ObjectKind, _ name: String) -> (record: SyncRecord, base: RecordedContent?)? {
        records[recordKey(kind, name)].map { ($0, $0.damage.isEmpty ? $0.content : nil) }
    }

    /// An object both sides have: nothing when they match (the record brought up to date),
    /// else a modify when the store's side changed alone, or a finding or conflict.
    private mutating func compare(
        _ kind: ObjectKind, name: String, id: String, updated: String?, remote: RecordedContent, local: RecordedContent
    ) -> SyncPlan.Step? {
        let difference = changes(from: remote, to: local)
        let synced = record(kind, name)
        guard !difference.isEmpty else {
            unchanged += 1
            let current = SyncRecord(endpoint: endpoint, name: name, remoteID: id, remoteUpdatedDateTime: updated, content: local)
            if let synced, synced.base.map({ changes(from: $0, to: local).isEmpty }) == true, synced.record.name == name,
               synced.record.remoteID == id, synced.record.remoteUpdatedDateTime == updated {
                return nil
            }
            recordsToWrite.append(current)
            return nil
        }
        var reason: SyncPlan.Conflict.Reason?
        var changedThereOnly = false
        if let synced, let base = synced.base {
            if synced.record.remoteID != id {
                reason = .replacedRemotely
            } else if synced.record.remoteUpdatedDateTime != updated, !changes(from: base, to: remote).isEmpty {
                if changes(from: base, to: local).isEmpty { changedThereOnly = true } else { reason = .changedOnBothSides }
            }
        } else {
            reason = .neverSynced
        }
        if let reason {
            conflicts.append(SyncPlan.Conflict(
                kind: kind, name: name, remoteID: id, action: .modify, reason: reason,
                syncedUpdatedDateTime: synced?.record.remoteUpdatedDateTime, remoteUpdatedDateTime: updated))
        }
        if changedThereOnly {
            findings.append(SyncPlan.Finding(
                kind: kind, name: name, remoteID: id, issue: .changedRemotely,
                detail: "changed in Vision One since the last sync (synced \(synced?.record.remoteUpdatedDateTime.map(escaped) ?? "unknown"), now \(updated.map(escaped) ?? "unknown")) and not in the store: left as it is there; pull to take the change, or push with force to overwrite it"))
        }
        let forced = reason != nil || changedThereOnly
        guard !forced || force else { return nil }
        return SyncPlan.Step(
            kind: kind, name: name, action: .modify(difference), content: local, remoteID: id, remoteUpdatedDateTime: updated, forced: forced)
    }

    /// An object the store has and Vision One has not. One the last sync recorded was deleted
    /// there since: made again only with `force`, and a conflict when the store changed it.
    private mutating func create(_ kind: ObjectKind, name: String, _ local: RecordedContent) -> SyncPlan.Step? {
        guard let synced = record(kind, name) else {
            return SyncPlan.Step(kind: kind, name: name, action: .create(local), content: local)
        }
        if let base = synced.base, changes(from: base, to: local).isEmpty {
            findings.append(SyncPlan.Finding(
                kind: kind, name: name, remoteID: synced.record.remoteID, issue: .deletedRemotely,
                detail: "deleted in Vision One since the last sync and not changed in the store: not made again; pull with prune to delete it here too, or push with force to make it again"))
        } else {
            conflicts.append(SyncPlan.Conflict(
                kind: kind, name: name, remoteID: synced.record.remoteID, action: .create, reason: .deletedRemotely,
                syncedUpdatedDateTime: synced.record.remoteUpdatedDateTime, remoteUpdatedDateTime: nil))
        }
        guard force else { return nil }
        return SyncPlan.Step(kind: kind, name: name, action: .create(local), content: local, forced: true)
    }

    /// A delete under `prune`. An object never synced, or made again since, may go (`prune`
    /// asks for it); the synced one changed there since its sync is a conflict.
    private mutating func delete(_ kind: ObjectKind, name: String, id: String, updated: String?, remote: RecordedContent) -> SyncPlan.Step? {
        var changedThere = false
        if let synced = record(kind, name), synced.record.remoteID == id, synced.record.remoteUpdatedDateTime != updated {
            changedThere = synced.base.map { !changes(from: $0, to: remote).isEmpty } ?? true
            if changedThere {
                conflicts.append(SyncPlan.Conflict(
                    kind: kind, name: name, remoteID: id, action: .delete, reason: .changedOnBothSides,
                    syncedUpdatedDateTime: synced.record.remoteUpdatedDateTime, remoteUpdatedDateTime: updated))
                guard force else { return nil }
            }
        }
        return SyncPlan.Step(
            kind: kind, name: name, action: .delete, content: nil, remoteID: id, remoteUpdatedDateTime: updated, forced: changedThere)
    }

    // MARK: Reporting

    private mutating func reportLetterCase(_ kind: ObjectKind, local: String, remote: String, id: String) {
        findings.append(SyncPlan.Finding(
            kind: kind, name: local, remoteID: id, issue: .letterCaseDiffers,
            detail: "Vision One has it as \(quoted(remote)); names never change, not even in letter case, so it is not touched: make the names the same on both sides"))
    }

    private mutating func reportRemoteOnly(_ kind: ObjectKind, name: String, id: String) {
        let synced = record(kind, name)?.record.remoteID == id
        findings.append(SyncPlan.Finding(
            kind: kind, name: name, remoteID: id, issue: .remoteOnly,
            detail: synced
                ? "deleted in the store since the last sync: push with prune to delete it in Vision One too, or pull to bring it back"
                : "only in Vision One: pull to bring it into the store, or push with prune to delete it"))
    }
}
