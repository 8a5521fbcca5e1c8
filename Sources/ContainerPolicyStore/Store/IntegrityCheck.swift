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

    public let check: Check
    public let message: String

    public var description: String { "\(check.rawValue): \(message)" }
}

extension PolicyStore {
    /// Checks the whole database: SQLite's `integrity_check` and `foreign_key_check`, then
    /// every stored name, description and rule against the domain rules. An empty result
    /// means all is well.
    ///
    /// ```swift
    /// for finding in try store.checkIntegrity() { print(finding) }
    /// ```
    public func checkIntegrity() throws(PolicyStoreError) -> [IntegrityFinding] {
        try perform(.deferred) { try $0.checkIntegrity() }
    }
}

extension StoreTransaction {
    func checkIntegrity() throws -> [IntegrityFinding] {
        var findings = try connection.query("PRAGMA integrity_check") { $0.text(0) }
            .filter { $0 != "ok" }
            .map { IntegrityFinding(check: .integrity, message: $0) }
        findings += try connection.query("PRAGMA foreign_key_check") { row in
            IntegrityFinding(
                check: .foreignKeys,
                message: "\(row.text(0)) row \(row.optionalText(1) ?? "?") points at a missing row of \(row.text(2))")
        }
        var after = ""
        while true {
            let page = try policies(after: after, limit: 1_000)
            for policy in page {
                findings += domainFindings(kind: .policy, name: policy.name, description: policy.description)
            }
            guard let last = page.last else { break }
            after = last.name
        }
        after = ""
        while true {
            let page = try rulesets(after: after, limit: 1_000)
            for ruleset in page {
                findings += domainFindings(kind: .ruleset, name: ruleset.name, description: ruleset.description)
                do {
                    try Self.validate(ruleset.rules, ruleset: ruleset.name)
                } catch {
                    findings.append(IntegrityFinding(check: .domain, message: error.description))
                }
            }
            guard let last = page.last else { break }
            after = last.name
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
