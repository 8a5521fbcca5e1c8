import SQLiteCore

/// The statements on `managed_rules` and `managed_rule_techniques`.
enum ManagedRuleSQL {
    /// A rule's techniques, as a JSON array.
    static let techniques = "(SELECT json_group_array(technique) FROM managed_rule_techniques WHERE rule_id = m.id)"
    static let select = "SELECT m.id, m.name, m.description, m.other_fields, m.imported_at, " + techniques
        + " FROM managed_rules AS m"

    static let byID = NamedSQL("a managed rule by id", select + " WHERE m.id = ?")
    static let page = NamedSQL("a page of managed rules", select + " WHERE m.id > ? ORDER BY m.id LIMIT ?")
    static let every = NamedSQL("every managed rule", select + " ORDER BY m.id", readsWholeTable: true)
    static let count = NamedSQL("how many managed rules", "SELECT count(*) FROM managed_rules", readsWholeTable: true)
    /// Whether there is a catalogue at all: the first ID, found through the key.
    static let first = NamedSQL("the first managed rule id", "SELECT id FROM managed_rules WHERE id > '' ORDER BY id LIMIT 1")
    static let holds = NamedSQL("whether the catalogue holds an id", "SELECT 1 FROM managed_rules WHERE id = ?")
    static let ids = NamedSQL("every managed rule id", "SELECT id FROM managed_rules ORDER BY id", readsWholeTable: true)
    static let insert = NamedSQL(
        "add a managed rule", "INSERT INTO managed_rules (id, name, description, other_fields) VALUES (?, ?, ?, ?)")
    static let update = NamedSQL(
        "change a managed rule",
        "UPDATE managed_rules SET name = ?, description = ?, other_fields = ?, imported_at = " + SQLCatalogue.currentTimestamp
            + " WHERE id = ?")
    static let delete = NamedSQL("remove a managed rule", "DELETE FROM managed_rules WHERE id = ?")
    static let insertTechnique = NamedSQL(
        "add a technique to a managed rule", "INSERT INTO managed_rule_techniques (rule_id, technique) VALUES (?, ?)")
    static let deleteTechniques = NamedSQL(
        "remove a managed rule's techniques", "DELETE FROM managed_rule_techniques WHERE rule_id = ?")
    static let rulesInUse = NamedSQL(
        "every rule a ruleset applies, with the ruleset",
        "SELECT rr.rule_id, s.name FROM ruleset_rules AS rr JOIN rulesets AS s ON s.id = rr.ruleset_id ORDER BY rr.rule_id, s.name",
        readsWholeTable: true)
    static let rulesetsApplying = NamedSQL(
        "the rulesets that apply a rule",
        "SELECT s.name FROM ruleset_rules AS rr JOIN rulesets AS s ON s.id = rr.ruleset_id WHERE rr.rule_id = ? ORDER BY s.name")
    static let namesInRuleset = NamedSQL(
        "the names of a ruleset's rules",
        "SELECT rr.rule_id, m.name FROM ruleset_rules AS rr JOIN managed_rules AS m ON m.id = rr.rule_id WHERE rr.ruleset_id = ?")
    static let namesInPolicy = NamedSQL(
        "the names of the rules of a policy's rulesets",
        "SELECT DISTINCT rr.rule_id, m.name FROM policy_rulesets AS pr JOIN ruleset_rules AS rr ON rr.ruleset_id = pr.ruleset_id "
            + "JOIN managed_rules AS m ON m.id = rr.rule_id WHERE pr.policy_id = ?")
    static let appliedButMissing = NamedSQL(
        "the rules rulesets apply that the catalogue lacks",
        "SELECT s.name, rr.rule_id FROM ruleset_rules AS rr JOIN rulesets AS s ON s.id = rr.ruleset_id "
            + "WHERE NOT EXISTS (SELECT 1 FROM managed_rules WHERE id = rr.rule_id) ORDER BY s.name, rr.rule_id",
        readsWholeTable: true)

    static let all = [
        byID, page, every, count, first, holds, ids, insert, update, delete, insertTechnique, deleteTechniques, rulesInUse,
        rulesetsApplying, namesInRuleset, namesInPolicy, appliedButMissing,
    ]
}

/// What an import of the managed-rule catalogue changed: the IDs of the rules added, changed
/// and removed, each sorted, and how many were already as the list has them.
public struct ManagedRuleImport: Sendable, Hashable, Codable, CustomStringConvertible {
    public let added: [String]
    public let changed: [String]
    public let removed: [String]
    public let unchanged: Int

