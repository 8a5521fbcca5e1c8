import Foundation
import SQLiteCore

/// The statements on `changes`.
enum HistorySQL {
    /// The life of a change: the latest `create` of its name at or before it.
    static let select = """
        SELECT c.sequence, c.changed_at, c.object_kind, c.object_name,
               (SELECT max(l.sequence) FROM changes AS l WHERE l.object_kind = c.object_kind AND l.object_name = c.object_name
                AND l.action = 'create' AND l.sequence <= c.sequence),
               c.action, c.revision, c.before, c.after, c.actor
        FROM changes AS c
        """
    static let ofName = NamedSQL("the history of a name", select + " WHERE c.object_kind = ? AND c.object_name = ? ORDER BY c.sequence")
    static let every = NamedSQL("every change", select + " ORDER BY c.sequence", readsWholeTable: true)
    /// The columns of `select` without the life, which a page finds once per object instead
    /// of once per row: the subquery reads back over every change of the object, which for an
    /// object with thousands of changes made a page cost seconds.
    static let page = NamedSQL(
        "a page of every change",
        """
        SELECT c.sequence, c.changed_at, c.object_kind, c.object_name, NULL, c.action, c.revision, c.before, c.after, c.actor
        FROM changes AS c WHERE c.sequence > ? ORDER BY c.sequence LIMIT ?
        """)
    static let life = NamedSQL(
        "the life of an object at a change",
        "SELECT max(sequence) FROM changes WHERE object_kind = ? AND object_name = ? AND action = 'create' AND sequence <= ?")
    /// SQLite reads the largest rowid from the end of the table's B-tree.
    static let lastSequence = NamedSQL("the last change's sequence", "SELECT coalesce(max(sequence), 0) FROM changes")
    /// The actor is the write transaction's, from `write_context`.
    static let record = NamedSQL(
        "record a change",
        """
        INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
        VALUES (?, ?, ?, ?, ?, ?, coalesce((SELECT actor FROM write_context), ''))
        """)
    /// The policy's state at a revision of its current life: since its name's last deletion.
    static let stateAtRevision = NamedSQL(
        "a policy's state at a revision",
        """
        SELECT after FROM changes
        WHERE object_kind = 'policy' AND object_name = ? AND revision = ? AND after IS NOT NULL
          AND sequence > coalesce((SELECT max(sequence) FROM changes
                                   WHERE object_kind = 'policy' AND object_name = ? AND action = 'delete'), 0)
        ORDER BY sequence DESC LIMIT 1
        """)

    static let all = [ofName, every, page, life, lastSequence, record, stateAtRevision]
}

/// The library records each of its operations in the history as one change at one revision,
/// from the values it holds. (The schema's triggers record every other writer's changes row
/// by row; the `write_context` row of the transaction tells them to stand aside.)
extension StoreTransaction {
    func record(
        _ kind: ObjectKind, name: String, action: Change.Action, revision: Int,
        before: RecordedContent?, after: RecordedContent?
    ) throws {
        try connection.run(
            HistorySQL.record.sql,
            [
                SQLValue(kind.rawValue), SQLValue(name), SQLValue(action.rawValue), SQLValue(revision),
                SQLValue(before.map { RecordedState.json(name: name, content: $0) }),
                SQLValue(after.map { RecordedState.json(name: name, content: $0) }),
            ])
    }

    /// Every recorded change to the policy named `name` (ignoring letter case), oldest first,
    /// including those of earlier policies of that name that were deleted (their
    /// ``Change/life`` tells the lives apart).
    public func history(ofPolicy name: String) throws(PolicyStoreError) -> [Change] {
        try readOperation { try history(.policy, name) }
    }

    /// Every recorded change to the ruleset named `name`, oldest first.
    public func history(ofRuleset name: String) throws(PolicyStoreError) -> [Change] {
        try readOperation { try history(.ruleset, name) }
    }

    private func history(_ kind: ObjectKind, _ name: String) throws -> [Change] {
        try connection.query(HistorySQL.ofName.sql, [SQLValue(kind.rawValue), SQLValue(name)], Self.decodeChange)
    }

    /// Up to `limit` of the changes recorded after the change numbered `sequence`, of every
    /// object, in sequence order: the whole history page by page (start from 0, then from the
    /// last sequence of each page), or what is new since a sequence seen before.
    /// ``PolicyStore/changes(after:)`` follows it as it grows.
    public func changes(after sequence: Int, limit: Int = 100) throws(PolicyStoreError) -> [Change] {
        try Self.checkPageSize(limit)
        return try readOperation {
            let rows = try connection.query(HistorySQL.page.sql, [SQLValue(sequence), SQLValue(limit)]) { row in
                (change: Self.decodeChange(row), kind: row.text(2), action: row.text(5))
            }
            // The life of each object as of the page's rows: a create begins one; for the
            // other rows, the object's latest create before the page, looked up once.
            var lives: [String: Int?] = [:]
            return try rows.map { row in
                let object = row.kind + "/" + asciiLowercased(row.change.name)
                if row.action == Change.Action.create.rawValue { lives[object] = row.change.sequence }
                if lives[object] == nil {
                    lives[object] = try connection.queryFirst(
                        HistorySQL.life.sql,
                        [SQLValue(row.kind), SQLValue(row.change.name), SQLValue(row.change.sequence)]) { $0.isNull(0) ? nil : $0.int(0) }
                }
                return row.change.living(lives[object] ?? nil)
            }
        }
    }

    /// The sequence of the last recorded change, or 0 when there is none: where a reader of
    /// what comes next starts.
    public func lastChangeSequence() throws(PolicyStoreError) -> Int {
        try readOperation { try connection.queryFirst(HistorySQL.lastSequence.sql) { $0.int(0) } ?? 0 }
    }

