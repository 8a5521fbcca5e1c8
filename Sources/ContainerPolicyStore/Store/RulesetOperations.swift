import SQLiteCore

extension StoreTransaction {
    static let rulesetColumns = """
        SELECT s.id, s.name, s.description, s.revision, s.created_at, s.updated_at,
               (SELECT json_group_array(rule_id || ':' || mitigation) FROM ruleset_rules WHERE ruleset_id = s.id)
        FROM rulesets AS s
        """

    // Whole statements, built once: the statement cache is keyed by the full text.
    static let rulesetByName = rulesetColumns + " WHERE s.name = ?"
    static let rulesetPage = rulesetColumns + " WHERE s.name > ? ORDER BY s.name LIMIT ?"
    static let everyRuleset = rulesetColumns + " ORDER BY s.name"

    static func decodeRuleset(_ row: Row) -> Ruleset {
        var damage: [StoredDamage] = []
        // Each entry is `TM-00000001:log`. Neither a valid ID nor a mitigation holds a colon,
        // so an entry is a valid rule exactly when both sides of its first colon are.
        var rules: [RuleReference] = []
        for entry in decodeNames(row, 6, location: "ruleset_rules", damage: &damage) {
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
        return Ruleset(
            id: row.int(0), name: row.text(1), description: row.text(2),
            rules: rules.sorted { $0.id < $1.id },
            revision: row.int(3),
            createdAt: row.timestamp(4, location: "rulesets.created_at", damage: &damage),
            updatedAt: row.timestamp(5, location: "rulesets.updated_at", damage: &damage),
            damage: damage)
    }

    // MARK: Reading

    /// The ruleset with this name, ignoring letter case, or nil.
    public func ruleset(named name: String) throws(PolicyStoreError) -> Ruleset? {
        try readOperation {
            try connection.queryFirst(Self.rulesetByName, [SQLValue(name)], Self.decodeRuleset)
        }
    }

    /// One page of rulesets sorted by name (ignoring letter case), after `after`.
    public func rulesets(after: String? = nil, limit: Int = 100) throws(PolicyStoreError) -> [Ruleset] {
        try readOperation {
            try Self.checkPageSize(limit)
            return try connection.query(Self.rulesetPage, [SQLValue(after ?? ""), SQLValue(limit)], Self.decodeRuleset)
        }
    }

    /// Every ruleset, sorted by name: for work that reads the whole store in one transaction.
    func allRulesets() throws -> [Ruleset] {
        try connection.query(Self.everyRuleset, [], Self.decodeRuleset)
    }

    /// How many rulesets there are.
    public func rulesetCount() throws(PolicyStoreError) -> Int {
        try readOperation {
            try connection.queryFirst("SELECT count(*) FROM rulesets") { $0.int(0) } ?? 0
        }
    }

    func existingRuleset(_ name: String) throws -> Ruleset {
        guard let ruleset = try ruleset(named: name) else { throw PolicyStoreError.notFound(.ruleset, name: name) }
        return ruleset
    }

    func existingRulesetID(_ name: String) throws -> Int {
        guard let id = try connection.queryFirst("SELECT id FROM rulesets WHERE name = ?", [SQLValue(name)], { $0.int(0) })
        else { throw PolicyStoreError.notFound(.ruleset, name: name) }
        return id
    }

    // MARK: Writing

    /// Creates a ruleset with its rules. Rule IDs are `TM-` and 8 digits, each at most once.
    ///
    /// ```swift
    /// try tx.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
    /// ```
    @discardableResult
    public func createRuleset(named name: String, description: String = "", rules: [RuleReference] = []) throws(PolicyStoreError) -> Ruleset {
        try writeOperation {
            try insertRuleset(named: name, description: description, rules: rules)
            return try existingRuleset(name)
        }
    }

    /// Creates a ruleset without reading it back: the part of a create an import needs.
    func insertRuleset(named name: String, description: String, rules: [RuleReference]) throws {
        try NameRules.validate(name, kind: .ruleset)
        try DescriptionRules.validate(description, kind: .ruleset, name: name)
        try Self.validate(rules, ruleset: name)
        try checkNameIsFree(name, kind: .ruleset)
        try connection.run(
            "INSERT INTO rulesets (name, description) VALUES (?, ?)", [SQLValue(name), SQLValue(description)])
        let id = connection.lastInsertRowID
        for rule in rules { try insert(rule, rulesetID: id) }
        try recordRulesetChange(id: id, action: .create, before: nil)
    }

    /// Copies a ruleset's description and rules under `newName`, or the source's name with
    /// `Copy` appended. A name that is taken or too long is refused, never changed to fit.
    @discardableResult
    public func duplicateRuleset(named name: String, as newName: String? = nil) throws(PolicyStoreError) -> Ruleset {
        try writeOperation {
            let source = try existingRuleset(name)
            guard source.damage.isEmpty else { throw PolicyStoreError.damagedData(.ruleset, name: source.name, source.damage) }
            let copyName = newName ?? source.name + "Copy"
            try NameRules.validate(copyName, kind: .ruleset)
            try checkNameIsFree(copyName, kind: .ruleset)
            try connection.run(
                "INSERT INTO rulesets (name, description) SELECT ?, description FROM rulesets WHERE id = ?",
                [SQLValue(copyName), SQLValue(source.id)])
            let id = connection.lastInsertRowID
            try connection.run(
                "INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) SELECT ?, rule_id, mitigation FROM ruleset_rules WHERE ruleset_id = ?",
                [SQLValue(id), SQLValue(source.id)])
            try recordRulesetChange(id: id, action: .create, before: nil)
            return try existingRuleset(copyName)
        }
    }

    /// Changes a ruleset's description and rules; rules are compared by ID, so only the
    /// rules that differ are written. `expectedRevision` works as for policies; a change moves
    /// the revision by one.
    ///
    /// ```swift
    /// try tx.modifyRuleset(named: "baseline") { $0.rules.append(RuleReference(id: "TM-00000042")) }
    /// ```
    @discardableResult
    public func modifyRuleset(
        named name: String, expectedRevision: Int? = nil, _ edit: (inout RulesetEdit) -> Void
    ) throws(PolicyStoreError) -> Ruleset {
        try writeOperation {
            let current = try existingRuleset(name)
            if let expectedRevision, expectedRevision != current.revision {
                throw PolicyStoreError.revisionConflict(
                    .ruleset, name: current.name, expected: expectedRevision, actual: current.revision)
            }
            var changed = RulesetEdit(description: current.description, rules: current.rules)
            edit(&changed)
            return try update(current, to: changed) ? existingRuleset(current.name) : current
        }
    }

    /// Writes `changed` over `current` and records it, when anything differs; true when it did.
    func update(_ current: Ruleset, to changed: RulesetEdit) throws -> Bool {
        guard current.damage.isEmpty else { throw PolicyStoreError.damagedData(.ruleset, name: current.name, current.damage) }
        try DescriptionRules.validate(changed.description, kind: .ruleset, name: current.name)
        try Self.validate(changed.rules, ruleset: current.name)
        let ruleChanges = RuleChanges(from: current.rules, to: changed.rules)
        guard changed.description != current.description || !ruleChanges.isEmpty else { return false }

        let before = try rulesetState(id: current.id)
        if changed.description != current.description {
            try connection.run(
                "UPDATE rulesets SET description = ? WHERE id = ?", [SQLValue(changed.description), SQLValue(current.id)])
        }
        for id in ruleChanges.removed {
            try connection.run(
                "DELETE FROM ruleset_rules WHERE ruleset_id = ? AND rule_id = ?", [SQLValue(current.id), SQLValue(id)])
        }
        for rule in ruleChanges.added { try insert(rule, rulesetID: current.id) }
        for rule in ruleChanges.remitigated {
            try connection.run(
                "UPDATE ruleset_rules SET mitigation = ? WHERE ruleset_id = ? AND rule_id = ?",
                [SQLValue(rule.mitigation.rawValue), SQLValue(current.id), SQLValue(rule.id)])
        }
        try recordRulesetChange(id: current.id, action: .modify, before: before)
        return true
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
            let before = try rulesetState(id: ruleset.id)
            try connection.run("DELETE FROM rulesets WHERE id = ?", [SQLValue(ruleset.id)])
            try recordDeletion(.ruleset, name: ruleset.name, revision: ruleset.revision, before: before)
        }
    }

