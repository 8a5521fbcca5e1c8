import ContainerPolicyStore

/// The remote state as the store can hold it: a document to import, what was left out and
/// why, and the records to write once the document is imported. Pure, like the planner.
///
/// Left out, each with a ``SyncPlan/Finding``: objects whose name breaks the product's rules,
/// names several remote objects share ignoring letter case, and policies that link a ruleset
/// left out or not listed. Kubernetes-only parts are reported and not stored. Everything else
/// goes into the document as it is, so that importing it refuses what an import refuses.
///
/// ```swift
/// let pull = SyncPull(remote: remote, endpoint: endpoint)
/// print(try store.perform(.importDocument(pull.document, dryRun: true)))
/// ```
public struct SyncPull: Sendable, Hashable {
    /// Rulesets and policies sorted by name, rules by ID, links by name.
    public let document: PolicyDocument
    /// Sorted by kind, name and issue.
    public let findings: [SyncPlan.Finding]
    /// Every object of the document, as synced with `endpoint`.
    public let records: [SyncRecord]

    public init(remote: RemoteState, endpoint: String) {
        let rulesetIndex = RemoteIndex(remote.rulesets)
        let policyIndex = RemoteIndex(remote.policies)
        var findings = rulesetIndex.findings + policyIndex.findings
        let outcome = "they are not stored, and stay as they are in Vision One"

        var pulledNames: [String: String] = [:]
        var records: [SyncRecord] = []
        var rulesets: [PolicyDocument.RulesetEntry] = []
        for ruleset in rulesetIndex.unique.values.sorted(by: { NameRules.key($0.name) < NameRules.key($1.name) }) {
            if !ruleset.kubernetesOnlyParts.isEmpty {
                findings.append(kubernetesFinding(.ruleset, name: ruleset.name, id: ruleset.id, ruleset.kubernetesOnlyParts, outcome: outcome))
            }
            rulesets.append(PolicyDocument.RulesetEntry(name: ruleset.name, content: ruleset.content))
            pulledNames[ruleset.id] = ruleset.name
            records.append(SyncRecord(
                endpoint: endpoint, name: ruleset.name, remoteID: ruleset.id, remoteUpdatedDateTime: ruleset.lastModified,
                content: .ruleset(ruleset.content)))
        }
        let listed = Set(remote.rulesets.map(\.id))

        var policies: [PolicyDocument.PolicyEntry] = []
        for policy in policyIndex.unique.values.sorted(by: { NameRules.key($0.name) < NameRules.key($1.name) }) {
            if !policy.kubernetesOnlyParts.isEmpty {
                findings.append(kubernetesFinding(.policy, name: policy.name, id: policy.id, policy.kubernetesOnlyParts, outcome: outcome))
            }
            let missing = policy.rulesetLinks.filter { pulledNames[$0.id] == nil }
            guard missing.isEmpty else {
                let described = missing.map { link in
                    listed.contains(link.id)
                        ? "the ruleset id \(quoted(link.id)), which is left out (see its finding)"
                        : "the ruleset id \(quoted(link.id)), which no listed ruleset has"
                }
                findings.append(SyncPlan.Finding(
                    kind: .policy, name: policy.name, remoteID: policy.id, issue: .linkUnavailable,
                    detail: "links \(described.joined(separator: ", ")); the policy is not pulled, since the store could not hold it whole"))
                continue
            }
            var content = policy.content
            content.rulesets = sortedNames(policy.rulesetLinks.compactMap { pulledNames[$0.id] })
            policies.append(PolicyDocument.PolicyEntry(name: policy.name, content: content))
            records.append(SyncRecord(
                endpoint: endpoint, name: policy.name, remoteID: policy.id, remoteUpdatedDateTime: policy.lastModified,
                content: .policy(content)))
        }
        document = PolicyDocument(rulesets: rulesets, policies: policies)
        self.findings = sortedFindings(findings)
        self.records = records
    }
}

extension SyncPull {
    /// The problems an import found in ``document``, each named by the remote object it is
    /// about rather than by its place in a document the user never saw.
    public func problems(_ found: [DocumentProblem]) -> [PullProblem] {
        let ids = Dictionary(records.map { (recordKey($0.kind, $0.name), $0.remoteID) }, uniquingKeysWith: { first, _ in first })
        return found.map { problem in
            for (kind, prefix, names) in [(ObjectKind.ruleset, "rulesets[", document.rulesets.map(\.name)), (.policy, "policies[", document.policies.map(\.name))] {
                guard problem.path.hasPrefix(prefix), let close = problem.path.firstIndex(of: "]"),
                      let index = Int(problem.path[problem.path.index(problem.path.startIndex, offsetBy: prefix.count)..<close]),
                      names.indices.contains(index)
                else { continue }
                let field = problem.path[problem.path.index(after: close)...].drop { $0 == "." }
                return PullProblem(
                    kind: kind, name: names[index], remoteID: ids[recordKey(kind, names[index])], field: String(field),
                    value: problem.value, message: problem.message)
            }
            return PullProblem(kind: nil, name: nil, remoteID: nil, field: problem.path, value: problem.value, message: problem.message)
        }
    }
}

/// One reason a pull was refused: a problem an import finds in what Vision One holds, named
/// by the remote object.
///
/// ```text
/// ruleset "baseline" (id rs-7), rules[0].id "TM-1": is not a managed rule ID: write TM- followed by 8 digits, like TM-00000001
/// ```
public struct PullProblem: Sendable, Hashable, CustomStringConvertible {
    /// The object's kind and name; nil for a problem of the whole state.
    public let kind: ObjectKind?
    public let name: String?
    public let remoteID: String?
    /// Where in the object, in the API's field names (`rules[0].id`); empty for the object.
    public let field: String
    /// The offending value as an import shows it (`DocumentProblem.value`), when there is one.
    public let value: String?
    /// What is wrong and what to do, as an import says it.
    public let message: String

    public init(kind: ObjectKind?, name: String?, remoteID: String?, field: String, value: String? = nil, message: String) {
        self.kind = kind
        self.name = name
        self.remoteID = remoteID
        self.field = field
        self.value = value
        self.message = message
    }

    public var description: String {
        var object = ""
        if let kind, let name { object = "\(kind) \(quoted(name))" + (remoteID.map { " (id \(escaped($0)))" } ?? "") }
        let place = [object, field].filter { !$0.isEmpty }.joined(separator: ", ") + (value.map { " " + $0 } ?? "")
        return (place.isEmpty ? "" : place + ": ") + message
    }
}
