import ContainerPolicyStore

/// The remote objects of one kind with names the store could hold, by name key, and the
/// findings about the others: names that break the rules, and names several objects share.
struct RemoteIndex<Object: RemoteObject> {
    /// Exactly one remote object has this name (ignoring case).
    private(set) var unique: [String: Object] = [:]
    /// Name keys that several remote objects share.
    private(set) var ambiguous: Set<String> = []
    private(set) var findings: [SyncPlan.Finding] = []

    init(_ objects: [Object]) {
        let kind = Object.kind
        var groups: [String: [Object]] = [:]
        for object in objects {
            if let problem = NameRules.problem(in: object.name) {
                let refusal = PolicyStoreError.invalidName(kind, name: object.name, problem)
                findings.append(SyncPlan.Finding(
                    kind: kind, name: object.name, remoteID: object.id, issue: .invalidRemoteName,
                    detail: "\(refusal): the store cannot hold it, so it is left untouched (rename it in the console to manage it here)"))
                continue
            }
            groups[NameRules.key(object.name), default: []].append(object)
        }
        for (key, group) in groups {
            if group.count == 1 {
                unique[key] = group[0]
                continue
            }
            ambiguous.insert(key)
            let names = group.map { quoted($0.name) + " (id " + escaped($0.id) + ")" }.sorted()
            findings.append(SyncPlan.Finding(
                kind: kind, name: group[0].name, remoteID: nil, issue: .ambiguousRemoteName,
                detail: "\(group.count) objects in Vision One have this name ignoring letter case: \(names.joined(separator: ", ")); none is touched until all but one are renamed or deleted in the console"))
        }
    }
}

func kubernetesFinding(_ kind: ObjectKind, name: String, id: String, _ parts: [UnsupportedFeature], outcome: String) -> SyncPlan.Finding {
    SyncPlan.Finding(
        kind: kind, name: name, remoteID: id, issue: .kubernetesOnlyParts,
        detail: "has \(parts.map(apiPart).joined(separator: ", ")), which only Kubernetes clusters use and the store does not hold; \(outcome)")
}

/// The part of the API a Kubernetes-only feature is.
private func apiPart(_ feature: UnsupportedFeature) -> String {
    switch feature {
    case .deploymentRules: return "default.rules (Deployment policies)"
    case .exceptions: return "default.exceptions (Continuous policies)"
    case .namespacedPolicies: return "namespaced (namespaced policy definitions)"
    case .rulesetLabels: return "labels"
    }
}

/// Findings sorted by kind, name, issue and id: a stable order.
func sortedFindings(_ findings: [SyncPlan.Finding]) -> [SyncPlan.Finding] {
    findings.sorted {
        (recordKey($0.kind, $0.name), $0.issue.rawValue, $0.remoteID ?? "") < (recordKey($1.kind, $1.name), $1.issue.rawValue, $1.remoteID ?? "")
    }
}

/// Names sorted by their keys, each once.
func sortedNames(_ names: [String]) -> [String] {
    var seen: Set<String> = []
    return names.filter { seen.insert(NameRules.key($0)).inserted }.sorted { NameRules.key($0) < NameRules.key($1) }
}