    private func insert(_ rule: RuleReference, rulesetID: Int) throws {
        try connection.run(
            "INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) VALUES (?, ?, ?)",
            [SQLValue(rulesetID), SQLValue(rule.id), SQLValue(rule.mitigation.rawValue)])
    }

    static func validate(_ rules: [RuleReference], ruleset: String) throws(PolicyStoreError) {
        var seen = Set<String>()
        for rule in rules {
            guard RuleReference.isValidID(rule.id) else { throw .invalidRule(ruleset: ruleset, ruleID: rule.id, .malformedID) }
            guard seen.insert(rule.id).inserted else { throw .invalidRule(ruleset: ruleset, ruleID: rule.id, .duplicate) }
        }
    }
}

/// How one list of rules becomes another, compared by rule ID; each part sorted by ID.
struct RuleChanges {
    let added: [RuleReference]
    let removed: [String]
    /// Rules in both lists whose mitigation changes, with the new mitigation.
    let remitigated: [RuleReference]

    init(from old: [RuleReference], to new: [RuleReference]) {
        let oldMitigations = Dictionary(uniqueKeysWithValues: old.map { ($0.id, $0.mitigation) })
        let newIDs = Set(new.map(\.id))
        let sortedNew = new.sorted { $0.id < $1.id }
        added = sortedNew.filter { oldMitigations[$0.id] == nil }
        removed = old.map(\.id).filter { !newIDs.contains($0) }.sorted()
        remitigated = sortedNew.filter { rule in oldMitigations[rule.id].map { $0 != rule.mitigation } ?? false }
    }

    var isEmpty: Bool { added.isEmpty && removed.isEmpty && remitigated.isEmpty }
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
        StoreOperation<Ruleset>(.write) { tx throws(PolicyStoreError) in
            try tx.createRuleset(named: name, description: description, rules: rules)
        }
    }

    /// ``StoreTransaction/duplicateRuleset(named:as:)``: by default the copy is named with
    /// `Copy` appended.
    public static func duplicateRuleset(named name: String, as newName: String? = nil) -> StoreOperation<Ruleset> {
        StoreOperation<Ruleset>(.write) { tx throws(PolicyStoreError) in try tx.duplicateRuleset(named: name, as: newName) }
    }

    /// ``StoreTransaction/modifyRuleset(named:expectedRevision:_:)``.
    public static func modifyRuleset(
        named name: String, expectedRevision: Int? = nil, _ edit: @escaping @Sendable (inout RulesetEdit) -> Void
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
