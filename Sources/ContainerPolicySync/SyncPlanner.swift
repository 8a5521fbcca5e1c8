import ContainerPolicyStore

/// Computes what a push must do to make Vision One match the store. Pure: no network, no
/// database; the same inputs give the same plan.
///
/// - Objects are matched by name, ignoring ASCII letter case; a name on one side only is a
///   create (or, with `prune`, a delete), never a rename.
/// - Contents compare as sets once the server's defaults are filled: rules keyed by rule id
///   (mitigation `log` when absent), linked rulesets by name; list order never matters.
/// - A remote object whose name breaks the product's rules is reported and never touched;
///   Kubernetes-only parts (`default.rules`, `default.exceptions`, `namespaced`, ruleset
///   labels) are reported and kept as they are.
/// - Drift: an object that differs on the two sides is a ``SyncPlan/Conflict`` when its remote
///   `updatedDateTime` is not the one ``SyncState`` recorded at the last sync (or there is no
///   record), so that a push never silently overwrites a change made in the console. `force`
///   plans the step anyway.
///
/// ```swift
/// let local = try store.perform(.exportDocument())
/// let plan = try SyncPlanner.plan(
///     local: local,
///     remotePolicies: try await client.listPolicies(),
///     remoteRulesets: try await client.listRulesets(),
///     state: state)
/// print(plan)
/// ```
public enum SyncPlanner {
    /// The plan for `local` against the remote objects. Throws
    /// ``PolicyStoreError/invalidDocument(_:)`` when `local` breaks the product's rules (a
    /// store's export never does).
    public static func plan(
        local: PolicyDocument,
        remotePolicies: [RemotePolicy],
        remoteRulesets: [RemoteRuleset],
        state: SyncState,
        clusters: [RemoteECSCluster] = [],
        prune: Bool = false,
        force: Bool = false
    ) throws(PolicyStoreError) -> SyncPlan {
        var planner = Planner(state: state, prune: prune, force: force)
        try planner.checkLocal(local)
        return planner.plan(local: local, remotePolicies: remotePolicies, remoteRulesets: remoteRulesets, clusters: clusters)
    }
}

/// The remote objects of one kind with names the store could hold, by lowercased name, and
/// the findings about the others: names that break the rules, and names several objects share.
struct RemoteIndex<Object> {
    /// Exactly one remote object has this name (ignoring case).
    private(set) var unique: [String: Object] = [:]
    /// Lowercased names that several remote objects share.
    private(set) var ambiguous: Set<String> = []
    private(set) var findings: [SyncPlan.Finding] = []

    init(_ objects: [Object], kind: RemoteObjectKind, name: KeyPath<Object, String>, id: KeyPath<Object, String>) {
        var groups: [String: [Object]] = [:]
        for object in objects {
            if let problem = SyncText.nameProblem(object[keyPath: name]) {
                findings.append(SyncPlan.Finding(
                    kind: kind, name: object[keyPath: name], remoteID: object[keyPath: id], issue: .invalidRemoteName,
                    detail: "\(SyncText.explain(problem)): it breaks the product's name rules, so it is left untouched (rename it in the console to manage it here)"))
                continue
            }
            groups[asciiLowercased(object[keyPath: name]), default: []].append(object)
        }
        for (key, group) in groups {
            if group.count == 1 {
                unique[key] = group[0]
                continue
            }
            ambiguous.insert(key)
            let names = group.map { quotedName($0[keyPath: name]) + " (id " + escaped($0[keyPath: id]) + ")" }.sorted()
            findings.append(SyncPlan.Finding(
                kind: kind, name: group[0][keyPath: name], remoteID: nil, issue: .ambiguousRemoteName,
                detail: "\(group.count) objects in Vision One have this name ignoring letter case: \(names.joined(separator: ", ")); none is touched until all but one are renamed or deleted in the console"))
        }
    }
}

func kubernetesFinding(_ kind: RemoteObjectKind, name: String, id: String, _ parts: [UnsupportedFeature], outcome: String) -> SyncPlan.Finding {
    SyncPlan.Finding(
        kind: kind, name: name, remoteID: id, issue: .kubernetesOnlyParts,
        detail: "has \(parts.map(SyncText.explain).joined(separator: ", ")), which only Kubernetes clusters use and the store does not hold; \(outcome)")
}

