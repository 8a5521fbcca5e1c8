import ContainerPolicyStore

/// A store and a Vision One tenant, kept in step: plan what a push would change there, push
/// it step by step (each step's record written to the store as soon as the step is done, so
/// a push cut short resumes by planning again), and pull the tenant's state into the store in
/// one transaction. The store remembers each object's last sync per endpoint
/// (`SyncRecord`), which is how a plan tells a change made here from one made there.
///
/// ```swift
/// let sync = VisionOneSync(store: store, client: client)
/// let plan = try await sync.plan()
/// print(plan)
/// try await sync.push(plan) { progress in print(progress) }
/// ```
public struct VisionOneSync: Sendable {
    public let store: PolicyStore
    public let client: VisionOneClient

    public init(store: PolicyStore, client: VisionOneClient) {
        self.store = store
        self.client = client
    }

    /// The tenant's base URL, which the store's records are kept under.
    public var endpoint: String { client.baseURL.absoluteString }

    /// What a push would do: the store and its records read in one transaction, Vision One's
    /// state (its clusters too, with `prune`), compared by ``SyncPlanner``.
    public func plan(prune: Bool = false, force: Bool = false) async throws(SyncError) -> SyncPlan {
        let remote = try await remoteState(clusters: prune)
        let endpoint = endpoint
        let (local, records) = try await storeCall {
            try await store.read { tx in (try tx.exportDocument(), try tx.syncRecords(endpoint: endpoint)) }
        }
        do {
            return try SyncPlanner.plan(local: local, remote: remote, records: records, endpoint: endpoint, prune: prune, force: force)
        } catch {
            throw .store(error)
        }
    }

    /// Carries out `plan`: refused before any request when it has conflicts and was not made
    /// with `force`. The plan's bookkeeping is written first; then each step is sent, its
    /// record written, and `progress` told. A step whose object changed in Vision One since
    /// the plan stops the push; so does any request that fails once retries are spent.
    /// Returns the plan, carried out.
    @discardableResult
    public func push(
        _ plan: SyncPlan, progress: @Sendable (SyncPushProgress) async -> Void = { _ in }
    ) async throws(SyncError) -> SyncPlan {
        if plan.isRefused { throw .refused(conflicts: plan.conflicts) }
        guard plan.endpoint == endpoint else { throw .otherEndpoint(plan: plan.endpoint, client: endpoint) }
        let endpoint = endpoint
        try await storeCall {
            try await store.write { tx in
                for record in plan.forgotten { try tx.forgetSync(endpoint: endpoint, kind: record.kind, name: record.name) }
                for record in plan.records { try tx.recordSync(record) }
            }
        }
        var rulesetIDs: [String: String] = [:]
        for (name, id) in plan.rulesetIDs { rulesetIDs[NameRules.key(name)] = id }
        for (index, step) in plan.steps.enumerated() {
            let (outcome, record) = try await StepRun(client: client, endpoint: endpoint, step: step, index: index)
                .perform(rulesetIDs: &rulesetIDs)
            do {
                if let record {
                    try await store.perform(.recordSync(record))
                } else {
                    try await store.perform(.forgetSync(endpoint: endpoint, kind: step.kind, name: step.name))
                }
            } catch {
                throw .recordNotSaved(step: step, completedSteps: index + 1, error: error as? PolicyStoreError ?? .cancelled)
            }
            await progress(SyncPushProgress(step: step, index: index, count: plan.steps.count, outcome: outcome))
        }
        return plan.carriedOut
    }

    /// Brings Vision One's state into the store: its document (``SyncPull``) imported as an
    /// import would, refusals and all, with `prune` deleting what Vision One lacks, and every
    /// object pulled recorded as synced, in one transaction. With `dryRun`, only plans.
    @discardableResult
    public func pull(prune: Bool = false, dryRun: Bool = false) async throws(SyncError) -> SyncPullResult {
        try await pull(try await remoteState(), prune: prune, dryRun: dryRun)
    }

    /// The same, from a state read already (by another ``VisionOneSync`` of the same client,
    /// say, before the store to pull into exists).
    @discardableResult
    public func pull(_ remote: RemoteState, prune: Bool = false, dryRun: Bool = false) async throws(SyncError) -> SyncPullResult {
        let pull = SyncPull(remote: remote, endpoint: endpoint)
        do {
            return try await importing(pull, prune: prune, dryRun: dryRun)
        } catch .store(.invalidDocument(let problems)) {
            throw .pullRefused(problems: pull.problems(problems))
        }
    }

    private func importing(_ pull: SyncPull, prune: Bool, dryRun: Bool) async throws(SyncError) -> SyncPullResult {
        let endpoint = endpoint
        if dryRun {
            let plan = try await storeCall { try await store.perform(.importDocument(pull.document, prune: prune, dryRun: true)) }
            return SyncPullResult(endpoint: endpoint, plan: plan, findings: pull.findings)
        }
        let plan = try await storeCall {
            try await store.write { tx in
                let plan = try tx.importDocument(pull.document, prune: prune)
                if prune {
                    let pulled = Set(pull.records.map { recordKey($0.kind, $0.name) })
                    for old in try tx.syncRecords(endpoint: endpoint) where !pulled.contains(recordKey(old.kind, old.name)) {
                        try tx.forgetSync(endpoint: endpoint, kind: old.kind, name: old.name)
                    }
                }
                for record in pull.records { try tx.recordSync(record) }
                return plan
            }
        }
        return SyncPullResult(endpoint: endpoint, plan: plan, findings: pull.findings)
    }

    private func remoteState(clusters: Bool = false) async throws(SyncError) -> RemoteState {
        do {
            return try await client.state(clusters: clusters)
        } catch {
            throw .remote(error)
        }
    }

    private func storeCall<Value>(_ body: () async throws -> Value) async throws(SyncError) -> Value {
        do {
            return try await body()
        } catch let error as PolicyStoreError {
            throw .store(error)
        } catch {
            throw .store(.cancelled)
        }
    }
}

/// What a pull did, or would do with `dryRun`: the store's import plan, and what Vision One
/// holds that the store does not take.
public struct SyncPullResult: Sendable, Hashable, Encodable, CustomStringConvertible {
    public let endpoint: String
    public let plan: ImportPlan
    /// Sorted by kind, name and issue.
    public let findings: [SyncPlan.Finding]

    public init(endpoint: String, plan: ImportPlan, findings: [SyncPlan.Finding]) {
        self.endpoint = endpoint
        self.plan = plan
        self.findings = findings
    }

    /// The import plan's steps, the findings, then how many objects are unchanged.
    public var description: String {
        (plan.steps.map(\.description) + findings.map(\.description) + ["\(plan.unchanged) unchanged"]).joined(separator: "\n")
    }

    private enum Key: String, CodingKey { case endpoint, findings }

    /// `endpoint`, the import plan's `steps`, `unchanged` and `applied`, then `findings`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(endpoint, forKey: .endpoint)
        try plan.encode(to: encoder)
        try container.encode(findings, forKey: .findings)
    }
}
