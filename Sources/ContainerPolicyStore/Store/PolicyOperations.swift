import SQLiteCore

/// The statements on `policies` and `policy_rulesets`. The content's columns come from
/// ``PolicyContent/Field``.
enum PolicySQL {
    /// The names of a policy's rulesets, as a JSON array: exact whatever they hold.
    static let linkedNames = """
        (SELECT json_group_array(r.name) FROM policy_rulesets AS pr JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
        """
    static let select = "SELECT p.id, p.name, p.revision, p.created_at, p.updated_at, p.rulesets_updated_at, "
        + linkedNames + ", " + PolicyContent.columns(prefix: "p.") + " FROM policies AS p"
    /// Where the content's columns start in `select`.
    static let firstFieldColumn: Int32 = 7
    static let returning = " RETURNING id, revision, created_at, updated_at, rulesets_updated_at"

    static let byName = NamedSQL("a policy by name", select + " WHERE p.name = ?")
    static let page = NamedSQL("a page of policies", select + " WHERE p.name > ? ORDER BY p.name LIMIT ?")
    static let every = NamedSQL("every policy", select + " ORDER BY p.name", readsWholeTable: true)
    static let count = NamedSQL("how many policies", "SELECT count(*) FROM policies", readsWholeTable: true)
    static let names = NamedSQL("every policy name", "SELECT name FROM policies ORDER BY name", readsWholeTable: true)
    static let nameTaken = NamedSQL("the policy that has a name", "SELECT name FROM policies WHERE name = ?")
    static let insert = NamedSQL(
        "create a policy",
        "INSERT INTO policies (name, " + PolicyContent.columns() + ") VALUES (?, " + PolicyContent.placeholders + ")" + returning)
    static let copy = NamedSQL(
        "copy a policy",
        "INSERT INTO policies (name, " + PolicyContent.columns() + ") SELECT ?, " + PolicyContent.columns()
            + " FROM policies WHERE id = ?" + returning)
    /// The content and the revision in one statement, with the timestamps of a change.
    static let update = NamedSQL(
        "change a policy",
        "UPDATE policies SET " + PolicyContent.assignments + ", revision = revision + 1, updated_at = " + SQLCatalogue.currentTimestamp
            + ", rulesets_updated_at = CASE WHEN ? THEN " + SQLCatalogue.currentTimestamp + " ELSE rulesets_updated_at END WHERE id = ?"
            + returning)
    static let delete = NamedSQL("delete a policy", "DELETE FROM policies WHERE id = ?")
    /// Names given as a JSON array, each with the ruleset it names, or NULLs: in the order given.
    static let rulesetsByName = NamedSQL(
        "the rulesets of a list of names",
        "SELECT j.value, r.id, r.name FROM json_each(?) AS j LEFT JOIN rulesets AS r ON r.name = j.value")
    static let link = NamedSQL("link a ruleset", "INSERT INTO policy_rulesets (policy_id, ruleset_id) VALUES (?, ?)")
    static let linkAll = NamedSQL(
        "link rulesets", "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, value FROM json_each(?)")
    static let unlinkByName = NamedSQL(
        "unlink a ruleset by name",
        "DELETE FROM policy_rulesets WHERE policy_id = ? AND ruleset_id = (SELECT id FROM rulesets WHERE name = ?)")
    static let copyLinks = NamedSQL(
        "copy a policy's links",
        "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, ruleset_id FROM policy_rulesets WHERE policy_id = ?")
    static let usingRuleset = NamedSQL(
        "the policies of a ruleset",
        "SELECT p.name FROM policy_rulesets AS pr JOIN policies AS p ON p.id = pr.policy_id WHERE pr.ruleset_id = ? ORDER BY p.name")

    static let all = [
        byName, page, every, count, names, nameTaken, insert, copy, update, delete, rulesetsByName, link, linkAll, unlinkByName, copyLinks,
        usingRuleset,
    ]
}

extension Policy {
    /// From `RETURNING id, revision, created_at, updated_at, rulesets_updated_at`.
    init(written row: Row, name: String, content: PolicyContent) {
        var damage: [StoredDamage] = []
        self.init(
            id: row.int(0), name: name, content: content, revision: row.int(1),
            createdAt: row.timestamp(2, location: "policies.created_at", damage: &damage),
            updatedAt: row.timestamp(3, location: "policies.updated_at", damage: &damage),
            rulesetsUpdatedAt: row.timestamp(4, location: "policies.rulesets_updated_at", damage: &damage))
    }
}

