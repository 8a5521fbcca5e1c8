import SQLiteCore

extension StoreTransaction {
    /// Every recorded change to the policy named `name` (ignoring letter case), oldest first,
    /// including those of earlier policies of that name that were deleted.
    public func history(ofPolicy name: String) throws(PolicyStoreError) -> [Change] {
        try readOperation {
            try history(.policy, name)
        }
    }

    /// Every recorded change to the ruleset named `name`, oldest first.
    public func history(ofRuleset name: String) throws(PolicyStoreError) -> [Change] {
        try readOperation {
            try history(.ruleset, name)
        }
    }

    private func history(_ kind: ObjectKind, _ name: String) throws -> [Change] {
        try connection.query(
            """
            SELECT sequence, changed_at, object_name, action, revision, before, after, actor, object_kind
            FROM changes WHERE object_kind = ? AND object_name = ? ORDER BY sequence
            """,
            [SQLValue(kind.rawValue), SQLValue(name)], Self.decodeChange)
    }

    /// Every recorded change, oldest first: for the integrity check.
    func everyChange() throws -> [Change] {
        try connection.query(
            """
            SELECT sequence, changed_at, object_name, action, revision, before, after, actor, object_kind
            FROM changes ORDER BY sequence
            """, [], Self.decodeChange)
    }

    private static func decodeChange(_ row: Row) -> Change {
        var damage: [StoredDamage] = []
        let action = Change.Action(rawValue: row.text(3))
        if action == nil {
            damage.append(StoredDamage(location: "changes.action", value: row.text(3), problem: "is not an action the history records"))
        }
        let before = row.optionalText(5)
        let after = row.optionalText(6)
        for (column, state) in [("before", before), ("after", after)] {
            if let state, !Self.isRecordedState(state) {
                damage.append(StoredDamage(location: "changes.\(column)", value: state, problem: "is not the JSON object the history writes"))
            }
        }
        let kind = ObjectKind(rawValue: row.text(8))
        if kind == nil {
            damage.append(StoredDamage(location: "changes.object_kind", value: row.text(8), problem: "is not policy or ruleset"))
        }
        return Change(
            sequence: row.int(0), changedAt: row.timestamp(1, location: "changes.changed_at", damage: &damage),
            kind: kind ?? .policy, name: row.text(2), action: action ?? .modify, revision: row.int(4),
            before: before, after: after, actor: row.text(7), damage: damage)
    }

    private static func isRecordedState(_ state: String) -> Bool {
        if case .object? = try? JSONParser.parse(Array(state.utf8)) { return true }
        return false
    }

    /// Writes the description, XDR setting and rulesets the policy had at `revision` back, as
    /// new revisions. Refused when a ruleset it needs no longer exists.
    @discardableResult
    public func restorePolicy(named name: String, toRevision revision: Int) throws(PolicyStoreError) -> Policy {
        try writeOperation { try restore(name, toRevision: revision) }
    }

    private func restore(_ name: String, toRevision revision: Int) throws -> Policy {
        let current = try existingPolicy(name)
        guard
            let state = try connection.queryFirst(
                """
                SELECT after FROM changes
                WHERE object_kind = 'policy' AND object_name = ? AND revision = ? AND after IS NOT NULL
                  AND sequence > coalesce((SELECT max(sequence) FROM changes
                                           WHERE object_kind = 'policy' AND object_name = ? AND action = 'delete'), 0)
                ORDER BY sequence DESC LIMIT 1
                """,
                [SQLValue(current.name), SQLValue(revision), SQLValue(current.name)], { $0.text(0) }),
            let snapshot = PolicySnapshot(json: state)
        else { throw PolicyStoreError.unknownRevision(.policy, name: current.name, revision: revision) }
        for ruleset in snapshot.rulesets {
            do {
                _ = try existingRulesetID(ruleset)
            } catch PolicyStoreError.notFound {
                throw PolicyStoreError.restoreNeedsRuleset(policy: current.name, revision: revision, ruleset: ruleset)
            }
        }
        return try modifyPolicy(named: current.name) {
            $0 = PolicyEdit(description: snapshot.description, xdrEnabled: snapshot.xdrEnabled, rulesets: snapshot.rulesets)
        }
    }
}

/// A policy's state as the history's triggers write it.
struct PolicySnapshot {
    let description: String
    let xdrEnabled: Bool
    let rulesets: [String]

    init?(json: String) {
        guard case .object(let members)? = try? JSONParser.parse(Array(json.utf8)) else { return nil }
        var fields: [String: JSONValue] = [:]
        for member in members { fields[member.key] = member.value }
        guard case .string(let description)? = fields["description"], case .bool(let xdrEnabled)? = fields["xdrEnabled"],
            case .array(let rulesets)? = fields["rulesets"]
        else { return nil }
        self.description = description
        self.xdrEnabled = xdrEnabled
        self.rulesets = rulesets.compactMap { value in
            if case .string(let name) = value { return name }
            return nil
        }
    }
}

extension StoreOperation {
    /// ``StoreTransaction/history(ofPolicy:)``: the recorded changes to a policy, oldest first.
    ///
    /// ```swift
    /// for change in try store.perform(.history(ofPolicy: "web.prod")) {
    ///     print(change.revision, change.action, change.actor)
    /// }
    /// ```
    public static func history(ofPolicy name: String) -> StoreOperation<[Change]> {
        StoreOperation<[Change]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.history(ofPolicy: name) }
    }

    /// ``StoreTransaction/history(ofRuleset:)``: the recorded changes to a ruleset, oldest first.
    public static func history(ofRuleset name: String) -> StoreOperation<[Change]> {
        StoreOperation<[Change]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.history(ofRuleset: name) }
    }

    /// ``StoreTransaction/restorePolicy(named:toRevision:)``: restores a policy's
    /// description, XDR setting and rulesets to those of `revision`.
    ///
    /// ```swift
    /// try store.perform(.restorePolicy(named: "web.prod", toRevision: 3))
    /// ```
    public static func restorePolicy(named name: String, toRevision revision: Int) -> StoreOperation<Policy> {
        StoreOperation<Policy>(.write) { tx throws(PolicyStoreError) in try tx.restorePolicy(named: name, toRevision: revision) }
    }
}
