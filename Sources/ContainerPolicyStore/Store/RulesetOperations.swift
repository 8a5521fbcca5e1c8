import SQLiteCore

/// The statements on `rulesets` and `ruleset_rules`. The content's columns come from
/// ``RulesetContent/Field``.
enum RulesetSQL {
    /// A ruleset's rules, `TM-00000001:log` each, as a JSON array: exact whatever they hold.
    static let linkedRules = """
        (SELECT json_group_array(rule_id || ':' || mitigation) FROM ruleset_rules WHERE ruleset_id = s.id)
        """
    static let select = "SELECT s.id, s.name, s.revision, s.created_at, s.updated_at, " + linkedRules + ", "
        + RulesetContent.columns(prefix: "s.") + " FROM rulesets AS s"
    /// Where the content's columns start in `select`.
    static let firstFieldColumn: Int32 = 6
    static let returning = " RETURNING id, revision, created_at, updated_at"

    static let byName = NamedSQL("a ruleset by name", select + " WHERE s.name = ?")
    static let page = NamedSQL("a page of rulesets", select + " WHERE s.name > ? ORDER BY s.name LIMIT ?")
    static let every = NamedSQL("every ruleset", select + " ORDER BY s.name", readsWholeTable: true)
    static let count = NamedSQL("how many rulesets", "SELECT count(*) FROM rulesets", readsWholeTable: true)
    static let names = NamedSQL("every ruleset name", "SELECT name FROM rulesets ORDER BY name", readsWholeTable: true)
    static let nameTaken = NamedSQL("the ruleset that has a name", "SELECT name FROM rulesets WHERE name = ?")
    static let link = NamedSQL("a ruleset's id and name", "SELECT id, name FROM rulesets WHERE name = ?")
    static let insert = NamedSQL(
        "create a ruleset",
        "INSERT INTO rulesets (name, " + RulesetContent.columns() + ") VALUES (?, " + RulesetContent.placeholders + ")" + returning)
    static let copy = NamedSQL(
        "copy a ruleset",
        "INSERT INTO rulesets (name, " + RulesetContent.columns() + ") SELECT ?, " + RulesetContent.columns()
            + " FROM rulesets WHERE id = ?" + returning)
    static let update = NamedSQL(
        "change a ruleset",
        "UPDATE rulesets SET " + RulesetContent.assignments + ", revision = revision + 1, updated_at = " + SQLCatalogue.currentTimestamp
            + " WHERE id = ?" + returning)
    static let delete = NamedSQL("delete a ruleset", "DELETE FROM rulesets WHERE id = ?")
    static let insertRule = NamedSQL(
        "add a rule", "INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) VALUES (?, ?, ?)")
    static let deleteRule = NamedSQL("remove a rule", "DELETE FROM ruleset_rules WHERE ruleset_id = ? AND rule_id = ?")
    static let remitigate = NamedSQL(
        "change a rule's mitigation", "UPDATE ruleset_rules SET mitigation = ? WHERE ruleset_id = ? AND rule_id = ?")
    static let copyRules = NamedSQL(
        "copy a ruleset's rules",
        "INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) SELECT ?, rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = ?")

    static let all = [
        byName, page, every, count, names, nameTaken, link, insert, copy, update, delete, insertRule, deleteRule, remitigate,
        copyRules,
    ]
}

extension Ruleset {
    /// From `RETURNING id, revision, created_at, updated_at`.
    init(written row: Row, name: String, content: RulesetContent) {
        var damage: [StoredDamage] = []
        self.init(
            id: row.int(0), name: name, content: content, revision: row.int(1),
            createdAt: row.timestamp(2, location: "rulesets.created_at", damage: &damage),
            updatedAt: row.timestamp(3, location: "rulesets.updated_at", damage: &damage))
    }
}

extension StoreTransaction {
    static func decodeRuleset(_ row: Row) -> Ruleset {
        var damage: [StoredDamage] = []
        // Each entry is `TM-00000001:log`. Neither a valid ID nor a mitigation holds a colon,
        // so an entry is a valid rule exactly when both sides of its first colon are.
        var rules: [RuleReference] = []
        for entry in decodeNames(row, 5, location: "ruleset_rules", damage: &damage) {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let id = String(parts[0])
            let mitigation = parts.count == 2 ? Mitigation(rawValue: String(parts[1])) : nil
            if RuleReference.isValidID(id), let mitigation {
                rules.append(RuleReference(id: id, mitigation: mitigation))
            } else {
                damage.append(StoredDamage(
                    location: "ruleset_rules", value: entry,
                    problem: RuleReference.isValidID(id)
                        ? "the mitigation is not log, isolate or terminate" : "the rule ID is not TM- and 8 digits"))
            }
        }
        var content = RulesetContent(rules: rules.sorted { $0.id < $1.id })
        content.readFields(row, from: RulesetSQL.firstFieldColumn, table: "rulesets", damage: &damage)
        return Ruleset(
            id: row.int(0), name: row.text(1), content: content, revision: row.int(2),
            createdAt: row.timestamp(3, location: "rulesets.created_at", damage: &damage),
            updatedAt: row.timestamp(4, location: "rulesets.updated_at", damage: &damage),
            damage: damage)
    }