extension StoreTransaction {
    static func decodePolicy(_ row: Row) -> Policy {
        var damage: [StoredDamage] = []
        var content = PolicyContent(rulesets: sortedNames(decodeNames(row, 6, location: "policy_rulesets", damage: &damage)))
        content.readFields(row, from: PolicySQL.firstFieldColumn, table: "policies", damage: &damage)
        return Policy(
            id: row.int(0), name: row.text(1), content: content, revision: row.int(2),
            createdAt: row.timestamp(3, location: "policies.created_at", damage: &damage),
            updatedAt: row.timestamp(4, location: "policies.updated_at", damage: &damage),
            rulesetsUpdatedAt: row.timestamp(5, location: "policies.rulesets_updated_at", damage: &damage),
            damage: damage)
    }

    /// The names in a `json_group_array` column.
    static func decodeNames(_ row: Row, _ column: Int32, location: String, damage: inout [StoredDamage]) -> [String] {
        guard let names = row.jsonStrings(column) else {
            damage.append(StoredDamage(location: location, value: row.text(column), problem: "cannot be read as a list of names"))
            return []
        }
        return names
    }

    // MARK: Reading

    /// Every policy, sorted by name: for work that reads the whole store in one transaction.
    func allPolicies() throws -> [Policy] {
        try connection.query(PolicySQL.every.sql, [], Self.decodePolicy)
    }

    /// The names of the policies that link the ruleset, sorted.
    public func policies(usingRuleset rulesetName: String) throws(PolicyStoreError) -> [String] {
        try readOperation { try policyNames(usingRulesetID: try existingRulesetLink(rulesetName).id) }
    }

    func policyNames(usingRulesetID id: Int) throws -> [String] {
        try connection.query(PolicySQL.usingRuleset.sql, [SQLValue(id)]) { $0.text(0) }
    }

    // MARK: Writing

    /// Creates a policy. Its name must be new (ignoring letter case); every ruleset must exist.
    /// The history records one `create` at revision 1, with the rulesets.
    ///
    /// ```swift
    /// try tx.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"])
    /// ```
    @discardableResult
    public func createPolicy(
        named name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []
    ) throws(PolicyStoreError) -> Policy {
        try create(Policy.self, named: name, content: PolicyContent(description: description, xdrEnabled: xdrEnabled, rulesets: rulesets))
    }

    /// Creates a policy and records it, from the values it holds: nothing is read back.
    @discardableResult
    func insertPolicy(named name: String, content: PolicyContent) throws -> Policy {
        try NameRules.validate(name, kind: .policy)
        try content.validate(name: name)
        let links = try rulesetLinks(content.rulesets)
        try checkNameIsFree(name, kind: .policy)
        var stored = content
        stored.rulesets = sortedNames(links.map(\.name))
        let policy = try connection.queryFirst(PolicySQL.insert.sql, [SQLValue(name)] + stored.fieldValues) {
            Policy(written: $0, name: name, content: stored)
        }!
        try link(policyID: policy.id, rulesetIDs: links.map(\.id))
        try record(.policy, name: name, action: .create, revision: 1, before: nil, after: .policy(stored))
        return policy
    }