    /// Every recorded change, oldest first: for the integrity check.
    func everyChange() throws -> [Change] {
        try connection.query(HistorySQL.every.sql, [], Self.decodeChange)
    }

    private static func decodeChange(_ row: Row) -> Change {
        var damage: [StoredDamage] = []
        let kind = ObjectKind(rawValue: row.text(2))
        if kind == nil {
            damage.append(StoredDamage(location: "changes.object_kind", value: row.text(2), problem: "is not policy or ruleset"))
        }
        let action = Change.Action(rawValue: row.text(5))
        if action == nil {
            damage.append(StoredDamage(location: "changes.action", value: row.text(5), problem: "is not an action the history records"))
        }
        func state(_ column: Int32, _ name: String) -> RecordedContent? {
            guard let text = row.optionalText(column) else { return nil }
            guard let kind, let content = RecordedState.content(kind, json: text) else {
                damage.append(StoredDamage(location: "changes." + name, value: text, problem: "is not the JSON object the history writes"))
                return nil
            }
            return content
        }
        let before = state(7, "before")
        let after = state(8, "after")
        return Change(
            sequence: row.int(0), changedAt: row.timestamp(1, location: "changes.changed_at", damage: &damage),
            kind: kind ?? .policy, name: row.text(3), life: row.isNull(4) ? nil : row.int(4), action: action ?? .modify,
            revision: row.int(6), before: before, after: after, actor: row.text(9), damage: damage)
    }

    /// Writes the content the policy had at `revision` of its current life back, as a new
    /// revision. Refused when a ruleset it needs no longer exists.
    @discardableResult
    public func restorePolicy(named name: String, toRevision revision: Int) throws(PolicyStoreError) -> Policy {
        try writeOperation {
            let current = try existingPolicy(name)
            guard
                let state = try connection.queryFirst(
                    HistorySQL.stateAtRevision.sql,
                    [SQLValue(current.name), SQLValue(revision), SQLValue(current.name)], { $0.text(0) }),
                case .policy(let content)? = RecordedState.content(.policy, json: state)
            else { throw PolicyStoreError.unknownRevision(.policy, name: current.name, revision: revision) }
            for ruleset in content.rulesets {
                do {
                    _ = try existingRulesetLink(ruleset)
                } catch PolicyStoreError.notFound {
                    throw PolicyStoreError.restoreNeedsRuleset(policy: current.name, revision: revision, ruleset: ruleset)
                }
            }
            return try update(current, to: content)
        }
    }
}

/// The states the history keeps: `{"name", ...the content}` as compact JSON in the product's
/// shape, as the schema's views write them for other writers. Policies recorded before
/// migration 5 have `"rulesets": [names]` instead of `runtime`; both are read.
enum RecordedState {
    static func json(name: String, content: RecordedContent) -> String {
        var members: [(key: String, value: JSONValue)] = [("name", .string(name))]
        if case .object(let fields) = ProductJSON.tree(content) { members += fields }
        var writer = JSONWriter(escapesForTerminals: false)
        writer.compactValue(.object(members))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func content(_ kind: ObjectKind, json: String) -> RecordedContent? {
        let data = Data(json.utf8)
        let decoder = JSONDecoder()
        switch kind {
        case .policy:
            if let legacy = try? decoder.decode(LegacyPolicyState.self, from: data) {
                return .policy(PolicyContent(description: legacy.description, xdrEnabled: legacy.xdrEnabled, rulesets: legacy.rulesets))
            }
            return (try? decoder.decode(PolicyState.self, from: data)).map { .policy($0.content) }
        case .ruleset:
            return (try? decoder.decode(RulesetState.self, from: data)).map { .ruleset($0.content) }
        case .cluster:
            return nil
        }
    }

    /// Requires the name, so that any JSON object is not taken for a state.
    private struct PolicyState: Decodable {
        let content: PolicyContent
        init(from decoder: any Decoder) throws {
            _ = try decoder.container(keyedBy: FieldKey.self).decode(String.self, forKey: FieldKey("name"))
            content = try PolicyContent(from: decoder)
        }
    }

    private struct RulesetState: Decodable {
        let content: RulesetContent
        init(from decoder: any Decoder) throws {
            _ = try decoder.container(keyedBy: FieldKey.self).decode(String.self, forKey: FieldKey("name"))
            content = try RulesetContent(from: decoder)
        }
    }

    private struct LegacyPolicyState: Decodable {
        let name: String
        let description: String
        let xdrEnabled: Bool
        let rulesets: [String]
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

    /// ``StoreTransaction/changes(after:limit:)``: a page of every object's changes after a
    /// sequence, in sequence order.
    ///
    /// ```swift
    /// var page = try store.perform(.changes(after: 0, limit: 500))
    /// while let last = page.last {
    ///     for change in page { print(change.sequence, change.kind, change.name, change.action) }
    ///     page = try store.perform(.changes(after: last.sequence, limit: 500))
    /// }
    /// ```
    public static func changes(after sequence: Int, limit: Int = 100) -> StoreOperation<[Change]> {
        // One snapshot for the page and the lives it looks up.
        StoreOperation<[Change]>(.read) { tx throws(PolicyStoreError) in try tx.changes(after: sequence, limit: limit) }
    }

    /// ``StoreTransaction/lastChangeSequence()``: the sequence of the last recorded change, 0
    /// for none.
    public static func lastChangeSequence() -> StoreOperation<Int> {
        StoreOperation<Int>(.singleStatement) { tx throws(PolicyStoreError) in try tx.lastChangeSequence() }
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
