import SQLiteCore

/// The library records each of its operations in the history as one change, at one
/// revision. (The schema's triggers record every other writer's changes row by row; the
/// `write_context` row of the transaction tells them to stand aside.)
extension StoreTransaction {
    /// The JSON state of a policy, as the history records it.
    func policyState(id: Int) throws -> String? {
        try connection.queryFirst("SELECT state FROM policy_states WHERE id = ?", [SQLValue(id)]) { $0.text(0) }
    }

    func rulesetState(id: Int) throws -> String? {
        try connection.queryFirst("SELECT state FROM ruleset_states WHERE id = ?", [SQLValue(id)]) { $0.text(0) }
    }

    /// Records a create, or counts a change (revision + 1, timestamps now) and records it.
    func recordPolicyChange(id: Int, action: Change.Action, before: String?, rulesetsChanged: Bool = false) throws {
        if action != .create {
            try connection.run(
                """
                UPDATE policies SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                    rulesets_updated_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE rulesets_updated_at END
                WHERE id = ?
                """,
                [SQLValue(rulesetsChanged), SQLValue(id)])
        }
        try connection.run(
            """
            INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
            SELECT 'policy', p.name, ?, p.revision, ?, s.state, coalesce((SELECT actor FROM write_context), '')
            FROM policies AS p JOIN policy_states AS s ON s.id = p.id WHERE p.id = ?
            """,
            [SQLValue(action.rawValue), SQLValue(before), SQLValue(id)])
    }

    func recordRulesetChange(id: Int, action: Change.Action, before: String?) throws {
        if action != .create {
            try connection.run(
                "UPDATE rulesets SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
                [SQLValue(id)])
        }
        try connection.run(
            """
            INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
            SELECT 'ruleset', r.name, ?, r.revision, ?, s.state, coalesce((SELECT actor FROM write_context), '')
            FROM rulesets AS r JOIN ruleset_states AS s ON s.id = r.id WHERE r.id = ?
            """,
            [SQLValue(action.rawValue), SQLValue(before), SQLValue(id)])
    }

    /// Records the deletion of an object whose last state and revision were read before it went.
    func recordDeletion(_ kind: ObjectKind, name: String, revision: Int, before: String?) throws {
        try connection.run(
            """
            INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
            VALUES (?, ?, 'delete', ?, ?, NULL, coalesce((SELECT actor FROM write_context), ''))
            """,
            [SQLValue(kind.rawValue), SQLValue(name), SQLValue(revision), SQLValue(before)])
    }
}
