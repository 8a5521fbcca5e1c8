import SQLiteCore

extension StoreTransaction {
    /// Refuses, before the schema's trigger would, a rule that a present catalogue lacks,
    /// naming the closest IDs it has. Without a catalogue, any well-formed ID passes.
    func checkCatalogueHolds(_ rules: [RuleReference], ruleset: String) throws {
        guard !rules.isEmpty, try hasCatalogue() else { return }
        for rule in rules where try connection.queryFirst(ManagedRuleSQL.holds.sql, [SQLValue(rule.id)], { _ in true }) == nil {
            throw PolicyStoreError.unknownManagedRule(ruleset: ruleset, ruleID: rule.id, closest: try closestManagedRuleIDs(to: rule.id))
        }
    }

    /// The catalogue's IDs nearest to `id` (by edit distance on the digits), at most
    /// `limit`: what to suggest for an ID it lacks. Empty without a catalogue.
    ///
    /// ```swift
    /// print(try tx.managedRuleIDs(closestTo: "TM-00000032"))   // ["TM-00000023", "TM-00000031", ...]
    /// ```
    public func managedRuleIDs(closestTo id: String, limit: Int = 3) throws(PolicyStoreError) -> [String] {
        try readOperation { try closestManagedRuleIDs(to: id, limit: limit) }
    }

    func closestManagedRuleIDs(to id: String, limit: Int = 3) throws -> [String] {
        ManagedRuleRules.closest(to: id, among: try connection.query(ManagedRuleSQL.ids.sql) { $0.text(0) }, limit: limit)
    }

    /// What `checkIntegrity` finds in the catalogue: damaged rules, and, when there is a
    /// catalogue, rules that rulesets apply and it lacks (a first catalogue typed in the shell
    /// can lack them; nothing else can make them).
    func catalogueFindings() throws -> [IntegrityFinding] {
        var findings: [IntegrityFinding] = []
        for rule in try allManagedRules() {
            findings += rule.damage.map { IntegrityFinding(check: .domain, message: "managed rule \(quoted(rule.id)): \($0)") }
        }
        guard try hasCatalogue() else { return findings }
        try connection.forEachRow(ManagedRuleSQL.appliedButMissing.sql) { row in
            findings.append(IntegrityFinding(
                check: .domain,
                message: "the ruleset \(quoted(row.text(0))) applies \(row.text(1)), which the managed-rule catalogue does not hold: remove the rule from the ruleset, or import a list that holds it"))
        }
        return findings
    }
}

extension ManagedRuleRules {
    /// The IDs of `ids` nearest to `id`, at most `limit`: by edit distance on the 8 digits
    /// (a digit changed, added, dropped or two swapped counts one), then by how far apart the
    /// numbers are, then in ID order.
    static func closest(to id: String, among ids: [String], limit: Int = 3) -> [String] {
        func digits(_ id: String) -> [UInt8] { Array(id.utf8.dropFirst(3)) }
        func number(_ digits: [UInt8]) -> Int { Int(String(decoding: digits, as: UTF8.self)) ?? 0 }
        let target = digits(id)
        return ids.map { candidate -> (id: String, distance: Int, gap: Int) in
            let candidateDigits = digits(candidate)
            return (candidate, editDistance(target, candidateDigits), abs(number(target) - number(candidateDigits)))
        }
        .sorted { ($0.distance, $0.gap, $0.id) < ($1.distance, $1.gap, $1.id) }
        .prefix(limit).map(\.id)
    }

    /// The optimal string alignment distance: Levenshtein's, with a swap of two neighbours as
    /// one edit.
    static func editDistance(_ left: [UInt8], _ right: [UInt8]) -> Int {
        guard !left.isEmpty else { return right.count }
        guard !right.isEmpty else { return left.count }
        var table = Array(repeating: Array(repeating: 0, count: right.count + 1), count: left.count + 1)
        for row in 0...left.count { table[row][0] = row }
        for column in 0...right.count { table[0][column] = column }
        for row in 1...left.count {
            for column in 1...right.count {
                let cost = left[row - 1] == right[column - 1] ? 0 : 1
                var best = min(table[row - 1][column] + 1, table[row][column - 1] + 1, table[row - 1][column - 1] + cost)
                if row > 1, column > 1, left[row - 1] == right[column - 2], left[row - 2] == right[column - 1] {
                    best = min(best, table[row - 2][column - 2] + 1)
                }
                table[row][column] = best
            }
        }
        return table[left.count][right.count]
    }
}

extension StoreOperation {
    /// ``StoreTransaction/importManagedRules(_:)``: replaces the catalogue in one
    /// transaction, all or nothing.
    ///
    /// ```swift
    /// let catalogue = try ManagedRuleCatalogue(json: Data(contentsOf: URL(fileURLWithPath: "managed-rules.json")))
    /// print(try store.perform(.importManagedRules(catalogue)))
    /// ```
    public static func importManagedRules(_ catalogue: ManagedRuleCatalogue) -> StoreOperation<ManagedRuleImport> {
        StoreOperation<ManagedRuleImport>(.write) { tx throws(PolicyStoreError) in try tx.importManagedRules(catalogue) }
    }

    /// ``StoreTransaction/managedRule(id:)``: the catalogue's rule with this ID, or nil.
    public static func managedRule(id: String) -> StoreOperation<ManagedRule?> {
        StoreOperation<ManagedRule?>(.singleStatement) { tx throws(PolicyStoreError) in try tx.managedRule(id: id) }
    }

    /// ``StoreTransaction/managedRules(after:limit:)``: a page of the catalogue sorted by ID.
    public static func managedRules(after: String? = nil, limit: Int = 100) -> StoreOperation<[ManagedRule]> {
        StoreOperation<[ManagedRule]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.managedRules(after: after, limit: limit) }
    }

    /// ``StoreTransaction/managedRuleIDs(closestTo:limit:)``: the catalogue's IDs nearest to `id`.
    public static func managedRuleIDs(closestTo id: String, limit: Int = 3) -> StoreOperation<[String]> {
        StoreOperation<[String]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.managedRuleIDs(closestTo: id, limit: limit) }
    }

    /// ``StoreTransaction/managedRuleCount()``: 0 when no catalogue was imported.
    public static func managedRuleCount() -> StoreOperation<Int> {
        StoreOperation<Int>(.singleStatement) { tx throws(PolicyStoreError) in try tx.managedRuleCount() }
    }

    /// ``StoreTransaction/rulesets(applyingRule:)``: the rulesets that apply the rule.
    public static func rulesets(applyingRule id: String) -> StoreOperation<[String]> {
        StoreOperation<[String]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.rulesets(applyingRule: id) }
    }

    /// ``StoreTransaction/ruleNames(forRuleset:)``: the catalogue's names of the ruleset's
    /// rules, or nil without a catalogue.
    public static func ruleNames(forRuleset name: String) -> StoreOperation<[String: String]?> {
        StoreOperation<[String: String]?>(.read) { tx throws(PolicyStoreError) in try tx.ruleNames(forRuleset: name) }
    }

    /// ``StoreTransaction/ruleNames(forPolicy:)``: the catalogue's names of the rules of the
    /// policy's rulesets, or nil without a catalogue.
    public static func ruleNames(forPolicy name: String) -> StoreOperation<[String: String]?> {
        StoreOperation<[String: String]?>(.read) { tx throws(PolicyStoreError) in try tx.ruleNames(forPolicy: name) }
    }
}
