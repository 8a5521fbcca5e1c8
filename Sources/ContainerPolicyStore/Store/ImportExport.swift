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
    /// The columns an export writes, and nothing it does not.
    static let exportedPolicies = """
        SELECT p.name, p.description, p.xdr_enabled,
               (SELECT json_group_array(r.name) FROM policy_rulesets AS pr
                JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
        FROM policies AS p ORDER BY p.name
        """

    /// Writes the whole store as JSON to `write`, a page at a time: one row in memory, not
    /// the store.
    func exportJSON(_ write: (Data) throws -> Void) throws -> ExportSummary {
        let pageSize = 64 * 1_024
        var json = DocumentJSONWriter()
        try connection.forEachRow(Self.everyRuleset) { row in
            let ruleset = Self.decodeRuleset(row)
            guard ruleset.damage.isEmpty else { throw PolicyStoreError.damagedData(.ruleset, name: ruleset.name, ruleset.damage) }
            json.ruleset(PolicyDocument.RulesetEntry(name: ruleset.name, description: ruleset.description, rules: ruleset.rules))
            if json.pendingByteCount >= pageSize { try write(Data(json.takeBytes())) }
        }
        let rulesets = json.entriesInList
        json.beginPolicies()
        try connection.forEachRow(Self.exportedPolicies) { row in
            var damage: [StoredDamage] = []
            let xdrEnabled = Self.decodeXDR(row, 2, damage: &damage)
            let rulesets = Self.decodeNames(row, 3, location: "policy_rulesets", damage: &damage)
            guard damage.isEmpty else { throw PolicyStoreError.damagedData(.policy, name: row.text(0), damage) }
            json.policy(PolicyDocument.PolicyEntry(
                name: row.text(0), description: row.text(1), xdrEnabled: xdrEnabled, rulesets: sortedNames(rulesets)))
            if json.pendingByteCount >= pageSize { try write(Data(json.takeBytes())) }
        }
        let policies = json.entriesInList
        json.end()
        try write(Data(json.takeBytes()))
        return ExportSummary(rulesets: rulesets, policies: policies)
    }

    /// The whole store as a document: rulesets and policies sorted by name, rules by ID.
    public func exportDocument() throws(PolicyStoreError) -> PolicyDocument {
        try readOperation {
            PolicyDocument(
                rulesets: try allRulesets().map {
                    PolicyDocument.RulesetEntry(name: $0.name, description: $0.description, rules: $0.rules)
                },
                policies: try allPolicies().map {
                    PolicyDocument.PolicyEntry(name: $0.name, description: $0.description, xdrEnabled: $0.xdrEnabled, rulesets: $0.rulesets)
                })
        }
    }

    /// Makes the store match the document, keyed by name: creates what is new, modifies what
    /// differs (only then does a revision move), and with `prune` deletes what the document
    /// does not have. With `dryRun`, only plans. Throws
    /// ``PolicyStoreError/invalidDocument(_:)`` listing every problem before anything is
    /// written.
    public func importDocument(_ document: PolicyDocument, prune: Bool = false, dryRun: Bool = false) throws(PolicyStoreError) -> ImportPlan {
        try writeOperation { try apply(document, prune: prune, dryRun: dryRun) }
    }

    private func apply(_ document: PolicyDocument, prune: Bool, dryRun: Bool) throws -> ImportPlan {
        var problems = document.validationProblems()
        let documentRulesets = Set(document.rulesets.map { asciiLowercased($0.name) })

        var rulesetSteps: [ImportPlan.Step] = []
        var policySteps: [ImportPlan.Step] = []
        var unchanged = 0
        var rulesetsToWrite: [(entry: PolicyDocument.RulesetEntry, existing: Ruleset?)] = []
        for (index, entry) in document.rulesets.enumerated() {
            let existing = try ruleset(named: entry.name)
            if let existing, existing.name != entry.name {
                problems.append(renameProblem(.ruleset, existing: existing.name, at: "rulesets[\(index)].name"))
            } else if let step = Self.rulesetStep(entry, existing: existing) {
                rulesetSteps.append(step)
                rulesetsToWrite.append((entry, existing))
            } else {
                unchanged += 1
            }
        }
        var policiesToWrite: [(entry: PolicyDocument.PolicyEntry, existing: Policy?)] = []
        for (index, entry) in document.policies.enumerated() {
            let existing = try policy(named: entry.name)
            for (linkIndex, name) in entry.rulesets.enumerated() where !documentRulesets.contains(asciiLowercased(name)) {
                let path = "policies[\(index)].runtime.rulesets[\(linkIndex)].name"
                if prune {
                    problems.append(DocumentProblem(
                        path: path, message: "the ruleset \(quoted(name)) is not in the document, and --prune would delete it; add it to the document's rulesets"))
                } else if try ruleset(named: name) == nil {
                    problems.append(DocumentProblem(
                        path: path, message: "there is no ruleset \(quoted(name)) in the document or the database; add it to the document's rulesets"))
                }
            }
            if let existing, existing.name != entry.name {
                problems.append(renameProblem(.policy, existing: existing.name, at: "policies[\(index)].name"))
            } else if let step = Self.policyStep(entry, existing: existing) {
                policySteps.append(step)
                policiesToWrite.append((entry, existing))
            } else {
                unchanged += 1
            }
        }
        var policiesToDelete: [String] = []
        var rulesetsToDelete: [String] = []
        if prune {
            let documentPolicies = Set(document.policies.map { asciiLowercased($0.name) })
            policiesToDelete = try connection.query("SELECT name FROM policies ORDER BY name") { $0.text(0) }
                .filter { !documentPolicies.contains(asciiLowercased($0)) }
            rulesetsToDelete = try connection.query("SELECT name FROM rulesets ORDER BY name") { $0.text(0) }
                .filter { !documentRulesets.contains(asciiLowercased($0)) }
            for name in policiesToDelete {
                let clusters = try clusterARNs(policyID: try existingPolicy(name).id)
                if !clusters.isEmpty {
                    problems.append(DocumentProblem(
                        path: "policies",
                        message: "--prune would delete the policy \(quoted(name)), which is assigned to \(clusters.joined(separator: ", ")); keep it in the document, or remove it from those clusters first"))
                }
            }
        }
        guard problems.isEmpty else { throw PolicyStoreError.invalidDocument(problems) }

        let deletions = policiesToDelete.map { ImportPlan.Step(kind: .policy, name: $0, action: .delete) }
            + rulesetsToDelete.map { ImportPlan.Step(kind: .ruleset, name: $0, action: .delete) }
        let plan = ImportPlan(steps: rulesetSteps + policySteps + deletions, unchanged: unchanged, applied: !dryRun)
        guard !dryRun else { return plan }

        for (entry, existing) in rulesetsToWrite {
            if let existing {
                _ = try update(existing, to: RulesetEdit(description: entry.description, rules: entry.rules))
            } else {
                try insertRuleset(named: entry.name, description: entry.description, rules: entry.rules)
            }
        }
        for (entry, existing) in policiesToWrite {
            if let existing {
                _ = try update(existing, to: PolicyEdit(description: entry.description, xdrEnabled: entry.xdrEnabled, rulesets: entry.rulesets))
            } else {
                try insertPolicy(named: entry.name, description: entry.description, xdrEnabled: entry.xdrEnabled, rulesets: entry.rulesets)
            }
        }
        for name in policiesToDelete { try deletePolicy(named: name) }
        for name in rulesetsToDelete { try deleteRuleset(named: name) }
        return plan
    }

    private func renameProblem(_ kind: ObjectKind, existing: String, at path: String) -> DocumentProblem {
        DocumentProblem(
            path: path,
            message: "the \(kind) exists as \(quoted(existing)), and names cannot change, not even in letter case; write \(quoted(existing))")
    }

    /// The step that brings `existing` to `entry`, or nil when they already match.
    private static func rulesetStep(_ entry: PolicyDocument.RulesetEntry, existing: Ruleset?) -> ImportPlan.Step? {
        guard let existing else { return ImportPlan.Step(kind: .ruleset, name: entry.name, action: .create) }
        var changes: [String] = []
        if entry.description != existing.description { changes.append("description") }
        let rules = RuleChanges(from: existing.rules, to: entry.rules)
        let ruleChanges = rules.added.map { "+" + $0.id } + rules.removed.map { "-" + $0 } + rules.remitigated.map { "~" + $0.id }
        if !ruleChanges.isEmpty { changes.append("rules " + ruleChanges.joined(separator: " ")) }
        return changes.isEmpty ? nil : ImportPlan.Step(kind: .ruleset, name: existing.name, action: .modify(changes))
    }

    private static func policyStep(_ entry: PolicyDocument.PolicyEntry, existing: Policy?) -> ImportPlan.Step? {
        guard let existing else { return ImportPlan.Step(kind: .policy, name: entry.name, action: .create) }
        var changes: [String] = []
        if entry.description != existing.description { changes.append("description") }
        if entry.xdrEnabled != existing.xdrEnabled { changes.append("xdrEnabled") }
        let old = Set(existing.rulesets.map(asciiLowercased))
        let new = Set(entry.rulesets.map(asciiLowercased))
        let added = sortedNames(entry.rulesets.filter { !old.contains(asciiLowercased($0)) })
        let removed = existing.rulesets.filter { !new.contains(asciiLowercased($0)) }
        if !added.isEmpty || !removed.isEmpty {
            changes.append("rulesets " + (added.map { "+" + $0 } + removed.map { "-" + $0 }).joined(separator: " "))
        }
        return changes.isEmpty ? nil : ImportPlan.Step(kind: .policy, name: existing.name, action: .modify(changes))
    }
}