    /// How many rules the catalogue holds now.
    public var total: Int { added.count + changed.count + unchanged }

    /// `42 managed rules: 3 added, 1 changed, 2 removed, 36 unchanged`.
    public var description: String {
        "\(total) managed rule\(total == 1 ? "" : "s"): \(added.count) added, \(changed.count) changed, "
            + "\(removed.count) removed, \(unchanged) unchanged"
    }
}

extension StoreTransaction {
    static func decodeManagedRule(_ row: Row) -> ManagedRule {
        var damage: [StoredDamage] = []
        let importedAt = row.timestamp(4, location: "managed_rules.imported_at", damage: &damage)
        let stored = ManagedRule(
            id: row.text(0), name: row.text(1), description: row.text(2), techniques: row.jsonStrings(5) ?? [],
            otherFields: row.text(3))
        damage += ManagedRuleRules.problems(of: stored).map { StoredDamage(location: $0.field.location, value: $0.value, problem: $0.message) }
        if case .object? = try? JSONParser.parse(Array(stored.otherFields.utf8)) {} else {
            damage.append(StoredDamage(location: "managed_rules.other_fields", value: stored.otherFields, problem: "is not a JSON object"))
        }
        return ManagedRule(
            id: stored.id, name: stored.name, description: stored.description, techniques: stored.techniques,
            otherFields: stored.otherFields, importedAt: importedAt, damage: damage)
    }

    // MARK: Reading

    /// The catalogue's rule with this ID, or nil.
    public func managedRule(id: String) throws(PolicyStoreError) -> ManagedRule? {
        try readOperation { try connection.queryFirst(ManagedRuleSQL.byID.sql, [SQLValue(id)], Self.decodeManagedRule) }
    }

    /// One page of the catalogue sorted by ID, after `after`.
    public func managedRules(after: String? = nil, limit: Int = 100) throws(PolicyStoreError) -> [ManagedRule] {
        try readOperation {
            try Self.checkPageSize(limit)
            return try connection.query(ManagedRuleSQL.page.sql, [SQLValue(after ?? ""), SQLValue(limit)], Self.decodeManagedRule)
        }
    }

    /// How many rules the catalogue holds: 0 when none was imported.
    public func managedRuleCount() throws(PolicyStoreError) -> Int {
        try readOperation { try connection.queryFirst(ManagedRuleSQL.count.sql) { $0.int(0) } ?? 0 }
    }

    /// The names of the rulesets that apply the rule `id`, sorted.
    public func rulesets(applyingRule id: String) throws(PolicyStoreError) -> [String] {
        try readOperation { try connection.query(ManagedRuleSQL.rulesetsApplying.sql, [SQLValue(id)]) { $0.text(0) } }
    }

    /// The catalogue's name for each rule the ruleset applies, by rule ID; a rule the
    /// catalogue lacks has none. Nil when the store has no catalogue: for showing a ruleset.
    public func ruleNames(forRuleset name: String) throws(PolicyStoreError) -> [String: String]? {
        try readOperation {
            let ruleset = try existingRulesetLink(name)
            guard try hasCatalogue() else { return nil }
            return try names(ManagedRuleSQL.namesInRuleset, ruleset.id)
        }
    }

    /// The catalogue's name for each rule the policy's rulesets apply, by rule ID; nil when
    /// the store has no catalogue.
    public func ruleNames(forPolicy name: String) throws(PolicyStoreError) -> [String: String]? {
        try readOperation {
            let policy = try existing(Policy.self, named: name)
            guard try hasCatalogue() else { return nil }
            return try names(ManagedRuleSQL.namesInPolicy, policy.id)
        }
    }

    private func names(_ statement: NamedSQL, _ id: Int) throws -> [String: String] {
        var names: [String: String] = [:]
        try connection.forEachRow(statement.sql, [SQLValue(id)]) { names[$0.text(0)] = $0.text(1) }
        return names
    }

    func hasCatalogue() throws -> Bool {
        try connection.queryFirst(ManagedRuleSQL.first.sql) { _ in true } ?? false
    }

    func allManagedRules() throws -> [ManagedRule] {
        try connection.query(ManagedRuleSQL.every.sql, [], Self.decodeManagedRule)
    }

