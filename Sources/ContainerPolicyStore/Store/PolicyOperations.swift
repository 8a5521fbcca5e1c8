import SQLiteCore

extension StoreTransaction {
    static let policyColumns = """
        SELECT p.id, p.name, p.description, p.xdr_enabled, p.revision, p.created_at, p.updated_at,
               p.rulesets_updated_at,
               (SELECT json_group_array(r.name) FROM policy_rulesets AS pr
                JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
        FROM policies AS p
        """
    // Whole statements, built once: the statement cache is keyed by the full text.
    static let policyByName = policyColumns + " WHERE p.name = ?"
    static let policyPage = policyColumns + " WHERE p.name > ? ORDER BY p.name LIMIT ?"
    static let everyPolicy = policyColumns + " ORDER BY p.name"

    static func decodePolicy(_ row: Row) -> Policy {
        var damage: [StoredDamage] = []
        let xdrEnabled = decodeXDR(row, 3, damage: &damage)
        return Policy(
            id: row.int(0), name: row.text(1), description: row.text(2), xdrEnabled: xdrEnabled,
            rulesets: sortedNames(decodeNames(row, 8, location: "policy_rulesets", damage: &damage)),
            revision: row.int(4),
            createdAt: row.timestamp(5, location: "policies.created_at", damage: &damage),
            updatedAt: row.timestamp(6, location: "policies.updated_at", damage: &damage),
            rulesetsUpdatedAt: row.timestamp(7, location: "policies.rulesets_updated_at", damage: &damage),
            damage: damage)
    }

