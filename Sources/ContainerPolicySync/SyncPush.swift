/// Where a push is, after each step: hand ``state`` to the store before returning, so that a
/// push killed at any point resumes by planning again.
public struct SyncPushProgress: Sendable {
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
    /// The sync state with this step done: persist it.
    public let state: SyncState
}

/// Why a push stopped. The steps before ``completedSteps`` are done, and the progress handler
/// has seen the state after each of them.
public enum SyncPushError: Error, Sendable, CustomStringConvertible {
    /// The plan has conflicts and was not made with `force`; nothing was sent.
    case refused(conflicts: [SyncPlan.Conflict])
    /// A request failed.
    case failed(step: SyncPlan.Step, completedSteps: Int, error: VisionOneError)
    /// The object changed in Vision One between the plan and the push: plan again.
    case changedSincePlan(step: SyncPlan.Step, completedSteps: Int, planned: String?, found: String?)
    /// A policy links a ruleset that has no remote id (the plan is not from this tenant, or
    /// its ruleset steps failed).
    case missingRulesetID(step: SyncPlan.Step, completedSteps: Int, ruleset: String)
    /// The progress handler threw (the state could not be saved, say); the step itself is done.
    case stopped(step: SyncPlan.Step, completedSteps: Int, error: any Error)

    /// How many steps were done, and reported to the progress handler.
    public var completedSteps: Int {
        switch self {
        case .refused: return 0
        case .failed(_, let done, _), .changedSincePlan(_, let done, _, _), .missingRulesetID(_, let done, _), .stopped(_, let done, _):
            return done
        }
    }

    public var description: String {
        switch self {
        case .refused(let conflicts):
            let count = conflicts.count == 1 ? "a conflict" : "\(conflicts.count) conflicts"
            return "the push is refused because of \(count); nothing was sent:\n"
                + conflicts.map { "  \($0)" }.joined(separator: "\n")
        case .failed(let step, _, let error):
            return "cannot \(step.action.rawValue) \(step.kind) \(quotedName(step.name)): \(error)"
        case .changedSincePlan(let step, _, let planned, let found):
            return "the \(step.kind) \(quotedName(step.name)) changed in Vision One after the plan was made (updated \(found.map(escaped) ?? "unknown"), the plan saw \(planned.map(escaped) ?? "unknown")): plan again"
        case .missingRulesetID(let step, _, let ruleset):
            return "cannot \(step.action.rawValue) policy \(quotedName(step.name)): the ruleset \(quotedName(ruleset)) has no id in Vision One; plan again"
        case .stopped(let step, _, let error):
            return "the push stopped after \(step.action.rawValue) \(step.kind) \(quotedName(step.name)) because saving its progress failed: \(error)"
        }
    }
}

extension VisionOneClient {
    /// Applies a plan, step by step in its order, and returns the sync state after the last
    /// one. After each step, `progress` receives the state so far: persist it there. A push
    /// that stops (an error, a kill) leaves Vision One with the steps before it done; planning
    /// again shows only what is left, and no object is created twice:
    ///
    /// - an object created whose state was never saved is found by the next plan, equal on
    ///   both sides, and only recorded;
    /// - a create whose answer was lost is looked for by name before it is sent again.
    ///
    /// Before a modify or delete, the object is read again: if its `updatedDateTime` moved
    /// since the plan, the push stops (``SyncPushError/changedSincePlan(step:completedSteps:planned:found:)``),
    /// unless the step was forced.
    ///
    /// ```swift
    /// let state = try await client.push(plan, state: saved) { progress in
    ///     try save(progress.state)
    ///     print("[\(progress.index + 1)/\(progress.count)] \(progress.step)")
    /// }
    /// try save(state)
    /// ```
    public func push(
        _ plan: SyncPlan, state initial: SyncState,
        progress: (SyncPushProgress) async throws -> Void = { _ in }
    ) async throws(SyncPushError) -> SyncState {
        if plan.isRefused { throw .refused(conflicts: plan.conflicts) }
        var state = initial
        state.apply(plan.stateUpdates)
        var rulesetIDs: [String: String] = [:]
        for (name, id) in plan.rulesetIDs { rulesetIDs[asciiLowercased(name)] = id }

        for (index, step) in plan.steps.enumerated() {
            let run = StepRun(client: self, step: step, index: index)
            let outcome = try await run.perform(state: &state, rulesetIDs: &rulesetIDs)
            do {
                try await progress(SyncPushProgress(step: step, index: index, count: plan.steps.count, outcome: outcome, state: state))
            } catch {
                throw .stopped(step: step, completedSteps: index + 1, error: error)
            }
        }
        return state
    }
}

/// One step of a push, with its failures mapped to ``SyncPushError``.
private struct StepRun {
    let client: VisionOneClient
    let step: SyncPlan.Step
    let index: Int

