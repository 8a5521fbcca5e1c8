import SQLiteCore

/// One thing `checkIntegrity()` found wrong with the database.
public struct IntegrityFinding: Sendable, Hashable, CustomStringConvertible {
    /// Which check found it.
    public enum Check: String, Sendable, Hashable {
        /// `PRAGMA integrity_check`: the file's structure.
        case integrity = "integrity_check"
        /// `PRAGMA foreign_key_check`: links and rules that point at nothing.
        case foreignKeys = "foreign_key_check"
        /// The Swift domain rules, applied again to every stored row.
        case domain
        /// The schema compared with the one the library's migrations make.
        case schema
    }

    /// Which check found it.
    public let check: Check
    /// What is wrong, in the check's own words.
    public let message: String

    public var description: String { "\(check.rawValue): \(message)" }
}

extension StoreOperation {
    /// Checks the whole database: SQLite's `integrity_check` and `foreign_key_check`, then
    /// every stored name, description and rule against the domain rules. An empty result
    /// means all is well.
    ///
    /// ```swift
    /// for finding in try store.perform(.checkIntegrity()) { print(finding) }
    /// ```
    public static func checkIntegrity() -> StoreOperation<[IntegrityFinding]> {
        // Each check reads on its own, outside a transaction: on a damaged file SQLite fails
        // the COMMIT of a read too, which would hide what the checks found.
        StoreOperation<[IntegrityFinding]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.checkIntegrity() }
    }

    /// ``StoreTransaction/schemaDifferences()``: how the file's schema differs from the
    /// library's. A store opened read-only may read a file with such differences, which one
    /// that writes refuses; show them as a warning.
    ///
    /// ```swift
    /// for difference in try store.perform(.schemaDifferences()) { print("warning: \(difference)") }
    /// ```
    public static func schemaDifferences() -> StoreOperation<[SchemaDifference]> {
        StoreOperation<[SchemaDifference]>(.read) { tx throws(PolicyStoreError) in try tx.schemaDifferences() }
    }
}

extension StoreTransaction {
    /// What ``StoreOperation/checkIntegrity()`` finds, read in this transaction.
    public func checkIntegrity() throws(PolicyStoreError) -> [IntegrityFinding] {
        try readOperation { try integrityFindings() }
    }

    /// How the file's schema differs from the one the library's migrations make: objects
    /// added, missing or changed, compared as SQL text. Empty for an untouched file.
    public func schemaDifferences() throws(PolicyStoreError) -> [SchemaDifference] {
        try readOperation { try currentSchemaDifferences() }
    }

    private func currentSchemaDifferences() throws -> [SchemaDifference] {
        try SchemaVerification.differences(
            in: connection, schema: PolicyStoreSchema.schema, version: try Migrator(PolicyStoreSchema.schema).appliedVersion(connection))
    }

    private func integrityFindings() throws -> [IntegrityFinding] {
        var findings = try currentSchemaDifferences().map {
            IntegrityFinding(check: .schema, message: "\($0): \(Self.schemaAdvice($0.change))")
        }
        do {
            try connection.forEachRow(CheckSQL.integrity.sql) { row in
                let line = row.text(0)
                if line != "ok" { findings.append(IntegrityFinding(check: .integrity, message: line)) }
            }
        } catch let error as SQLiteError where error.code.primary == .corrupt {
            // SQLite lists what it found, then stops at damage it cannot check past; reading
            // every row would fail at the same damage, so the other checks are left out.
            findings.append(IntegrityFinding(check: .integrity, message: error.message))
            return findings
        }
        findings += try connection.query(CheckSQL.foreignKeys.sql) { row in
            IntegrityFinding(
                check: .foreignKeys,
                message: "\(row.text(0)) row \(row.optionalText(1) ?? "?") points at a missing row of \(row.text(2))")
        }
        for policy in try allPolicies() {
            findings += domainFindings(.policy, name: policy.name, content: policy.content, damage: policy.damage)
        }
        for ruleset in try allRulesets() {
            findings += domainFindings(.ruleset, name: ruleset.name, content: ruleset.content, damage: ruleset.damage)
        }
        findings += try catalogueFindings()
        for cluster in try allClusters() {
            if let problem = ClusterARNRules.problem(in: cluster.arn) {
                findings.append(IntegrityFinding(check: .domain, message: PolicyStoreError.invalidClusterARN(cluster.arn, problem).description))
            }
            findings += damageFindings(.cluster, cluster.arn, cluster.damage)
        }
        for change in try everyChange() {
            findings += change.damage.map {
                IntegrityFinding(check: .domain, message: "changes row \(change.sequence) (\(change.kind) \(quoted(change.name))): \($0)")
            }
        }
        // Outside a write of the library the row must not exist: the triggers would take its
        // actor for everyone else's changes.
        if let actor = try connection.queryFirst(CheckSQL.leftoverWriteContext.sql, [], { $0.text(0) }) {
            findings.append(IntegrityFinding(
                check: .domain,
                message: "write_context holds a row (actor \(quoted(actor))) outside a write: delete it with DELETE FROM write_context"))
        }
        return findings
    }

    private func damageFindings(_ kind: ObjectKind, _ name: String, _ damage: [StoredDamage]) -> [IntegrityFinding] {
        damage.map { IntegrityFinding(check: .domain, message: "\(kind) \(quoted(name)): \($0)") }
    }

    private static func schemaAdvice(_ change: SchemaDifference.Change) -> String {
        switch change {
        case .added: return "not made by this library; it may change what every write does"
        case .missing: return "dropped; a rule of the product or the history is no longer enforced"
        case .changed: return "replaced with other SQL; it may no longer do what the library expects"
        }
    }

    /// The product's rules applied again to a stored object: its name, its content, and the
    /// damage its reading found.
    private func domainFindings<Content: ObjectContent>(
        _ kind: ObjectKind, name: String, content: Content, damage: [StoredDamage]
    ) -> [IntegrityFinding] {
        var findings: [IntegrityFinding] = []
        if let problem = NameRules.problem(in: name) {
            findings.append(IntegrityFinding(check: .domain, message: PolicyStoreError.invalidName(kind, name: name, problem).description))
        }
        do {
            try content.validate(name: name)
        } catch {
            findings.append(IntegrityFinding(check: .domain, message: error.description))
        }
        return findings + damageFindings(kind, name, damage)
    }
}