    /// Every rule that rulesets apply, with their names.
    private func rulesInUse() throws -> [RuleUsage] {
        var usages: [RuleUsage] = []
        try connection.forEachRow(ManagedRuleSQL.rulesInUse.sql) { row in
            let id = row.text(0)
            if usages.last?.ruleID == id {
                usages[usages.count - 1] = RuleUsage(ruleID: id, rulesets: usages[usages.count - 1].rulesets + [row.text(1)])
            } else {
                usages.append(RuleUsage(ruleID: id, rulesets: [row.text(1)]))
            }
        }
        return usages
    }

    // MARK: Writing

    /// Replaces the whole catalogue with `catalogue`, the product's list as it is now: adds
    /// the rules it has that the store has not, changes those that differ, and removes those
    /// it lacks. Refused with ``PolicyStoreError/catalogueLacksRulesInUse(_:)``, naming the
    /// rulesets, when it lacks a rule a ruleset applies; then nothing is written. An empty
    /// list removes the catalogue, and with it the check of rule IDs against it.
    ///
    /// ```swift
    /// let result = try tx.importManagedRules(try ManagedRuleCatalogue(json: pages))
    /// print(result)   // 42 managed rules: 42 added, 0 changed, 0 removed, 0 unchanged
    /// ```
    @discardableResult
    public func importManagedRules(_ catalogue: ManagedRuleCatalogue) throws(PolicyStoreError) -> ManagedRuleImport {
        try writeOperation {
            let problems = Self.problems(of: catalogue)
            guard problems.isEmpty else { throw PolicyStoreError.invalidCatalogue(PolicyDocument.capped(problems, unlisted: 0)) }
            let newIDs = Set(catalogue.rules.map(\.id))
            let lacking = try rulesInUse().filter { !newIDs.contains($0.ruleID) }
            guard lacking.isEmpty else { throw PolicyStoreError.catalogueLacksRulesInUse(lacking) }

            var current: [String: ManagedRule] = [:]
            for rule in try allManagedRules() { current[rule.id] = rule }
            let removed = current.keys.filter { !newIDs.contains($0) }.sorted()
            for id in removed { try connection.run(ManagedRuleSQL.delete.sql, [SQLValue(id)]) }
            var added: [String] = []
            var changed: [String] = []
            for rule in catalogue.rules.sorted(by: { $0.id < $1.id }) {
                let fields = [SQLValue(rule.name), SQLValue(rule.description), SQLValue(rule.otherFields)]
                guard let old = current[rule.id] else {
                    try connection.run(ManagedRuleSQL.insert.sql, [SQLValue(rule.id)] + fields)
                    try insertTechniques(of: rule)
                    added.append(rule.id)
                    continue
                }
                // Every rule of the list is imported now, changed or not.
                try connection.run(ManagedRuleSQL.update.sql, fields + [SQLValue(rule.id)])
                if old.techniques != rule.techniques {
                    try connection.run(ManagedRuleSQL.deleteTechniques.sql, [SQLValue(rule.id)])
                    try insertTechniques(of: rule)
                }
                if !old.hasSameFields(as: rule) || !old.damage.isEmpty { changed.append(rule.id) }
            }
            return ManagedRuleImport(
                added: added, changed: changed, removed: removed, unchanged: catalogue.rules.count - added.count - changed.count)
        }
    }

    private func insertTechniques(of rule: ManagedRule) throws {
        for technique in Set(rule.techniques).sorted() {
            try connection.run(ManagedRuleSQL.insertTechnique.sql, [SQLValue(rule.id), SQLValue(technique)])
        }
    }

    /// Every rule of `catalogue` that cannot be stored, and every ID it lists twice, each at
    /// its place in `rules`.
    private static func problems(of catalogue: ManagedRuleCatalogue) -> [DocumentProblem] {
        var problems: [DocumentProblem] = []
        var places: [String: Int] = [:]
        for (index, rule) in catalogue.rules.enumerated() {
            let path = "rules[\(index)]"
            problems += ManagedRuleRules.problems(of: rule).map { DocumentProblem(path: "\(path).\($0.field.rawValue)", message: $0.message) }
            if let first = places[rule.id] {
                problems.append(DocumentProblem(path: path + ".id", message: "\(quoted(rule.id)) is listed already at rules[\(first)].id: list each rule once"))
            } else {
                places[rule.id] = index
            }
        }
        return problems
    }
}

extension ManagedRuleRules.Field {
    /// Where the store keeps the field: its table, and column.
    var location: String {
        self == .techniques ? "managed_rule_techniques" : "managed_rules." + storedColumn(self)
    }
}
