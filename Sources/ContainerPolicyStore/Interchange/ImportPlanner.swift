/// The objects a store holds, as a plan compares a document with them: keyed by name
/// ignoring letter case, as the schema's NOCASE collation keys them.
struct StoreState {
    var rulesets: [String: Ruleset] = [:]
    var policies: [String: Policy] = [:]
    /// The ARNs of the clusters of each policy, by the policy's lowercased name.
    var clusters: [String: [String]] = [:]

    func ruleset(named name: String) -> Ruleset? { rulesets[asciiLowercased(name)] }
    func policy(named name: String) -> Policy? { policies[asciiLowercased(name)] }
}

/// An import as a pure function: a document and the store's state give a plan, or every
/// problem that stands in its way. Nothing here reads or writes a store.
struct ImportPlanner {
    /// One step with what writing it needs.
    enum Write {
        case createRuleset(PolicyDocument.RulesetEntry)
        case updateRuleset(Ruleset, to: RulesetContent)
        case createPolicy(PolicyDocument.PolicyEntry)
        case updatePolicy(Policy, to: PolicyContent)
        case deletePolicy(Policy)
        case deleteRuleset(Ruleset)
    }

    /// The plan (applied or not) and the writes that carry it out, in the same order.
    struct Outcome {
        let steps: [ImportPlan.Step]
        let writes: [Write]
        let unchanged: Int
    }

    static func plan(_ document: PolicyDocument, against state: StoreState, prune: Bool) throws(PolicyStoreError) -> Outcome {
        var problems = document.validationProblems()
        var steps: [ImportPlan.Step] = []
        var writes: [Write] = []
        var unchanged = 0
        let documentRulesets = Set(document.rulesets.map { asciiLowercased($0.name) })

        func compare(_ kind: ObjectKind, _ name: String, existingName: String?, at path: String, changes: ContentChanges?) -> Bool {
            if let existingName, existingName != name {
                problems.append(renameProblem(kind, name, existing: existingName, at: path))
                return false
            }
            if changes?.isEmpty == true { unchanged += 1 }
            return changes?.isEmpty != true
        }
        for (index, entry) in document.rulesets.enumerated() {
            let existing = state.ruleset(named: entry.name)
            let changes = existing.map { ContentChanges.ruleset($0.content.changes(to: entry.content)) }
            guard compare(.ruleset, entry.name, existingName: existing?.name, at: "rulesets[\(index)].name", changes: changes) else { continue }
            if let existing, let changes {
                steps.append(ImportPlan.Step(kind: .ruleset, name: existing.name, action: .modify(changes), revision: existing.revision))
                writes.append(.updateRuleset(existing, to: entry.content))
            } else {
                steps.append(ImportPlan.Step(kind: .ruleset, name: entry.name, action: .create(.ruleset(entry.content))))
                writes.append(.createRuleset(entry))
            }
        }
        for (index, entry) in document.policies.enumerated() {
            for (linkIndex, name) in entry.rulesets.enumerated() where !documentRulesets.contains(asciiLowercased(name)) {
                let path = "policies[\(index)].runtime.rulesets[\(linkIndex)].name"
                if prune {
                    problems.append(DocumentProblem(
                        path: path, offendingText: name,
                        message: "the ruleset is not in the document, and pruning would delete it; add it to the document's rulesets"))
                } else if state.ruleset(named: name) == nil {
                    problems.append(DocumentProblem(
                        path: path, offendingText: name,
                        message: "there is no ruleset of that name in the document or the store; add it to the document's rulesets"))
                }
            }
            let existing = state.policy(named: entry.name)
            let changes = existing.map { ContentChanges.policy($0.content.changes(to: entry.content)) }
            guard compare(.policy, entry.name, existingName: existing?.name, at: "policies[\(index)].name", changes: changes) else { continue }
            if let existing, let changes {
                steps.append(ImportPlan.Step(kind: .policy, name: existing.name, action: .modify(changes), revision: existing.revision))
                writes.append(.updatePolicy(existing, to: entry.content))
            } else {
                steps.append(ImportPlan.Step(kind: .policy, name: entry.name, action: .create(.policy(entry.content))))
                writes.append(.createPolicy(entry))
            }
        }
        if prune {
            let documentPolicies = Set(document.policies.map { asciiLowercased($0.name) })
            for policy in state.policies.values.sorted(by: { nameOrderPrecedes($0.name, $1.name) })
            where !documentPolicies.contains(asciiLowercased(policy.name)) {
                if let clusters = state.clusters[asciiLowercased(policy.name)], !clusters.isEmpty {
                    problems.append(DocumentProblem(
                        path: "policies",
                        message: "pruning would delete the policy \(quoted(policy.name)), which is assigned to \(clusters.joined(separator: ", ")); keep it in the document, or remove it from those clusters first"))
                }
                steps.append(ImportPlan.Step(kind: .policy, name: policy.name, action: .delete, revision: policy.revision))
                writes.append(.deletePolicy(policy))
            }
            for ruleset in state.rulesets.values.sorted(by: { nameOrderPrecedes($0.name, $1.name) })
            where !documentRulesets.contains(asciiLowercased(ruleset.name)) {
                steps.append(ImportPlan.Step(kind: .ruleset, name: ruleset.name, action: .delete, revision: ruleset.revision))
                writes.append(.deleteRuleset(ruleset))
            }
        }
        guard problems.isEmpty else { throw .invalidDocument(DocumentProblem.inDocumentOrder(problems)) }
        return Outcome(steps: steps, writes: writes, unchanged: unchanged)
    }

    private static func renameProblem(_ kind: ObjectKind, _ name: String, existing: String, at path: String) -> DocumentProblem {
        DocumentProblem(
            path: path, offendingText: name,
            message: "the \(kind) exists as \(quoted(existing)), and names cannot change, not even in letter case; write \(quoted(existing))")
    }
}