/// Findings sorted by kind, name, issue and id: a stable order.
func sortedFindings(_ findings: [SyncPlan.Finding]) -> [SyncPlan.Finding] {
    findings.sorted {
        ($0.kind.rawValue, asciiLowercased($0.name), $0.issue.rawValue, $0.remoteID ?? "")
            < ($1.kind.rawValue, asciiLowercased($1.name), $1.issue.rawValue, $1.remoteID ?? "")
    }
}

private struct Planner {
    let state: SyncState
    let prune: Bool
    let force: Bool

    var findings: [SyncPlan.Finding] = []
    var conflicts: [SyncPlan.Conflict] = []
    var stateUpdates: [SyncPlan.StateUpdate] = []
    var unchanged = 0

    init(state: SyncState, prune: Bool, force: Bool) {
        self.state = state
        self.prune = prune
        self.force = force
    }

    func checkLocal(_ local: PolicyDocument) throws(PolicyStoreError) {
        var problems = local.validationProblems()
        let rulesets = Set(local.rulesets.map { asciiLowercased($0.name) })
        for (index, policy) in local.policies.enumerated() {
            for (link, name) in policy.rulesets.enumerated() where !rulesets.contains(asciiLowercased(name)) {
                problems.append(DocumentProblem(
                    path: "policies[\(index)].runtime.rulesets[\(link)].name",
                    message: "the ruleset \(quotedName(name)) is not in the document; add it to the document's rulesets"))
            }
        }
        if !problems.isEmpty { throw .invalidDocument(problems) }
    }