    // MARK: Reading

    /// Every ruleset, sorted by name: for work that reads the whole store in one transaction.
    func allRulesets() throws -> [Ruleset] {
        try connection.query(RulesetSQL.every.sql, [], Self.decodeRuleset)
    }

    /// The id of the ruleset with this name, and its name as the store spells it.
    func existingRulesetLink(_ name: String) throws -> (id: Int, name: String) {
        guard let link = try connection.queryFirst(RulesetSQL.link.sql, [SQLValue(name)], { ($0.int(0), $0.text(1)) })
        else { throw PolicyStoreError.notFound(.ruleset, name: name) }
        return link
    }

    // MARK: Writing

    /// Creates a ruleset with its rules. Rule IDs are `TM-` and 8 digits, each at most once.
    ///
    /// ```swift
    /// try tx.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
    /// ```
    @discardableResult
    public func createRuleset(named name: String, description: String = "", rules: [RuleReference] = []) throws(PolicyStoreError) -> Ruleset {
        try create(Ruleset.self, named: name, content: RulesetContent(description: description, rules: rules))
    }

    /// Creates a ruleset and records it, from the values it holds: nothing is read back.
    @discardableResult
    func insertRuleset(named name: String, content: RulesetContent) throws -> Ruleset {
        try NameRules.validate(name, kind: .ruleset)
        try content.validate(name: name)
        try checkCatalogueHolds(content.rules, ruleset: name)
        try checkNameIsFree(name, kind: .ruleset)
        var stored = content
        stored.rules.sort { $0.id < $1.id }
        let ruleset = try connection.queryFirst(RulesetSQL.insert.sql, [SQLValue(name)] + stored.fieldValues) {
            Ruleset(written: $0, name: name, content: stored)
        }!
        for rule in stored.rules { try insert(rule, rulesetID: ruleset.id) }
        try record(.ruleset, name: name, action: .create, revision: 1, before: nil, after: .ruleset(stored))
        return ruleset
    }

    /// Writes `changed` over `current` and records it when anything differs; returns the
    /// ruleset as it is now.
    func update(_ current: Ruleset, to changed: RulesetContent) throws -> Ruleset {
        guard current.damage.isEmpty else { throw PolicyStoreError.damagedData(.ruleset, name: current.name, current.damage) }
        try changed.validate(name: current.name)
        var stored = changed
        stored.rules.sort { $0.id < $1.id }
        let changes = current.content.changes(to: stored)
        guard !changes.isEmpty else { return current }
        try checkCatalogueHolds(changes.addedRules, ruleset: current.name)
        for id in changes.removedRules {
            try connection.run(RulesetSQL.deleteRule.sql, [SQLValue(current.id), SQLValue(id)])
        }
        for rule in changes.addedRules { try insert(rule, rulesetID: current.id) }
        for rule in changes.remitigatedRules {
            try connection.run(
                RulesetSQL.remitigate.sql, [SQLValue(rule.mitigation.rawValue), SQLValue(current.id), SQLValue(rule.id)])
        }
        let updated = try connection.queryFirst(RulesetSQL.update.sql, stored.fieldValues + [SQLValue(current.id)]) {
            Ruleset(written: $0, name: current.name, content: stored)
        }!
        try record(.ruleset, name: current.name, action: .modify, revision: updated.revision,
            before: .ruleset(current.content), after: .ruleset(stored))
        return updated
    }

    /// Deletes the ruleset and its rules, and records it; refused while a policy links it.
    func remove(_ ruleset: Ruleset) throws {
        let users = try policyNames(usingRulesetID: ruleset.id)
        guard users.isEmpty else { throw PolicyStoreError.rulesetInUse(ruleset: ruleset.name, policies: users) }
        try connection.run(RulesetSQL.delete.sql, [SQLValue(ruleset.id)])
        try record(.ruleset, name: ruleset.name, action: .delete, revision: ruleset.revision,
            before: ruleset.damage.isEmpty ? .ruleset(ruleset.content) : nil, after: nil)
    }

    private func insert(_ rule: RuleReference, rulesetID: Int) throws {
        try connection.run(RulesetSQL.insertRule.sql, [SQLValue(rulesetID), SQLValue(rule.id), SQLValue(rule.mitigation.rawValue)])
    }
}

extension StoreOperation {
    /// ``StoreTransaction/createRuleset(named:description:rules:)``.
    ///
    /// ```swift
    /// try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
    /// ```
    public static func createRuleset(
        named name: String, description: String = "", rules: [RuleReference] = []
    ) -> StoreOperation<Ruleset> {
        .create(Ruleset.self, named: name, content: RulesetContent(description: description, rules: rules))
    }

}
