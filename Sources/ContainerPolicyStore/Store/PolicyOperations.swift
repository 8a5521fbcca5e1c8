extension StoreTransaction {
    static let policyColumns = """
        SELECT p.id, p.name, p.description, p.xdr_enabled, p.revision, p.created_at, p.updated_at,
               p.rulesets_updated_at,
               (SELECT group_concat(r.name, ',') FROM policy_rulesets AS pr
                JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
        FROM policies AS p
        """

    static func decodePolicy(_ row: Row) -> Policy {
        Policy(
            id: row.int(0), name: row.text(1), description: row.text(2), xdrEnabled: row.bool(3),
            rulesets: sortedNames(splitList(row.optionalText(8)).map(String.init)),
            revision: row.int(4),
            createdAt: Timestamp.date(from: row.text(5)),
            updatedAt: Timestamp.date(from: row.text(6)),
            rulesetsUpdatedAt: Timestamp.date(from: row.text(7)))
    }

    // MARK: Reading

    /// The policy with this name, ignoring letter case, or nil.
    public func policy(named name: String) throws -> Policy? {
        try connection.queryFirst(Self.policyColumns + " WHERE p.name = ?", [SQLValue(name)], Self.decodePolicy)
    }

    /// One page of policies sorted by name (ignoring letter case): those after `after`, at
    /// most `limit`. Pass the last name of a page to get the next one.
    public func policies(after: String? = nil, limit: Int = 100) throws -> [Policy] {
        try Self.checkPageSize(limit)
        return try connection.query(
            Self.policyColumns + " WHERE p.name > ? ORDER BY p.name LIMIT ?",
            [SQLValue(after ?? ""), SQLValue(limit)], Self.decodePolicy)
    }

    /// How many policies there are.
    public func policyCount() throws -> Int {
        try connection.queryFirst("SELECT count(*) FROM policies") { $0.int(0) } ?? 0
    }

    /// The names of the policies that link the ruleset, sorted.
    public func policies(usingRuleset rulesetName: String) throws -> [String] {
        let ruleset = try existingRuleset(rulesetName)
        return try policyNames(usingRulesetID: ruleset.id)
    }

    func policyNames(usingRulesetID id: Int) throws -> [String] {
        try connection.query(
            "SELECT p.name FROM policy_rulesets AS pr JOIN policies AS p ON p.id = pr.policy_id WHERE pr.ruleset_id = ? ORDER BY p.name",
            [SQLValue(id)]) { $0.text(0) }
    }

    func existingPolicy(_ name: String) throws -> Policy {
        guard let policy = try policy(named: name) else { throw PolicyStoreError.notFound(.policy, name: name) }
        return policy
    }

    // MARK: Writing

    /// Creates a policy. Its name must be new (ignoring letter case); every ruleset must exist.
    @discardableResult
    public func createPolicy(
        named name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []
    ) throws -> Policy {
        try NameRules.validate(name, kind: .policy)
        try DescriptionRules.validate(description, kind: .policy, name: name)
        let rulesetIDs = try rulesetIDs(rulesets)
        try checkNameIsFree(name, kind: .policy)
        try connection.run(
            "INSERT INTO policies (name, description, xdr_enabled) VALUES (?, ?, ?)",
            [SQLValue(name), SQLValue(description), SQLValue(xdrEnabled)])
        let id = connection.lastInsertRowID
        for rulesetID in rulesetIDs { try link(policyID: id, rulesetID: rulesetID) }
        return try existingPolicy(name)
    }

    /// Copies a policy: the same description, XDR setting and rulesets (linked, not copied).
    /// The copy is named `newName`, or the source's name with `Policy` appended. A name that
    /// is taken or too long is refused; it is never changed to fit.
    @discardableResult
    public func duplicatePolicy(named name: String, as newName: String? = nil) throws -> Policy {
        let source = try existingPolicy(name)
        let copyName = newName ?? source.name + "Policy"
        try NameRules.validate(copyName, kind: .policy)
        try checkNameIsFree(copyName, kind: .policy)
        try connection.run(
            "INSERT INTO policies (name, description, xdr_enabled) SELECT ?, description, xdr_enabled FROM policies WHERE id = ?",
            [SQLValue(copyName), SQLValue(source.id)])
        try connection.run(
            "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, ruleset_id FROM policy_rulesets WHERE policy_id = ?",
            [SQLValue(connection.lastInsertRowID), SQLValue(source.id)])
        return try existingPolicy(copyName)
    }

    /// Changes a policy's description, XDR setting and rulesets. With `expectedRevision`, the
    /// change is refused with ``PolicyStoreError/revisionConflict(_:name:expected:actual:)``
    /// unless the policy is still at that revision. Nothing is written when nothing changed.
    @discardableResult
    public func modifyPolicy(
        named name: String, expectedRevision: Int? = nil, _ edit: (inout PolicyEdit) -> Void
    ) throws -> Policy {
        let current = try existingPolicy(name)
        if let expectedRevision, expectedRevision != current.revision {
            throw PolicyStoreError.revisionConflict(
                .policy, name: current.name, expected: expectedRevision, actual: current.revision)
        }
        var changed = PolicyEdit(
            description: current.description, xdrEnabled: current.xdrEnabled, rulesets: current.rulesets)
        edit(&changed)
        try DescriptionRules.validate(changed.description, kind: .policy, name: current.name)
        let wanted = Set(try rulesetIDs(changed.rulesets))
        if changed.description != current.description || changed.xdrEnabled != current.xdrEnabled {
            try connection.run(
                "UPDATE policies SET description = ?, xdr_enabled = ? WHERE id = ?",
                [SQLValue(changed.description), SQLValue(changed.xdrEnabled), SQLValue(current.id)])
        }
        let linked = Set(try connection.query(
            "SELECT ruleset_id FROM policy_rulesets WHERE policy_id = ?", [SQLValue(current.id)]) { $0.int(0) })
        for rulesetID in linked.subtracting(wanted).sorted() {
            try connection.run(
                "DELETE FROM policy_rulesets WHERE policy_id = ? AND ruleset_id = ?",
                [SQLValue(current.id), SQLValue(rulesetID)])
        }
        for rulesetID in wanted.subtracting(linked).sorted() {
            try link(policyID: current.id, rulesetID: rulesetID)
        }
        return try existingPolicy(current.name)
    }

    /// Deletes a policy and its links; its rulesets stay. Refused with
    /// ``PolicyStoreError/policyAssigned(policy:clusters:)`` while a cluster uses it.
    public func deletePolicy(named name: String) throws {
        let policy = try existingPolicy(name)
        let clusters = try clusters(usingPolicy: policy.name)
        guard clusters.isEmpty else { throw PolicyStoreError.policyAssigned(policy: policy.name, clusters: clusters) }
        try connection.run("DELETE FROM policies WHERE id = ?", [SQLValue(policy.id)])
    }

    private func link(policyID: Int, rulesetID: Int) throws {
        try connection.run(
            "INSERT INTO policy_rulesets (policy_id, ruleset_id) VALUES (?, ?)",
            [SQLValue(policyID), SQLValue(rulesetID)])
    }

    /// The ids of the named rulesets, each once, in the order given.
    private func rulesetIDs(_ names: [String]) throws -> [Int] {
        var ids: [Int] = []
        for name in names {
            let id = try existingRulesetID(name)
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    func checkNameIsFree(_ name: String, kind: ObjectKind) throws {
        let sql = kind == .policy
            ? "SELECT name FROM policies WHERE name = ?"
            : "SELECT name FROM rulesets WHERE name = ?"
        if let existing = try connection.queryFirst(sql, [SQLValue(name)], { $0.text(0) }) {
            throw PolicyStoreError.nameTaken(kind, name: name, existing: existing)
        }
    }
}
