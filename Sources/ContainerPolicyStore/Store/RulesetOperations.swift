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

    /// The ruleset with this name, ignoring letter case, or nil.
    public func ruleset(named name: String) throws(PolicyStoreError) -> Ruleset? {
        try readOperation { try connection.queryFirst(RulesetSQL.byName.sql, [SQLValue(name)], Self.decodeRuleset) }
    }

    /// One page of rulesets sorted by name (ignoring letter case), after `after`.
    public func rulesets(after: String? = nil, limit: Int = 100) throws(PolicyStoreError) -> [Ruleset] {
        try readOperation {
            try Self.checkPageSize(limit)
            return try connection.query(RulesetSQL.page.sql, [SQLValue(after ?? ""), SQLValue(limit)], Self.decodeRuleset)
        }
    }

    /// Every ruleset, sorted by name: for work that reads the whole store in one transaction.
    func allRulesets() throws -> [Ruleset] {
        try connection.query(RulesetSQL.every.sql, [], Self.decodeRuleset)
    }

    /// How many rulesets there are.
    public func rulesetCount() throws(PolicyStoreError) -> Int {
        try readOperation { try connection.queryFirst(RulesetSQL.count.sql) { $0.int(0) } ?? 0 }
    }

    func existingRuleset(_ name: String) throws -> Ruleset {
        guard let ruleset = try ruleset(named: name) else { throw PolicyStoreError.notFound(.ruleset, name: name) }
        return ruleset
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
        try createRuleset(named: name, content: RulesetContent(description: description, rules: rules))
    }

    /// Creates a ruleset with this content.
    @discardableResult
    public func createRuleset(named name: String, content: RulesetContent) throws(PolicyStoreError) -> Ruleset {
        try writeOperation { try insertRuleset(named: name, content: content) }
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

    /// Copies a ruleset's description and rules under `newName`, or the source's name with
    /// `Copy` appended. A name that is taken or too long is refused, never changed to fit.
    @discardableResult
    public func duplicateRuleset(named name: String, as newName: String? = nil) throws(PolicyStoreError) -> Ruleset {
        try duplicateObject(Ruleset.self, named: name, as: newName)
    }

    /// Changes a ruleset's description and rules; rules are compared by ID, so only the
    /// rules that differ are written. `expectedRevision` works as for policies; a change moves
    /// the revision by one; when nothing changed, nothing is written.
    ///
    /// ```swift
    /// try tx.modifyRuleset(named: "baseline") { $0.rules.append(RuleReference(id: "TM-00000042")) }
    /// ```
    @discardableResult
    public func modifyRuleset(
        named name: String, expectedRevision: Int? = nil, _ edit: (inout RulesetContent) -> Void
    ) throws(PolicyStoreError) -> Ruleset {
        try modifyObject(Ruleset.self, named: name, expectedRevision: expectedRevision, edit)
    }

    /// The same, with an edit that may throw to abort the change: its error is thrown as it
    /// is, and nothing is written.
    @discardableResult
    public func modifyRuleset(
        named name: String, expectedRevision: Int? = nil, _ edit: (inout RulesetContent) throws -> Void
    ) throws -> Ruleset {
        try modifyObject(Ruleset.self, named: name, expectedRevision: expectedRevision, throwing: edit)
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

    /// Deletes a ruleset and its rules. Refused with
    /// ``PolicyStoreError/rulesetInUse(ruleset:policies:)`` while a policy links it.
    ///
    /// ```swift
    /// try tx.deleteRuleset(named: "legacy")
    /// ```
    public func deleteRuleset(named name: String) throws(PolicyStoreError) {
        try writeOperation {
            let ruleset = try existingRuleset(name)
            let users = try policyNames(usingRulesetID: ruleset.id)
            guard users.isEmpty else { throw PolicyStoreError.rulesetInUse(ruleset: ruleset.name, policies: users) }
            try connection.run(RulesetSQL.delete.sql, [SQLValue(ruleset.id)])
            try record(.ruleset, name: ruleset.name, action: .delete, revision: ruleset.revision,
                before: ruleset.damage.isEmpty ? .ruleset(ruleset.content) : nil, after: nil)
        }
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
        createRuleset(named: name, content: RulesetContent(description: description, rules: rules))
    }

    /// ``StoreTransaction/createRuleset(named:content:)``.
    public static func createRuleset(named name: String, content: RulesetContent) -> StoreOperation<Ruleset> {
        StoreOperation<Ruleset>(.write) { tx throws(PolicyStoreError) in try tx.createRuleset(named: name, content: content) }
    }

    /// ``StoreTransaction/duplicateRuleset(named:as:)``: by default the copy is named with
    /// `Copy` appended.
    public static func duplicateRuleset(named name: String, as newName: String? = nil) -> StoreOperation<Ruleset> {
        StoreOperation<Ruleset>(.write) { tx throws(PolicyStoreError) in try tx.duplicateRuleset(named: name, as: newName) }
    }

    /// ``StoreTransaction/modifyRuleset(named:expectedRevision:_:)-16k6q``.
    public static func modifyRuleset(
        named name: String, expectedRevision: Int? = nil, _ edit: @escaping @Sendable (inout RulesetContent) -> Void
    ) -> StoreOperation<Ruleset> {
        StoreOperation<Ruleset>(.write) { tx throws(PolicyStoreError) in
            try tx.modifyRuleset(named: name, expectedRevision: expectedRevision, edit)
        }
    }

    /// ``StoreTransaction/deleteRuleset(named:)``: refused while a policy uses it.
    public static func deleteRuleset(named name: String) -> StoreOperation<Void> {
        StoreOperation<Void>(.write) { tx throws(PolicyStoreError) in try tx.deleteRuleset(named: name) }
    }

    /// ``StoreTransaction/ruleset(named:)``: the ruleset with this name, ignoring letter case, or nil.
    public static func ruleset(named name: String) -> StoreOperation<Ruleset?> {
        StoreOperation<Ruleset?>(.singleStatement) { tx throws(PolicyStoreError) in try tx.ruleset(named: name) }
    }

    /// ``StoreTransaction/rulesets(after:limit:)``: a page of rulesets sorted by name.
    public static func rulesets(after: String? = nil, limit: Int = 100) -> StoreOperation<[Ruleset]> {
        StoreOperation<[Ruleset]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.rulesets(after: after, limit: limit) }
    }

    /// ``StoreTransaction/rulesetCount()``.
    public static func rulesetCount() -> StoreOperation<Int> {
        StoreOperation<Int>(.singleStatement) { tx throws(PolicyStoreError) in try tx.rulesetCount() }
    }
}
