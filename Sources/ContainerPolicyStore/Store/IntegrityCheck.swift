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
}

extension StoreTransaction {
    /// What ``StoreOperation/checkIntegrity()`` finds, read in this transaction.
    public func checkIntegrity() throws(PolicyStoreError) -> [IntegrityFinding] {
        try readOperation { try integrityFindings() }
    }

    private func integrityFindings() throws -> [IntegrityFinding] {
        var findings: [IntegrityFinding] = []
        do {
            try connection.forEachRow("PRAGMA integrity_check") { row in
                let line = row.text(0)
                if line != "ok" { findings.append(IntegrityFinding(check: .integrity, message: line)) }
            }
        } catch let error as SQLiteError where error.code.primary == .corrupt {
            // SQLite lists what it found, then stops at damage it cannot check past; reading
            // every row would fail at the same damage, so the other checks are left out.
            findings.append(IntegrityFinding(check: .integrity, message: error.message))
            return findings
        }
        findings += try connection.query("PRAGMA foreign_key_check") { row in
            IntegrityFinding(
                check: .foreignKeys,
                message: "\(row.text(0)) row \(row.optionalText(1) ?? "?") points at a missing row of \(row.text(2))")
        }
        for policy in try allPolicies() {
            findings += domainFindings(kind: .policy, name: policy.name, description: policy.description)
        }
        for ruleset in try allRulesets() {
            findings += domainFindings(kind: .ruleset, name: ruleset.name, description: ruleset.description)
            do {
                try Self.validate(ruleset.rules, ruleset: ruleset.name)
            } catch {
                findings.append(IntegrityFinding(check: .domain, message: error.description))
            }
        }
        for arn in try connection.query("SELECT arn FROM clusters ORDER BY arn", [], { $0.text(0) }) {
            if let problem = ClusterARNRules.problem(in: arn) {
                findings.append(IntegrityFinding(check: .domain, message: PolicyStoreError.invalidClusterARN(arn, problem).description))
            }
        }
        // Outside a write of the library the row must not exist: the triggers would take its
        // actor for everyone else's changes.
        if let actor = try connection.queryFirst("SELECT actor FROM write_context", [], { $0.text(0) }) {
            findings.append(IntegrityFinding(
                check: .domain,
                message: "write_context holds a row (actor \(quoted(actor))) outside a write: delete it with DELETE FROM write_context"))
        }
        return findings
    }

    private func domainFindings(kind: ObjectKind, name: String, description: String) -> [IntegrityFinding] {
        var findings: [IntegrityFinding] = []
        if let problem = NameRules.problem(in: name) {
            findings.append(IntegrityFinding(check: .domain, message: PolicyStoreError.invalidName(kind, name: name, problem).description))
        }
        if let problem = DescriptionRules.problem(in: description) {
            findings.append(IntegrityFinding(check: .domain, message: PolicyStoreError.invalidDescription(kind, name: name, problem).description))
        }
        return findings
    }
}
