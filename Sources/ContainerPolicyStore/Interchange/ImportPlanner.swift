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
enum ImportPlanner {
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
        var draft = Draft(problems: document.validationProblems())
        let documentRulesets = Set(document.rulesets.map { asciiLowercased($0.name) })
        draft.plan(document.rulesets, existing: state.rulesets)
        for (index, entry) in document.policies.enumerated() {
            for (linkIndex, name) in entry.rulesets.enumerated() where !documentRulesets.contains(asciiLowercased(name)) {
                let path = "policies[\(index)].runtime.rulesets[\(linkIndex)].name"
                if prune {
                    draft.problems.append(DocumentProblem(
                        path: path, offendingText: name,
                        message: "the ruleset is not in the document, and pruning would delete it; add it to the document's rulesets"))
                } else if state.ruleset(named: name) == nil {
                    draft.problems.append(DocumentProblem(
                        path: path, offendingText: name,
                        message: "there is no ruleset of that name in the document or the store; add it to the document's rulesets"))
                }
            }
        }
        draft.plan(document.policies, existing: state.policies)
        if prune {
            let documentPolicies = Set(document.policies.map { asciiLowercased($0.name) })
            for (key, clusters) in state.clusters.sorted(by: { nameOrderPrecedes($0.key, $1.key) })
            where !clusters.isEmpty && !documentPolicies.contains(key) {
                let name = state.policies[key]?.name ?? key
                draft.problems.append(DocumentProblem(
                    path: "policies",
                    message: "pruning would delete the policy \(quoted(name)), which is assigned to \(clusters.joined(separator: ", ")); keep it in the document, or remove it from those clusters first"))
            }
            draft.prune(state.policies, keeping: documentPolicies)
            draft.prune(state.rulesets, keeping: documentRulesets)
        }
        guard draft.problems.isEmpty else { throw .invalidDocument(DocumentProblem.inDocumentOrder(draft.problems)) }
        return Outcome(steps: draft.steps, writes: draft.writes, unchanged: draft.unchanged)
    }

    /// A plan as it is made: the steps, their writes and the problems so far.
    private struct Draft {
        var problems: [DocumentProblem]
        var steps: [ImportPlan.Step] = []
        var writes: [Write] = []
        var unchanged = 0

        /// A step for each entry that is new or differs from the object of its name.
        mutating func plan<Object: PlannedObject>(_ entries: [DocumentEntry<Object.Content>], existing: [String: Object]) {
            let kind = Object.Content.kind
            for (index, entry) in entries.enumerated() {
                guard let current = existing[asciiLowercased(entry.name)] else {
                    steps.append(ImportPlan.Step(kind: kind, name: entry.name, action: .create(entry.content.recorded)))
                    writes.append(Object.create(entry))
                    continue
                }
                guard current.name == entry.name else {
                    problems.append(renameProblem(kind, entry.name, existing: current.name, at: "\(Object.section)[\(index)].name"))
                    continue
                }
                let changes = current.content.contentChanges(to: entry.content)
                guard !changes.isEmpty else {
                    unchanged += 1
                    continue
                }
                steps.append(ImportPlan.Step(kind: kind, name: current.name, action: .modify(changes), revision: current.revision))
                writes.append(Object.update(current, to: entry.content))
            }
        }

        /// A delete step for each object whose name is not `keeping`, in name order.
        mutating func prune<Object: PlannedObject>(_ existing: [String: Object], keeping: Set<String>) {
            for object in existing.values.sorted(by: { nameOrderPrecedes($0.name, $1.name) }) where !keeping.contains(asciiLowercased(object.name)) {
                steps.append(ImportPlan.Step(kind: Object.Content.kind, name: object.name, action: .delete, revision: object.revision))
                writes.append(Object.delete(object))
            }
        }
    }

    fileprivate static func renameProblem(_ kind: ObjectKind, _ name: String, existing: String, at path: String) -> DocumentProblem {
        DocumentProblem(
            path: path, offendingText: name,
            message: "the \(kind) exists as \(quoted(existing)), and names cannot change, not even in letter case; write \(quoted(existing))")
    }
}

/// What the planner needs of a kind of object: where its entries are in a document, and the
/// writes that carry out its steps.
protocol PlannedObject: PolicyStoreObject where Content: RecordableContent {
    /// The document's member that lists them: `rulesets`, `policies`.
    static var section: String { get }
    static func create(_ entry: DocumentEntry<Content>) -> ImportPlanner.Write
    static func update(_ object: Self, to content: Content) -> ImportPlanner.Write
    static func delete(_ object: Self) -> ImportPlanner.Write
}

extension Ruleset: PlannedObject {
    static var section: String { "rulesets" }
    static func create(_ entry: DocumentEntry<RulesetContent>) -> ImportPlanner.Write { .createRuleset(entry) }
    static func update(_ object: Ruleset, to content: RulesetContent) -> ImportPlanner.Write { .updateRuleset(object, to: content) }
    static func delete(_ object: Ruleset) -> ImportPlanner.Write { .deleteRuleset(object) }
}

extension Policy: PlannedObject {
    static var section: String { "policies" }
    static func create(_ entry: DocumentEntry<PolicyContent>) -> ImportPlanner.Write { .createPolicy(entry) }
    static func update(_ object: Policy, to content: PolicyContent) -> ImportPlanner.Write { .updatePolicy(object, to: content) }
    static func delete(_ object: Policy) -> ImportPlanner.Write { .deletePolicy(object) }
}