    mutating func plan(
        local: PolicyDocument, remotePolicies: [RemotePolicy], remoteRulesets: [RemoteRuleset], clusters: [RemoteECSCluster]
    ) -> SyncPlan {
        let rulesetIndex = RemoteIndex(remoteRulesets, kind: .ruleset, name: \.name, id: \.id)
        let policyIndex = RemoteIndex(remotePolicies, kind: .policy, name: \.name, id: \.id)
        findings += rulesetIndex.findings + policyIndex.findings
        let rulesetNamesByID = Dictionary(remoteRulesets.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        for ruleset in rulesetIndex.unique.values where !ruleset.kubernetesOnlyParts.isEmpty {
            reportKubernetesParts(.ruleset, name: ruleset.name, id: ruleset.id, ruleset.kubernetesOnlyParts)
        }
        for policy in policyIndex.unique.values where !policy.kubernetesOnlyParts.isEmpty {
            reportKubernetesParts(.policy, name: policy.name, id: policy.id, policy.kubernetesOnlyParts)
        }

        // Rulesets first: the policies' links depend on which rulesets will exist remotely.
        var rulesetCreates: [SyncPlan.Step] = []
        var rulesetModifies: [SyncPlan.Step] = []
        var linkable: Set<String> = []
        var rulesetIDs: [String: String] = [:]
        let localRulesets = local.rulesets.sorted { asciiLowercased($0.name) < asciiLowercased($1.name) }
        for entry in localRulesets {
            let key = asciiLowercased(entry.name)
            if rulesetIndex.ambiguous.contains(key) { continue }
            guard let remote = rulesetIndex.unique[key] else {
                if let step = createStep(.ruleset, name: entry.name, ruleset: rulesetContent(entry)) {
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
            if let change = rulesetChange(from: remote, to: entry) {
                if let step = modifyStep(.ruleset, name: entry.name, id: remote.id, lastModified: remote.lastModified, ruleset: change) {
                    rulesetModifies.append(step)
                }
            } else {
                matched(.ruleset, name: entry.name, id: remote.id, lastModified: remote.lastModified)
            }
        }

        var policyCreates: [SyncPlan.Step] = []
        var policyModifies: [SyncPlan.Step] = []
        /// What each remote policy links once the plan is applied, by remote id.
        var linksAfter: [String: Set<String>] = [:]
        for policy in remotePolicies { linksAfter[policy.id] = Set(policy.rulesets.map(\.id)) }
        let localRulesetsByKey = Dictionary(localRulesets.map { (asciiLowercased($0.name), $0.name) }, uniquingKeysWith: { first, _ in first })
        let localPolicies = local.policies.sorted { asciiLowercased($0.name) < asciiLowercased($1.name) }
        for entry in localPolicies {
            let key = asciiLowercased(entry.name)
            if policyIndex.ambiguous.contains(key) { continue }
            let unavailable = entry.rulesets.filter { !linkable.contains(asciiLowercased($0)) }
            if !unavailable.isEmpty {
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: entry.name, remoteID: policyIndex.unique[key]?.id, issue: .linkUnavailable,
                    detail: "links \(unavailable.map(quotedName).joined(separator: ", ")), which will not exist in Vision One as the store has it (see that ruleset's finding or conflict); the policy is not pushed until that is resolved"))
                continue
            }
            let linkNames = sortedUnique(entry.rulesets.map { localRulesetsByKey[asciiLowercased($0)] ?? $0 })
            guard let remote = policyIndex.unique[key] else {
                let content = SyncPlan.PolicyChange(
                    description: entry.description, xdrEnabled: entry.xdrEnabled, rulesets: linkNames, rulesetsAdded: linkNames)
                if let step = createStep(.policy, name: entry.name, policy: content) { policyCreates.append(step) }
                continue
            }
            guard remote.name == entry.name else {
                reportLetterCase(.policy, local: entry.name, remote: remote.name, id: remote.id)
                continue
            }
            let change = policyChange(from: remote, to: entry, linkNames: linkNames, rulesetNamesByID: rulesetNamesByID)
            guard let change else {
                matched(.policy, name: entry.name, id: remote.id, lastModified: remote.lastModified)
                continue
            }
            if let step = modifyStep(.policy, name: entry.name, id: remote.id, lastModified: remote.lastModified, policy: change) {
                policyModifies.append(step)
                if change.rulesets != nil {
                    // Links to rulesets created by this push have no id yet; none of those
                    // can be a ruleset that pruning would delete, so they are left out here.
                    linksAfter[remote.id] = Set(linkNames.compactMap { rulesetIDs[$0] })
                }
            }
        }

        // Remote only.
        let localPolicyKeys = Set(localPolicies.map { asciiLowercased($0.name) })
        let localRulesetKeys = Set(localRulesets.map { asciiLowercased($0.name) })
        var policyDeletes: [SyncPlan.Step] = []
        for (key, remote) in policyIndex.unique.sorted(by: { $0.key < $1.key }) where !localPolicyKeys.contains(key) {
            guard prune else {
                reportRemoteOnly(.policy, name: remote.name, id: remote.id)
                continue
            }
            let assigned = clusters.filter { $0.policyID == remote.id }
            guard assigned.isEmpty else {
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: remote.name, remoteID: remote.id, issue: .deletionBlocked,
                    detail: "prune would delete it, but it is assigned to \(assigned.map { quotedName($0.name ?? $0.id) }.joined(separator: ", ")); you cannot delete active policies: assign those clusters another policy first"))
                continue
            }
            if let step = deleteStep(.policy, name: remote.name, id: remote.id, lastModified: remote.lastModified) {
                policyDeletes.append(step)
                linksAfter[remote.id] = []
            }
        }
        var rulesetDeletes: [SyncPlan.Step] = []
        let remotePolicyNames = Dictionary(remotePolicies.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        for (key, remote) in rulesetIndex.unique.sorted(by: { $0.key < $1.key }) where !localRulesetKeys.contains(key) {
            guard prune else {
                reportRemoteOnly(.ruleset, name: remote.name, id: remote.id)
                continue
            }
            let users = linksAfter.filter { $0.value.contains(remote.id) }.keys.compactMap { remotePolicyNames[$0] }.sorted()
            guard users.isEmpty else {
                findings.append(SyncPlan.Finding(
                    kind: .ruleset, name: remote.name, remoteID: remote.id, issue: .deletionBlocked,
                    detail: "prune would delete it, but \(users.count == 1 ? "the policy" : "the policies") \(users.map(quotedName).joined(separator: ", ")), left as \(users.count == 1 ? "it is" : "they are"), still \(users.count == 1 ? "links" : "link") it"))
                continue
            }
            if let step = deleteStep(.ruleset, name: remote.name, id: remote.id, lastModified: remote.lastModified) {
                rulesetDeletes.append(step)
            }
        }

        for policy in remotePolicies {
            for link in policy.rulesets where rulesetNamesByID[link.id] == nil {
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: policy.name, remoteID: policy.id, issue: .unknownRulesetLink,
                    detail: "links the ruleset id \(quotedName(link.id))\(link.name.map { " (\(quotedName($0)))" } ?? ""), which no listed ruleset has"))
            }
        }

        forgetRecordsOfVanishedObjects(
            local: [.policy: localPolicyKeys, .ruleset: localRulesetKeys],
            remote: [.policy: Set(policyIndex.unique.keys).union(policyIndex.ambiguous),
                     .ruleset: Set(rulesetIndex.unique.keys).union(rulesetIndex.ambiguous)])

        return SyncPlan(
            steps: rulesetCreates + rulesetModifies + policyCreates + policyModifies + policyDeletes + rulesetDeletes,
            conflicts: conflicts.sorted { ($0.kind.rawValue, asciiLowercased($0.name)) < ($1.kind.rawValue, asciiLowercased($1.name)) },
            findings: sortedFindings(findings),
            stateUpdates: stateUpdates, unchanged: unchanged, prune: prune, force: force, rulesetIDs: rulesetIDs)
    }

    // MARK: Matching

    /// Records an object that matches, when the sync state does not know it as it is now.
    private mutating func matched(_ kind: RemoteObjectKind, name: String, id: String, lastModified: String?) {
        unchanged += 1
        let record = state[kind, name]
        if record?.remoteID != id || record?.updatedDateTime != lastModified || record?.name != name {
            stateUpdates.append(SyncPlan.StateUpdate(kind: kind, name: name, action: .record, remoteID: id, updatedDateTime: lastModified))
        }
    }

    /// Why overwriting or deleting this remote object could lose a change, if it could.
    private func drift(_ kind: RemoteObjectKind, name: String, id: String, lastModified: String?) -> SyncPlan.Conflict.Reason? {
        guard let record = state[kind, name] else { return .neverSynced }
        if record.remoteID != id { return .replacedRemotely }
        if record.updatedDateTime != lastModified { return .changedRemotely }
        return nil
    }

    /// A create. An object the last sync recorded that Vision One no longer has was deleted
    /// there since: making it again is a conflict.
    private mutating func createStep(
        _ kind: RemoteObjectKind, name: String, policy: SyncPlan.PolicyChange? = nil, ruleset: SyncPlan.RulesetChange? = nil
    ) -> SyncPlan.Step? {
        let record = state[kind, name]
        if let record {
            conflicts.append(SyncPlan.Conflict(
                kind: kind, name: name, remoteID: record.remoteID, action: .create, reason: .deletedRemotely,
                syncedUpdatedDateTime: record.updatedDateTime, remoteUpdatedDateTime: nil))
            guard force else { return nil }
        }
        return SyncPlan.Step(kind: kind, name: name, action: .create, policy: policy, ruleset: ruleset, overridesConflict: record != nil)
    }

    private mutating func modifyStep(
        _ kind: RemoteObjectKind, name: String, id: String, lastModified: String?,
        policy: SyncPlan.PolicyChange? = nil, ruleset: SyncPlan.RulesetChange? = nil
    ) -> SyncPlan.Step? {
        let reason = drift(kind, name: name, id: id, lastModified: lastModified)
        if let reason {
            conflicts.append(SyncPlan.Conflict(
                kind: kind, name: name, remoteID: id, action: .modify, reason: reason,
                syncedUpdatedDateTime: state[kind, name]?.updatedDateTime, remoteUpdatedDateTime: lastModified))
            guard force else { return nil }
        }
        return SyncPlan.Step(
            kind: kind, name: name, action: .modify, remoteID: id, remoteUpdatedDateTime: lastModified,
            policy: policy, ruleset: ruleset, overridesConflict: reason != nil)
    }

    /// A delete under `prune`. An object never synced may go (the plan lists it, and `prune`
    /// asks for it); one changed since its sync is a conflict.
    private mutating func deleteStep(_ kind: RemoteObjectKind, name: String, id: String, lastModified: String?) -> SyncPlan.Step? {
        let reason = state[kind, name] == nil ? nil : drift(kind, name: name, id: id, lastModified: lastModified)
        if let reason {
            conflicts.append(SyncPlan.Conflict(
                kind: kind, name: name, remoteID: id, action: .delete, reason: reason,
                syncedUpdatedDateTime: state[kind, name]?.updatedDateTime, remoteUpdatedDateTime: lastModified))
            guard force else { return nil }
        }
        return SyncPlan.Step(
            kind: kind, name: name, action: .delete, remoteID: id, remoteUpdatedDateTime: lastModified, overridesConflict: reason != nil)
    }

    private mutating func forgetRecordsOfVanishedObjects(local: [RemoteObjectKind: Set<String>], remote: [RemoteObjectKind: Set<String>]) {
        for record in state.records {
            let key = asciiLowercased(record.name)
            let here = local[record.kind]?.contains(key) ?? false
            let there = remote[record.kind]?.contains(key) ?? false
            if !here, !there {
                stateUpdates.append(SyncPlan.StateUpdate(kind: record.kind, name: record.name, action: .forget))
            }
        }
    }

    // MARK: Comparing

    private func rulesetContent(_ entry: PolicyDocument.RulesetEntry) -> SyncPlan.RulesetChange {
        let rules = entry.rules.sorted { $0.id < $1.id }
        return SyncPlan.RulesetChange(
            description: entry.description, rules: rules.map { RemoteRule(id: $0.id, mitigation: $0.mitigation) }, rulesAdded: rules)
    }

    /// The fields that differ, or nil when the ruleset matches.
    private func rulesetChange(from remote: RemoteRuleset, to entry: PolicyDocument.RulesetEntry) -> SyncPlan.RulesetChange? {
        // As sets: a rule the server lists twice counts once, with its first mitigation.
        var remoteRules: [String: RemoteRule] = [:]
        for rule in remote.rules where remoteRules[rule.id] == nil { remoteRules[rule.id] = rule }
        let localRules = entry.rules.sorted { $0.id < $1.id }
        let localIDs = Set(localRules.map(\.id))
        var change = SyncPlan.RulesetChange()
        if remote.description != entry.description { change.description = entry.description }
        change.rulesAdded = localRules.filter { remoteRules[$0.id] == nil }
        change.rulesRemoved = remoteRules.keys.filter { !localIDs.contains($0) }.sorted()
        change.rulesRemitigated = localRules.compactMap { rule in
            guard let old = remoteRules[rule.id], old.mitigation != rule.mitigation else { return nil }
            return SyncPlan.Remitigation(id: rule.id, from: old.mitigation, to: rule.mitigation)
        }
        if !change.rulesAdded.isEmpty || !change.rulesRemoved.isEmpty || !change.rulesRemitigated.isEmpty {
            change.rules = localRules.map { rule in
                RemoteRule(id: rule.id, mitigation: rule.mitigation, additionalFields: remoteRules[rule.id]?.additionalFields ?? [:])
            }
        }
        return change.description == nil && change.rules == nil ? nil : change
    }

    /// The fields that differ, or nil when the policy matches.
    private func policyChange(
        from remote: RemotePolicy, to entry: PolicyDocument.PolicyEntry, linkNames: [String], rulesetNamesByID: [String: String]
    ) -> SyncPlan.PolicyChange? {
        var change = SyncPlan.PolicyChange()
        if remote.description != entry.description { change.description = entry.description }
        if remote.xdrEnabled != entry.xdrEnabled { change.xdrEnabled = entry.xdrEnabled }
        let remoteLinks = remote.rulesets.map { link in rulesetNamesByID[link.id] ?? "id:" + link.id }
        let remoteKeys = Set(remoteLinks.map(asciiLowercased))
        let localKeys = Set(linkNames.map(asciiLowercased))
        change.rulesetsAdded = linkNames.filter { !remoteKeys.contains(asciiLowercased($0)) }
        change.rulesetsRemoved = sortedUnique(remoteLinks.filter { !localKeys.contains(asciiLowercased($0)) })
        if !change.rulesetsAdded.isEmpty || !change.rulesetsRemoved.isEmpty { change.rulesets = linkNames }
        return change.fields.isEmpty ? nil : change
    }

    // MARK: Reporting

    private mutating func reportKubernetesParts(_ kind: RemoteObjectKind, name: String, id: String, _ parts: [UnsupportedFeature]) {
        findings.append(kubernetesFinding(kind, name: name, id: id, parts, outcome: "kept as they are, and not compared"))
    }

    private mutating func reportLetterCase(_ kind: RemoteObjectKind, local: String, remote: String, id: String) {
        findings.append(SyncPlan.Finding(
            kind: kind, name: local, remoteID: id, issue: .letterCaseDiffers,
            detail: "Vision One has it as \(quotedName(remote)); names never change, not even in letter case, so it is not touched: make the names the same on both sides"))
    }

    private mutating func reportRemoteOnly(_ kind: RemoteObjectKind, name: String, id: String) {
        findings.append(SyncPlan.Finding(
            kind: kind, name: name, remoteID: id, issue: .remoteOnly,
            detail: "only in Vision One: pull to bring it into the store, or push with prune to delete it"))
    }
}

/// Names sorted ignoring letter case, each once.
private func sortedUnique(_ names: [String]) -> [String] {
    var seen: Set<String> = []
    return names.filter { seen.insert(asciiLowercased($0)).inserted }.sorted { asciiLowercased($0) < asciiLowercased($1) }
}
