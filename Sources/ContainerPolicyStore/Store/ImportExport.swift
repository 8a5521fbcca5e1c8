import Foundation
import SQLiteCore

/// What an export wrote.
public struct ExportSummary: Sendable, Hashable {
    /// How many rulesets the document holds.
    public let rulesets: Int
    /// How many policies the document holds.
    public let policies: Int
}

extension StoreTransaction {
    /// Writes the whole store as JSON to `write`, a page at a time: one row in memory, not
    /// the store. An object holding damaged values stops it: an export must not pass
    /// something else off as what is stored.
    func exportJSON(_ write: (Data) throws -> Void, progress: (StoreProgress) -> Void) throws -> ExportSummary {
        let pageSize = 64 * 1_024
        let rulesetCount = try connection.queryFirst(RulesetSQL.count.sql, []) { $0.int(0) } ?? 0
        let total = rulesetCount + (try connection.queryFirst(PolicySQL.count.sql, []) { $0.int(0) } ?? 0)
        var done = 0
        func advance() {
            done += 1
            progress(StoreProgress(done: done, total: total))
        }
        var json = DocumentJSONWriter()
        func writeEntries<Object: StoredObject>(_ sql: NamedSQL, _ decode: (Row) -> Object) throws {
            try connection.forEachRow(sql.sql) { row in
                let object = decode(row)
                guard object.damage.isEmpty else { throw PolicyStoreError.damagedData(Object.Content.kind, name: object.name, object.damage) }
                json.entry(DocumentEntry(name: object.name, content: object.content))
                if json.pendingByteCount >= pageSize { try write(Data(json.takeBytes())) }
                advance()
            }
        }
        try writeEntries(RulesetSQL.every, Self.decodeRuleset)
        let rulesets = json.entriesInList
        json.beginPolicies()
        try writeEntries(PolicySQL.every, Self.decodePolicy)
        let policies = json.entriesInList
        json.end()
        try write(Data(json.takeBytes()))
        return ExportSummary(rulesets: rulesets, policies: policies)
    }

    /// The whole store as a document: rulesets and policies sorted by name, rules by ID.
    public func exportDocument() throws(PolicyStoreError) -> PolicyDocument {
        try readOperation {
            PolicyDocument(
                rulesets: try allRulesets().map { PolicyDocument.RulesetEntry(name: $0.name, content: $0.content) },
                policies: try allPolicies().map { PolicyDocument.PolicyEntry(name: $0.name, content: $0.content) })
        }
    }

    /// Makes the store match the document, keyed by name: creates what is new, modifies what
    /// differs (only then does a revision move), and with `prune` deletes what the document
    /// does not have. With `dryRun`, only plans. Throws
    /// ``PolicyStoreError/invalidDocument(_:)`` listing every problem before anything is
    /// written. With `expectedPlan` (the ``ImportPlan/fingerprint`` of an approved dry run),
    /// applies only that plan: when the plan is now another, throws
    /// ``PolicyStoreError/planChanged(expected:plan:)`` with it, and writes nothing.
    /// `progress` hears how many of the plan's steps are applied, after each.
    ///
    /// ```swift
    /// let approved = try tx.importDocument(document, dryRun: true).fingerprint
    /// // ... reviewed, merged ...
    /// try tx.importDocument(document, expectedPlan: approved)
    /// ```
    @discardableResult
    public func importDocument(
        _ document: PolicyDocument, prune: Bool = false, dryRun: Bool = false, expectedPlan: String? = nil,
        progress: (StoreProgress) -> Void = { _ in }
    ) throws(PolicyStoreError) -> ImportPlan {
        func planned() throws -> ImportPlanner.Outcome {
            let outcome = try ImportPlanner.plan(document, against: try storeState(), prune: prune)
            if let expectedPlan {
                let plan = ImportPlan(steps: outcome.steps, unchanged: outcome.unchanged, applied: false)
                if plan.fingerprint != asciiLowercased(expectedPlan) { throw PolicyStoreError.planChanged(expected: expectedPlan, plan: plan) }
            }
            return outcome
        }
        if dryRun {
            return try readOperation {
                let outcome = try planned()
                return ImportPlan(steps: outcome.steps, unchanged: outcome.unchanged, applied: false)
            }
        }
        return try writeOperation {
            let outcome = try planned()
            try apply(outcome.writes, progress: progress)
            return ImportPlan(steps: outcome.steps, unchanged: outcome.unchanged, applied: true)
        }
    }

    /// Everything a plan compares a document with, read in one pass per table.
    private func storeState() throws -> StoreState {
        var state = StoreState()
        for ruleset in try allRulesets() { state.rulesets[asciiLowercased(ruleset.name)] = ruleset }
        for policy in try allPolicies() { state.policies[asciiLowercased(policy.name)] = policy }
        for cluster in try allClusters() {
            if let policy = cluster.policy { state.clusters[asciiLowercased(policy), default: []].append(cluster.arn) }
        }
        return state
    }