    /// Writes `changed` over `current` and records it when anything differs; returns the
    /// policy as it is now. Only the rulesets it adds are looked up: the others are linked.
    /// With `restoring`, the change is recorded as a restore of that revision.
    func update(_ current: Policy, to changed: PolicyContent, restoring restoredRevision: Int? = nil) throws -> Policy {
        guard current.damage.isEmpty else { throw PolicyStoreError.damagedData(.policy, name: current.name, current.damage) }
        try changed.validate(name: current.name)
        let requested = current.content.changes(to: changed)
        let added = try rulesetLinks(requested.addedRulesets)
        let changes = PolicyChanges(
            fields: requested.fields, addedRulesets: sortedNames(added.map(\.name)), removedRulesets: requested.removedRulesets)
        guard !changes.isEmpty else { return current }
        let removed = Set(changes.removedRulesets)
        var stored = changed
        stored.rulesets = sortedNames(current.rulesets.filter { !removed.contains($0) } + changes.addedRulesets)

        for name in changes.removedRulesets {
            try connection.run(PolicySQL.unlinkByName.sql, [SQLValue(current.id), SQLValue(name)])
        }
        try link(policyID: current.id, rulesetIDs: added.map(\.id))
        let linksChanged = !changes.addedRulesets.isEmpty || !changes.removedRulesets.isEmpty
        let updated = try connection.queryFirst(
            PolicySQL.update.sql, stored.fieldValues + [SQLValue(linksChanged), SQLValue(current.id)]
        ) { Policy(written: $0, name: current.name, content: stored) }!
        let action: Change.Action =
            restoredRevision != nil ? .restore
            : !changes.fields.isEmpty || (!changes.addedRulesets.isEmpty && !changes.removedRulesets.isEmpty) ? .modify
            : changes.addedRulesets.isEmpty ? .unlink : .link
        try record(.policy, name: current.name, action: action, revision: updated.revision,
            before: .policy(current.content), after: .policy(stored), restoredRevision: restoredRevision)
        return updated
    }

    /// Deletes the policy and its links (its rulesets stay), and records it; refused while a cluster uses it.
    func remove(_ policy: Policy) throws {
        let clusters = try clusterARNs(policyID: policy.id)
        guard clusters.isEmpty else { throw PolicyStoreError.policyAssigned(policy: policy.name, clusters: clusters) }
        try connection.run(PolicySQL.delete.sql, [SQLValue(policy.id)])
        try record(.policy, name: policy.name, action: .delete, revision: policy.revision,
            before: policy.damage.isEmpty ? .policy(policy.content) : nil, after: nil)
    }

    /// The rulesets named, each once, as the store spells them, in the order given: one
    /// statement for all of them (for one name, the plain lookup is cheaper than a list).
    private func rulesetLinks(_ names: [String]) throws -> [(id: Int, name: String)] {
        if names.count == 1 { return [try existingRulesetLink(names[0])] }
        guard !names.isEmpty else { return [] }
        let found = try connection.query(PolicySQL.rulesetsByName.sql, [SQLValue(JSONValue.array(names.map(JSONValue.string)).compactText)]) {
            (asked: $0.text(0), id: $0.isNull(1) ? nil : $0.int(1), name: $0.text(2))
        }
        var links: [(id: Int, name: String)] = []
        for ruleset in found {
            guard let id = ruleset.id else { throw PolicyStoreError.notFound(.ruleset, name: ruleset.asked) }
            if !links.contains(where: { $0.id == id }) { links.append((id, ruleset.name)) }
        }
        return links
    }

    /// Links the rulesets with these ids, in one statement.
    private func link(policyID: Int, rulesetIDs: [Int]) throws {
        guard rulesetIDs.count > 1 else {
            for id in rulesetIDs { try connection.run(PolicySQL.link.sql, [SQLValue(policyID), SQLValue(id)]) }
            return
        }
        try connection.run(PolicySQL.linkAll.sql, [SQLValue(policyID), SQLValue(JSONValue.array(rulesetIDs.map(JSONValue.integer)).compactText)])
    }

    func checkNameIsFree(_ name: String, kind: ObjectKind) throws {
        let sql = kind == .policy ? PolicySQL.nameTaken.sql : RulesetSQL.nameTaken.sql
        if let existing = try connection.queryFirst(sql, [SQLValue(name)], { $0.text(0) }) {
            throw PolicyStoreError.nameTaken(kind, name: name, existing: existing)
        }
    }
}

extension StoreOperation {
    /// ``StoreTransaction/createPolicy(named:description:xdrEnabled:rulesets:)``.
    ///
    /// ```swift
    /// let policy = try store.perform(.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"]))
    /// ```
    public static func createPolicy(
        named name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []
    ) -> StoreOperation<Policy> {
        .create(Policy.self, named: name, content: PolicyContent(description: description, xdrEnabled: xdrEnabled, rulesets: rulesets))
    }

    /// ``StoreTransaction/policies(usingRuleset:)``: the names of the policies that link the
    /// ruleset, sorted.
    public static func policies(usingRuleset name: String) -> StoreOperation<[String]> {
        StoreOperation<[String]>(.read) { tx throws(PolicyStoreError) in try tx.policies(usingRuleset: name) }
    }
}