    func perform(state: inout SyncState, rulesetIDs: inout [String: String]) async throws(SyncPushError) -> SyncPushProgress.Outcome {
        switch (step.kind, step.action) {
        case (.ruleset, .create):
            let content = step.ruleset ?? SyncPlan.RulesetChange()
            let new = NewRuleset(name: step.name, description: content.description ?? "", rules: (content.rules ?? []).map(\.reference))
            let creation = try await call { () async throws(VisionOneError) in try await client.createRuleset(new) }
            let created = try await call { () async throws(VisionOneError) in try await client.ruleset(id: creation.id) }
            state.record(.ruleset, name: step.name, remoteID: creation.id, updatedDateTime: created.lastModified)
            rulesetIDs[asciiLowercased(step.name)] = creation.id
            return creation.foundByName ? .foundByName(id: creation.id) : .created(id: creation.id)
        case (.policy, .create):
            let content = step.policy ?? SyncPlan.PolicyChange()
            let new = NewPolicy(
                name: step.name, description: content.description ?? "", xdrEnabled: content.xdrEnabled ?? true,
                rulesets: try references(content.rulesets ?? [], ids: rulesetIDs))
            let creation = try await call { () async throws(VisionOneError) in try await client.createPolicy(new) }
            let created = try await call { () async throws(VisionOneError) in try await client.policy(id: creation.id) }
            state.record(.policy, name: step.name, remoteID: creation.id, updatedDateTime: created.lastModified)
            return creation.foundByName ? .foundByName(id: creation.id) : .created(id: creation.id)
        case (.ruleset, .modify):
            let id = try remoteID()
            try check(try await call { () async throws(VisionOneError) in try await client.ruleset(id: id).lastModified })
            let change = step.ruleset ?? SyncPlan.RulesetChange()
            let patch = RulesetPatch(description: change.description, rules: change.rules)
            let updated = try await call { () async throws(VisionOneError) in
                try await client.updateRuleset(id: id, patch, name: step.name)
                return try await client.ruleset(id: id)
            }
            state.record(.ruleset, name: step.name, remoteID: id, updatedDateTime: updated.lastModified)
            return .modified
        case (.policy, .modify):
            let id = try remoteID()
            try check(try await call { () async throws(VisionOneError) in try await client.policy(id: id).lastModified })
            let change = step.policy ?? SyncPlan.PolicyChange()
            let links = try change.rulesets.map { names throws(SyncPushError) in try references(names, ids: rulesetIDs) }
            let patch = PolicyPatch(description: change.description, xdrEnabled: change.xdrEnabled, rulesets: links)
            let updated = try await call { () async throws(VisionOneError) in
                try await client.updatePolicy(id: id, patch, name: step.name)
                return try await client.policy(id: id)
            }
            state.record(.policy, name: step.name, remoteID: id, updatedDateTime: updated.lastModified)
            return .modified
        case (.policy, .delete), (.ruleset, .delete):
            let id = try remoteID()
            let outcome = try await delete(id: id)
            state.forget(step.kind, name: step.name)
            return outcome
        default:
            throw failure(VisionOneError(.invalidRequest(reason: "a plan step cannot \(step.action.rawValue) a \(step.kind)")))
        }
    }

    private func call<Value>(_ body: () async throws(VisionOneError) -> Value) async throws(SyncPushError) -> Value {
        do {
            return try await body()
        } catch {
            throw failure(error)
        }
    }

    private func failure(_ error: VisionOneError) -> SyncPushError {
        .failed(step: step, completedSteps: index, error: error)
    }

    private func remoteID() throws(SyncPushError) -> String {
        guard let id = step.remoteID, !id.isEmpty else {
            throw failure(VisionOneError(.invalidRequest(reason: "the plan's step has no remote id"), objectKind: step.kind, objectName: step.name))
        }
        return id
    }

    /// Refuses to overwrite a change made after the plan, unless the step is forced anyway.
    private func check(_ found: String?) throws(SyncPushError) {
        guard !step.overridesConflict, found != step.remoteUpdatedDateTime else { return }
        throw .changedSincePlan(step: step, completedSteps: index, planned: step.remoteUpdatedDateTime, found: found)
    }

    private func references(_ names: [String], ids: [String: String]) throws(SyncPushError) -> [RemoteRulesetReference] {
        try names.map { name throws(SyncPushError) in
            guard let id = ids[asciiLowercased(name)] else {
                throw .missingRulesetID(step: step, completedSteps: index, ruleset: name)
            }
            return RemoteRulesetReference(id: id, name: name)
        }
    }

    private func delete(id: String) async throws(SyncPushError) -> SyncPushProgress.Outcome {
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