    /// `xdr_enabled`, which only 0 and 1 may be; anything else is read as on and reported.
    static func decodeXDR(_ row: Row, _ column: Int32, damage: inout [StoredDamage]) -> Bool {
        let value = row.int(column)
        if value != 0, value != 1 {
            damage.append(StoredDamage(location: "policies.xdr_enabled", value: String(value), problem: "is not 0 (off) or 1 (on)"))
        }
        return value != 0
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

    /// The policy with this name, ignoring letter case, or nil.
    ///
    /// ```swift
    /// let policy = try tx.policy(named: "WEB.prod")   // finds "web.prod"
    /// ```
    public func policy(named name: String) throws(PolicyStoreError) -> Policy? {
        try readOperation {
            try connection.queryFirst(Self.policyByName, [SQLValue(name)], Self.decodePolicy)
        }
    }

    /// One page of policies sorted by name (ignoring letter case): those after `after`, at
    /// most `limit`. Pass the last name of a page to get the next one.
    public func policies(after: String? = nil, limit: Int = 100) throws(PolicyStoreError) -> [Policy] {
        try readOperation {
            try Self.checkPageSize(limit)
            return try connection.query(Self.policyPage, [SQLValue(after ?? ""), SQLValue(limit)], Self.decodePolicy)
        }
    }

    /// Every policy, sorted by name: for work that reads the whole store in one transaction.
    func allPolicies() throws -> [Policy] {
        try connection.query(Self.everyPolicy, [], Self.decodePolicy)
    }

    /// How many policies there are.
    public func policyCount() throws(PolicyStoreError) -> Int {
        try readOperation {
            try connection.queryFirst("SELECT count(*) FROM policies") { $0.int(0) } ?? 0
        }
    }

    /// The names of the policies that link the ruleset, sorted.
    public func policies(usingRuleset rulesetName: String) throws(PolicyStoreError) -> [String] {
        try readOperation {
            try policyNames(usingRulesetID: try existingRulesetID(rulesetName))
        }
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
    /// The history records one `create` at revision 1, with the rulesets.
    ///
    /// ```swift
    /// try tx.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"])
    /// ```
    @discardableResult
    public func createPolicy(
        named name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []
    ) throws(PolicyStoreError) -> Policy {
        try writeOperation {
            try insertPolicy(named: name, description: description, xdrEnabled: xdrEnabled, rulesets: rulesets)
            return try existingPolicy(name)
        }
    }

    /// Creates a policy without reading it back: the part of a create an import needs.
    func insertPolicy(named name: String, description: String, xdrEnabled: Bool, rulesets: [String]) throws {
        try NameRules.validate(name, kind: .policy)
        try DescriptionRules.validate(description, kind: .policy, name: name)
        let rulesetIDs = try rulesetIDs(rulesets)
        try checkNameIsFree(name, kind: .policy)
        try connection.run(
            "INSERT INTO policies (name, description, xdr_enabled) VALUES (?, ?, ?)",
            [SQLValue(name), SQLValue(description), SQLValue(xdrEnabled)])
        let id = connection.lastInsertRowID
        for rulesetID in rulesetIDs { try link(policyID: id, rulesetID: rulesetID) }
        try recordPolicyChange(id: id, action: .create, before: nil)
    }

    /// Copies a policy: the same description, XDR setting and rulesets (linked, not copied).
    /// The copy is named `newName`, or the source's name with `Policy` appended. A name that
    /// is taken or too long is refused; it is never changed to fit.
    ///
    /// ```swift
    /// let copy = try tx.duplicatePolicy(named: "web")   // "webPolicy"
    /// ```
    @discardableResult
    public func duplicatePolicy(named name: String, as newName: String? = nil) throws(PolicyStoreError) -> Policy {
        try writeOperation {
            let source = try existingPolicy(name)
            guard source.damage.isEmpty else { throw PolicyStoreError.damagedData(.policy, name: source.name, source.damage) }
            let copyName = newName ?? source.name + "Policy"
            try NameRules.validate(copyName, kind: .policy)
            try checkNameIsFree(copyName, kind: .policy)
            try connection.run(
                "INSERT INTO policies (name, description, xdr_enabled) SELECT ?, description, xdr_enabled FROM policies WHERE id = ?",
                [SQLValue(copyName), SQLValue(source.id)])
            let id = connection.lastInsertRowID
            try connection.run(
                "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, ruleset_id FROM policy_rulesets WHERE policy_id = ?",
                [SQLValue(id), SQLValue(source.id)])
            try recordPolicyChange(id: id, action: .create, before: nil)
            return try existingPolicy(copyName)
        }
    }

    /// Changes a policy's description, XDR setting and rulesets. With `expectedRevision`, the
    /// change is refused with ``PolicyStoreError/revisionConflict(_:name:expected:actual:)``
    /// unless the policy is still at that revision. A change moves the revision by one and is
    /// recorded once (`link` or `unlink` when only rulesets were added or removed); when
    /// nothing changed, nothing is written.
    ///
    /// ```swift
    /// try tx.modifyPolicy(named: "web.prod", expectedRevision: 2) { $0.xdrEnabled = false }
    /// ```
    @discardableResult
    public func modifyPolicy(
        named name: String, expectedRevision: Int? = nil, _ edit: (inout PolicyEdit) -> Void
    ) throws(PolicyStoreError) -> Policy {
        try writeOperation {
            let current = try existingPolicy(name)
            if let expectedRevision, expectedRevision != current.revision {
                throw PolicyStoreError.revisionConflict(
                    .policy, name: current.name, expected: expectedRevision, actual: current.revision)
            }
            var changed = PolicyEdit(
                description: current.description, xdrEnabled: current.xdrEnabled, rulesets: current.rulesets)
            edit(&changed)
            return try update(current, to: changed) ? existingPolicy(current.name) : current
        }
    }

    /// Writes `changed` over `current` and records it, when anything differs; true when it did.
    func update(_ current: Policy, to changed: PolicyEdit) throws -> Bool {
        guard current.damage.isEmpty else { throw PolicyStoreError.damagedData(.policy, name: current.name, current.damage) }
        try DescriptionRules.validate(changed.description, kind: .policy, name: current.name)
        let wanted = Set(try rulesetIDs(changed.rulesets))
        let linked = Set(try connection.query(
            "SELECT ruleset_id FROM policy_rulesets WHERE policy_id = ?", [SQLValue(current.id)]) { $0.int(0) })
        let contentChanged = changed.description != current.description || changed.xdrEnabled != current.xdrEnabled
        let (added, removed) = (wanted.subtracting(linked), linked.subtracting(wanted))
        guard contentChanged || !added.isEmpty || !removed.isEmpty else { return false }

        let before = try policyState(id: current.id)
        if contentChanged {
            try connection.run(
                "UPDATE policies SET description = ?, xdr_enabled = ? WHERE id = ?",
                [SQLValue(changed.description), SQLValue(changed.xdrEnabled), SQLValue(current.id)])
        }
        for rulesetID in removed.sorted() {
            try connection.run(
                "DELETE FROM policy_rulesets WHERE policy_id = ? AND ruleset_id = ?",
                [SQLValue(current.id), SQLValue(rulesetID)])
        }
        for rulesetID in added.sorted() { try link(policyID: current.id, rulesetID: rulesetID) }
        let action: Change.Action =
            contentChanged || (!added.isEmpty && !removed.isEmpty) ? .modify : added.isEmpty ? .unlink : .link
        try recordPolicyChange(
            id: current.id, action: action, before: before, rulesetsChanged: !added.isEmpty || !removed.isEmpty)
        return true
    }

    /// Deletes a policy and its links; its rulesets stay. Refused with
    /// ``PolicyStoreError/policyAssigned(policy:clusters:)`` while a cluster uses it.
    ///
    /// ```swift
    /// try tx.deletePolicy(named: "web.staging")
    /// ```
    public func deletePolicy(named name: String) throws(PolicyStoreError) {
        try writeOperation {
            let policy = try existingPolicy(name)
            let clusters = try clusterARNs(policyID: policy.id)
            guard clusters.isEmpty else { throw PolicyStoreError.policyAssigned(policy: policy.name, clusters: clusters) }
            let before = try policyState(id: policy.id)
            try connection.run("DELETE FROM policies WHERE id = ?", [SQLValue(policy.id)])
            try recordDeletion(.policy, name: policy.name, revision: policy.revision, before: before)
        }
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

extension StoreOperation {
    /// ``StoreTransaction/createPolicy(named:description:xdrEnabled:rulesets:)``.
    ///
    /// ```swift
    /// let policy = try store.perform(.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"]))
    /// ```
    public static func createPolicy(
        named name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []
    ) -> StoreOperation<Policy> {
        StoreOperation<Policy>(.write) { tx throws(PolicyStoreError) in
            try tx.createPolicy(named: name, description: description, xdrEnabled: xdrEnabled, rulesets: rulesets)
        }
    }

    /// ``StoreTransaction/duplicatePolicy(named:as:)``: by default the copy is named with
    /// `Policy` appended.
    ///
    /// ```swift
    /// let copy = try store.perform(.duplicatePolicy(named: "web"))   // "webPolicy"
    /// ```
    public static func duplicatePolicy(named name: String, as newName: String? = nil) -> StoreOperation<Policy> {
        StoreOperation<Policy>(.write) { tx throws(PolicyStoreError) in try tx.duplicatePolicy(named: name, as: newName) }
    }

    /// ``StoreTransaction/modifyPolicy(named:expectedRevision:_:)``.
    ///
    /// ```swift
    /// try store.perform(.modifyPolicy(named: "web.prod", expectedRevision: 3) { $0.xdrEnabled = false })
    /// ```
    public static func modifyPolicy(
        named name: String, expectedRevision: Int? = nil, _ edit: @escaping @Sendable (inout PolicyEdit) -> Void
    ) -> StoreOperation<Policy> {
        StoreOperation<Policy>(.write) { tx throws(PolicyStoreError) in
            try tx.modifyPolicy(named: name, expectedRevision: expectedRevision, edit)
        }
    }

    /// ``StoreTransaction/deletePolicy(named:)``.
    public static func deletePolicy(named name: String) -> StoreOperation<Void> {
        StoreOperation<Void>(.write) { tx throws(PolicyStoreError) in try tx.deletePolicy(named: name) }
    }

    /// ``StoreTransaction/policy(named:)``: the policy with this name, ignoring letter case, or nil.
    public static func policy(named name: String) -> StoreOperation<Policy?> {
        StoreOperation<Policy?>(.singleStatement) { tx throws(PolicyStoreError) in try tx.policy(named: name) }
    }

    /// ``StoreTransaction/policies(after:limit:)``: a page of policies sorted by name; pass
    /// the last name of a page as `after` for the next.
    ///
    /// ```swift
    /// var page = try store.perform(.policies(limit: 50))
    /// while let last = page.last {
    ///     page.forEach { print($0.name) }
    ///     page = try store.perform(.policies(after: last.name, limit: 50))
    /// }
    /// ```
    public static func policies(after: String? = nil, limit: Int = 100) -> StoreOperation<[Policy]> {
        StoreOperation<[Policy]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.policies(after: after, limit: limit) }
    }

    /// ``StoreTransaction/policyCount()``.
    public static func policyCount() -> StoreOperation<Int> {
        StoreOperation<Int>(.singleStatement) { tx throws(PolicyStoreError) in try tx.policyCount() }
    }

    /// ``StoreTransaction/policies(usingRuleset:)``: the names of the policies that link the
    /// ruleset, sorted.
    public static func policies(usingRuleset name: String) -> StoreOperation<[String]> {
        StoreOperation<[String]>(.read) { tx throws(PolicyStoreError) in try tx.policies(usingRuleset: name) }
    }
}