    private func apply(_ writes: [ImportPlanner.Write], progress: (StoreProgress) -> Void) throws {
        for (index, write) in writes.enumerated() {
            defer { progress(StoreProgress(done: index + 1, total: writes.count)) }
            switch write {
            case .createRuleset(let entry): try insertRuleset(named: entry.name, content: entry.content)
            case .updateRuleset(let ruleset, let content): _ = try update(ruleset, to: content)
            case .createPolicy(let entry): try insertPolicy(named: entry.name, content: entry.content)
            case .updatePolicy(let policy, let content): _ = try update(policy, to: content)
            case .deletePolicy(let policy): try remove(existing(Policy.self, named: policy.name))
            case .deleteRuleset(let ruleset): try remove(existing(Ruleset.self, named: ruleset.name))
            }
        }
    }
}

extension StoreTransaction {
    /// Streams the export: `write` receives the JSON in pieces of about 64 KiB, in order, as
    /// the store is read. Memory stays small whatever the size of the store. An error thrown
    /// by `write` stops the export and is rethrown unchanged; the store's own are
    /// ``PolicyStoreError``s.
    ///
    /// `progress` hears how many of the objects are written, after each.
    ///
    /// ```swift
    /// try store.read { tx in try tx.export { FileHandle.standardOutput.write($0) } }
    /// ```
    @discardableResult
    public func export(progress: (StoreProgress) -> Void = { _ in }, _ write: (Data) throws -> Void) throws -> ExportSummary {
        try scope.checkUsable()
        do {
            return try exportJSON({ chunk in
                do {
                    try write(chunk)
                } catch {
                    throw CallerError(error: error)
                }
            }, progress: progress)
        } catch let error as CallerError {
            throw error.error
        } catch {
            throw PolicyStoreError(error, path: scope.path)
        }
    }

    /// Writes the export to a file, replacing it only once the whole document is written:
    /// through symbolic links, keeping the old file's permissions; anything but a regular
    /// file (a device, a FIFO) is refused, never replaced. `progress` as for ``export(progress:_:)``.
    public func export(to url: URL, progress: (StoreProgress) -> Void = { _ in }) throws(PolicyStoreError) -> ExportSummary {
        try scope.checkUsable()
        do {
            let file = try ReplacedFile(path: url.path)
            return try file.write { write in
                try exportJSON({ chunk in
                    do {
                        try write(chunk)
                    } catch {
                        throw CallerError(error: error)
                    }
                }, progress: progress)
            }
        } catch let problem as ReplacedFile.Problem {
            throw .cannotWriteFile(path: url.path, reason: problem.reason)
        } catch let fileError as CallerError {
            throw .cannotWriteFile(path: url.path, reason: (fileError.error as? ReplacedFile.Problem)?.reason ?? "\(fileError.error)")
        } catch {
            throw PolicyStoreError(error, path: scope.path)
        }
    }
}

extension StoreOperation {
    /// ``StoreTransaction/exportDocument()``: the whole store as a document, read in one
    /// transaction.
    public static func exportDocument() -> StoreOperation<PolicyDocument> {
        StoreOperation<PolicyDocument>(.read) { tx throws(PolicyStoreError) in try tx.exportDocument() }
    }

    /// The whole store as deterministic JSON: two exports of the same state are byte-identical.
    ///
    /// ```swift
    /// let json = try store.perform(.export())
    /// ```
    public static func export() -> StoreOperation<Data> {
        StoreOperation<Data>(.read) { tx throws(PolicyStoreError) in
            var data = Data()
            do {
                try tx.export { data.append($0) }
            } catch {
                // Appending to `data` throws nothing: every error is the store's.
                throw PolicyStoreError(error, path: tx.scope.path)
            }
            return data
        }
    }

    /// ``StoreTransaction/export(to:progress:)``: writes the export to a file, replacing it only once
    /// the whole document is written.
    ///
    /// ```swift
    /// try store.perform(.export(to: URL(fileURLWithPath: "policies.json")))
    /// ```
    public static func export(to url: URL) -> StoreOperation<ExportSummary> {
        StoreOperation<ExportSummary>(.read) { tx throws(PolicyStoreError) in try tx.export(to: url) }
    }

    /// ``StoreTransaction/importDocument(_:prune:dryRun:expectedPlan:progress:)``: applies a
    /// document in one transaction, all or nothing; with `expectedPlan`, only if its plan is
    /// still the approved one. A dry run only reads.
    ///
    /// ```swift
    /// let document = try PolicyDocument(json: Data(contentsOf: URL(fileURLWithPath: "policies.json")))
    /// let plan = try store.perform(.importDocument(document, dryRun: true))
    /// print(plan, plan.fingerprint)
    /// try store.perform(.importDocument(document, expectedPlan: plan.fingerprint))
    /// ```
    public static func importDocument(
        _ document: PolicyDocument, prune: Bool = false, dryRun: Bool = false, expectedPlan: String? = nil
    ) -> StoreOperation<ImportPlan> {
        StoreOperation<ImportPlan>(dryRun ? .read : .write) { tx throws(PolicyStoreError) in
            try tx.importDocument(document, prune: prune, dryRun: dryRun, expectedPlan: expectedPlan)
        }
    }
}
