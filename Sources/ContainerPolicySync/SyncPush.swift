import ContainerPolicyStore

/// One step of a push, done: reported after its record is in the store.
public struct SyncPushProgress: Sendable, Hashable, CustomStringConvertible {
    /// What the step did.
    public enum Outcome: Sendable, Hashable {
        /// Created; the id came from `Location`.
        case created(id: String)
        /// An attempt's outcome was unknown, and the object was found by name: it had been
        /// created, and was not created again.
        case foundByName(id: String)
        case modified
        case deleted
        /// The object was already gone.
        case alreadyGone
    }

    public let step: SyncPlan.Step
    /// 0 for the plan's first step.
    public let index: Int
    /// How many steps the plan has.
    public let count: Int
    public let outcome: Outcome

    /// `[2/5] + create ruleset strict: created, id rs-7`.
    public var description: String {
        let done: String
        switch outcome {
        case .created(let id): done = "created, id \(escaped(id))"
        case .foundByName(let id): done = "found already created, id \(escaped(id))"
        case .modified: done = "modified"
        case .deleted: done = "deleted"
        case .alreadyGone: done = "already gone"
        }
        let verb: String
        switch step.action {
        case .create: verb = "+ create"
        case .modify: verb = "~ modify"
        case .delete: verb = "- delete"
        }
        return "[\(index + 1)/\(count)] \(verb) \(step.kind) \(step.name): \(done)"
    }
}

/// Why a plan, push or pull stopped. The steps before ``completedSteps`` are done, and their
/// records are in the store: planning again shows only what is left.
public enum SyncError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Reading Vision One failed.
    case remote(VisionOneError)
    /// The store could not be read or written.
    case store(PolicyStoreError)
    /// A pull was refused, as an import of what Vision One holds would be; nothing was written.
    case pullRefused(problems: [PullProblem])
    /// The plan has conflicts and was not made with `force`; nothing was sent.
    case refused(conflicts: [SyncPlan.Conflict])
    /// The plan is for another endpoint than the client's; nothing was sent.
    case otherEndpoint(plan: String, client: String)
    /// A request of a step failed.
    case stepFailed(step: SyncPlan.Step, completedSteps: Int, error: VisionOneError)
    /// The object changed in Vision One between the plan and the push: plan again.
    case changedSincePlan(step: SyncPlan.Step, completedSteps: Int, planned: String?, found: String?)
    /// A policy links a ruleset that has no remote id (its ruleset step did not run).
    case missingRulesetID(step: SyncPlan.Step, completedSteps: Int, ruleset: String)
    /// The step was done in Vision One, but its record could not be written to the store; the
    /// next plan finds the object and records it.
    case recordNotSaved(step: SyncPlan.Step, completedSteps: Int, error: PolicyStoreError)

    /// How many steps were done.
    public var completedSteps: Int {
        switch self {
        case .remote, .store, .pullRefused, .refused, .otherEndpoint: return 0
        case .stepFailed(_, let done, _), .changedSincePlan(_, let done, _, _), .missingRulesetID(_, let done, _),
             .recordNotSaved(_, let done, _):
            return done
        }
    }

    public var description: String {
        switch self {
        case .remote(let error):
            return String(describing: error)
        case .store(let error):
            return String(describing: error)
        case .pullRefused(let problems):
            let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
            return "the pull is refused as an import would be, and nothing was written: what Vision One holds has \(count):\n"
                + problems.map { "  \($0)" }.joined(separator: "\n")
        case .refused(let conflicts):
            let count = conflicts.count == 1 ? "a conflict" : "\(conflicts.count) conflicts"
            return "the push is refused because of \(count), and nothing was sent: "
                + conflicts.map { String($0.description.dropFirst(2)) }.joined(separator: "; ")
        case .otherEndpoint(let plan, let client):
            return "the plan is for \(plan), not \(client): plan again against the endpoint to push to"
        case .stepFailed(let step, _, let error):
            return "cannot \(verb(step)) \(step.kind) \(quoted(step.name)): \(error)"
        case .changedSincePlan(let step, _, let planned, let found):
            return "the \(step.kind) \(quoted(step.name)) changed in Vision One after the plan was made (updated \(found.map(escaped) ?? "unknown"), the plan saw \(planned.map(escaped) ?? "unknown")): plan again"
        case .missingRulesetID(let step, _, let ruleset):
            return "cannot \(verb(step)) policy \(quoted(step.name)): the ruleset \(quoted(ruleset)) has no id in Vision One; plan again"
        case .recordNotSaved(let step, _, let error):
            return "the \(step.kind) \(quoted(step.name)) was pushed, but its record could not be written to the store (\(error)); plan again, which finds it"
        }
    }

    private func verb(_ step: SyncPlan.Step) -> String {
        switch step.action {
        case .create: return "create"
        case .modify: return "modify"
        case .delete: return "delete"
        }
    }
}

