import ContainerPolicyStore

/// The remote state as the store can hold it: a document to import, what was left out and
/// why, and the sync state to save once the document is imported.
///
/// Left out, each with a ``SyncPlan/Finding``: objects whose name breaks the product's rules,
/// names several remote objects share ignoring letter case, and policies that link a ruleset
/// left out or not listed. Kubernetes-only parts are reported and not stored. Everything else
/// goes into the document as it is, so that importing it refuses what an import refuses.
///
/// ```swift
/// let pull = SyncPull(remotePolicies: try await client.listPolicies(), remoteRulesets: try await client.listRulesets())
/// let plan = try store.perform(.importDocument(pull.document, prune: true, dryRun: true))
/// print(plan, pull.findings.map(\.description).joined(separator: "\n"))
/// ```
public struct SyncPull: Sendable, Hashable {
    /// Rulesets and policies sorted by name, rules by id, links by name.
    public let document: PolicyDocument
    /// Sorted by kind, name and issue.
    public let findings: [SyncPlan.Finding]
    /// The state after the document is imported: every object in it recorded as synced.
    public let state: SyncState

    public init(remotePolicies: [RemotePolicy], remoteRulesets: [RemoteRuleset]) {
        let rulesetIndex = RemoteIndex(remoteRulesets, kind: .ruleset, name: \.name, id: \.id)
        let policyIndex = RemoteIndex(remotePolicies, kind: .policy, name: \.name, id: \.id)
        var findings = rulesetIndex.findings + policyIndex.findings
        let outcome = "they are not stored, and stay as they are in Vision One"

        let rulesets = rulesetIndex.unique.values.sorted { asciiLowercased($0.name) < asciiLowercased($1.name) }
        var pulledNames: [String: String] = [:]
        var state = SyncState()
        var entries: [PolicyDocument.RulesetEntry] = []
        for ruleset in rulesets {
            if !ruleset.kubernetesOnlyParts.isEmpty {
                findings.append(kubernetesFinding(.ruleset, name: ruleset.name, id: ruleset.id, ruleset.kubernetesOnlyParts, outcome: outcome))
            }
            var seen: Set<String> = []
            let rules = ruleset.rules.filter { seen.insert($0.id).inserted }.map(\.reference).sorted { $0.id < $1.id }
            entries.append(PolicyDocument.RulesetEntry(name: ruleset.name, description: ruleset.description, rules: rules))
            pulledNames[ruleset.id] = ruleset.name
            state.record(.ruleset, name: ruleset.name, remoteID: ruleset.id, updatedDateTime: ruleset.lastModified)
        }
        let listed = Set(remoteRulesets.map(\.id))

        var policies: [PolicyDocument.PolicyEntry] = []
        for policy in policyIndex.unique.values.sorted(by: { asciiLowercased($0.name) < asciiLowercased($1.name) }) {
            if !policy.kubernetesOnlyParts.isEmpty {
                findings.append(kubernetesFinding(.policy, name: policy.name, id: policy.id, policy.kubernetesOnlyParts, outcome: outcome))
            }
            let missing = policy.rulesets.filter { pulledNames[$0.id] == nil }
            guard missing.isEmpty else {
                let described = missing.map { link in
                    listed.contains(link.id)
                        ? "the ruleset id \(quotedName(link.id)), which is left out (see its finding)"
                        : "the ruleset id \(quotedName(link.id)), which no listed ruleset has"
                }
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: policy.name, remoteID: policy.id, issue: .linkUnavailable,
                    detail: "links \(described.joined(separator: ", ")); the policy is not pulled, since the store could not hold it whole"))
                continue
            }
            var names: [String] = []
            for link in policy.rulesets {
                if let name = pulledNames[link.id], !names.contains(name) { names.append(name) }
            }
            policies.append(PolicyDocument.PolicyEntry(
                name: policy.name, description: policy.description, xdrEnabled: policy.xdrEnabled,
                rulesets: names.sorted { asciiLowercased($0) < asciiLowercased($1) }))
            state.record(.policy, name: policy.name, remoteID: policy.id, updatedDateTime: policy.lastModified)
        }
        document = PolicyDocument(rulesets: entries, policies: policies)
        self.findings = sortedFindings(findings)
        self.state = state
    }
}