extension StoreTransaction {
    /// Streams the export: `write` receives the JSON in pieces of about 64 KiB, in order, as
    /// the store is read. Memory stays small whatever the size of the store. An error thrown
    /// by `write` stops the export and is rethrown unchanged; the store's own are
    /// ``PolicyStoreError``s.
    ///
    /// ```swift
    /// try store.read { tx in try tx.export { FileHandle.standardOutput.write($0) } }
    /// ```
    @discardableResult
    public func export(_ write: (Data) throws -> Void) throws -> ExportSummary {
        try scope.checkUsable()
        do {
            return try exportJSON { chunk in
                do {
                    try write(chunk)
                } catch {
                    throw CallerError(error: error)
                }
            }
        } catch let error as CallerError {
            throw error.error
        } catch {
            throw PolicyStoreError(error, path: scope.path)
        }
    }

    /// Writes the export to a file, replacing it only once the whole document is written.
    public func export(to url: URL) throws(PolicyStoreError) -> ExportSummary {
        try scope.checkUsable()
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CallerError(error: CocoaError(.fileWriteNoPermission))
            }
            let file: FileHandle
            do {
                file = try FileHandle(forWritingTo: temporary)
            } catch {
                throw CallerError(error: error)
            }
            defer { try? file.close() }
            let summary = try exportJSON { chunk in
                do {
                    try file.write(contentsOf: chunk)
                } catch {
                    throw CallerError(error: error)
                }
            }
            do {
                try file.synchronize()
                // rename(2) replaces the old file in one step, never leaving half a document.
                guard rename(temporary.path, url.path) == 0 else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
                }
            } catch {
                throw CallerError(error: error)
            }
            return summary
        } catch let fileError as CallerError {
            try? FileManager.default.removeItem(at: temporary)
            throw .cannotWriteFile(path: url.path, reason: fileError.error.localizedDescription)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
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

    /// ``StoreTransaction/export(to:)``: writes the export to a file, replacing it only once
    /// the whole document is written.
    ///
    /// ```swift
    /// try store.perform(.export(to: URL(fileURLWithPath: "policies.json")))
    /// ```
    public static func export(to url: URL) -> StoreOperation<ExportSummary> {
        StoreOperation<ExportSummary>(.read) { tx throws(PolicyStoreError) in try tx.export(to: url) }
    }

    /// ``StoreTransaction/importDocument(_:prune:dryRun:)``: applies a document in one
    /// transaction, all or nothing. A dry run only reads.
    ///
    /// ```swift
    /// let document = try PolicyDocument(json: Data(contentsOf: URL(fileURLWithPath: "policies.json")))
    /// print(try store.perform(.importDocument(document, dryRun: true)))
    /// ```
    public static func importDocument(
        _ document: PolicyDocument, prune: Bool = false, dryRun: Bool = false
    ) -> StoreOperation<ImportPlan> {
        StoreOperation<ImportPlan>(dryRun ? .read : .write) { tx throws(PolicyStoreError) in
            try tx.importDocument(document, prune: prune, dryRun: dryRun)
        }
    }
}