/// One step of a push, with its failures as ``SyncError``: the requests it sends, and the
/// record the store keeps once it is done (nil for a delete, whose record is forgotten).
struct StepRun {
    let client: VisionOneClient
    let endpoint: String
    let step: SyncPlan.Step
    let index: Int

    func perform(rulesetIDs: inout [String: String]) async throws(SyncError) -> (SyncPushProgress.Outcome, SyncRecord?) {
        switch (step.action, step.content) {
        case (.create, .ruleset(let content)?):
            let creation = try await call { () async throws(VisionOneError) in
                try await client.createRuleset(NewRuleset(name: step.name, content: content))
            }
            let created = try await call { () async throws(VisionOneError) in try await client.ruleset(id: creation.id) }
            rulesetIDs[NameRules.key(step.name)] = creation.id
            return (creation.foundByName ? .foundByName(id: creation.id) : .created(id: creation.id), record(creation.id, created.lastModified))
        case (.create, .policy(let content)?):
            let new = NewPolicy(name: step.name, content: content, rulesets: try references(content.rulesets, ids: rulesetIDs))
            let creation = try await call { () async throws(VisionOneError) in try await client.createPolicy(new) }
            let created = try await call { () async throws(VisionOneError) in try await client.policy(id: creation.id) }
            return (creation.foundByName ? .foundByName(id: creation.id) : .created(id: creation.id), record(creation.id, created.lastModified))
        case (.modify(.ruleset(let changes)), .ruleset(let content)?):
            let id = try remoteID()
            let current = try await call { () async throws(VisionOneError) in try await client.ruleset(id: id) }
            try check(current.lastModified)
            let patch = RulesetPatch(changes, target: content, keepingRuleFieldsOf: current)
            let updated = try await call { () async throws(VisionOneError) in
                try await client.updateRuleset(id: id, patch, name: step.name)
                return try await client.ruleset(id: id)
            }
            return (.modified, record(id, updated.lastModified))
        case (.modify(.policy(let changes)), .policy(let content)?):
            let id = try remoteID()
            try check(try await call { () async throws(VisionOneError) in try await client.policy(id: id).lastModified })
            let links = changes.addedRulesets.isEmpty && changes.removedRulesets.isEmpty ? nil : try references(content.rulesets, ids: rulesetIDs)
            let updated = try await call { () async throws(VisionOneError) in
                try await client.updatePolicy(id: id, PolicyPatch(changes, rulesets: links), name: step.name)
                return try await client.policy(id: id)
            }
            return (.modified, record(id, updated.lastModified))
        case (.delete, _):
            return (try await delete(id: try remoteID()), nil)
        default:
            throw failure(VisionOneError(.invalidRequest(reason: "the plan's step holds no content to send"), objectKind: RemoteObjectKind(step.kind), objectName: step.name))
        }
    }

    private func record(_ id: String, _ updated: String?) -> SyncRecord? {
        step.content.map { SyncRecord(endpoint: endpoint, name: step.name, remoteID: id, remoteUpdatedDateTime: updated, content: $0) }
    }

    private func call<Value>(_ body: () async throws(VisionOneError) -> Value) async throws(SyncError) -> Value {
        do {
            return try await body()
        } catch {
            throw failure(error)
        }
    }

    private func failure(_ error: VisionOneError) -> SyncError {
        .stepFailed(step: step, completedSteps: index, error: error)
    }

    private func remoteID() throws(SyncError) -> String {
        guard let id = step.remoteID, !id.isEmpty else {
            throw failure(VisionOneError(
                .invalidRequest(reason: "the plan's step has no remote id"), objectKind: RemoteObjectKind(step.kind), objectName: step.name))
        }
        return id
    }

    /// Refuses to overwrite a change made after the plan, unless the step is forced anyway.
    private func check(_ found: String?) throws(SyncError) {
        guard !step.forced, found != step.remoteUpdatedDateTime else { return }
        throw .changedSincePlan(step: step, completedSteps: index, planned: step.remoteUpdatedDateTime, found: found)
    }

    private func references(_ names: [String], ids: [String: String]) throws(SyncError) -> [RemoteRulesetReference] {
        try names.map { name throws(SyncError) in
            guard let id = ids[NameRules.key(name)] else { throw .missingRulesetID(step: step, completedSteps: index, ruleset: name) }
            return RemoteRulesetReference(id: id, name: name)
        }
    }

    private func delete(id: String) async throws(SyncError) -> SyncPushProgress.Outcome {
        let found: String?
        do {
            found = step.kind == .policy ? try await client.policy(id: id).lastModified : try await client.ruleset(id: id).lastModified
        } catch where error.kind == .notFound {
            return .alreadyGone
        } catch {
            throw failure(error)
        }
        try check(found)
        let deletion = try await call { () async throws(VisionOneError) in
            step.kind == .policy ? try await client.deletePolicy(id: id, name: step.name) : try await client.deleteRuleset(id: id, name: step.name)
        }
        return deletion == .deleted ? .deleted : .alreadyGone
    }
}
