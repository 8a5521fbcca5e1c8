import Foundation
import SQLiteCore

/// The statements on `changes`.
enum HistorySQL {
    /// The columns `StoreTransaction.decodeChange` reads, before and after the fifth, the life.
    static let columnsBeforeLife = "SELECT c.sequence, c.changed_at, c.object_kind, c.object_name, "
    static let columnsAfterLife = """
        , c.action, c.revision, c.before, c.after, c.actor, c.restored_revision, c.policy_name
        FROM changes AS c
        """
    /// Without the life, which `withLives` finds once per object of a page: a subquery per row
    /// reads back over every change of the object since its create, so with 10,000 changes of
    /// one policy a page of 256 cost a second.
    static let select = columnsBeforeLife + "NULL" + columnsAfterLife
    static let pageOfName = NamedSQL(
        "a page of the history of a name",
        select + " WHERE c.object_kind = ? AND c.object_name = ? AND c.sequence > ? ORDER BY c.sequence LIMIT ?")
    /// A policy's own changes, and its clusters' assigns and unassigns.
    static let pageOfPolicy = NamedSQL(
        "a page of the history of a policy",
        select + " WHERE ((c.object_kind = 'policy' AND c.object_name = ?1) OR c.policy_name = ?1) AND c.sequence > ?2"
            + " ORDER BY c.sequence LIMIT ?3")
    static let every = NamedSQL("every change", select + " ORDER BY c.sequence", readsWholeTable: true)
    static let page = NamedSQL("a page of every change", select + " WHERE c.sequence > ? ORDER BY c.sequence LIMIT ?")
    static let life = NamedSQL(
        "the life of an object at a change",
        "SELECT max(sequence) FROM changes WHERE object_kind = ? AND object_name = ? AND action = 'create' AND sequence <= ?")
    /// SQLite reads the largest rowid from the end of the table's B-tree.
    static let lastSequence = NamedSQL("the last change's sequence", "SELECT coalesce(max(sequence), 0) FROM changes")
    /// The actor is the write transaction's, from `write_context`.
    static let record = NamedSQL(
        "record a change",
        """
        INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor, restored_revision, policy_name)
        VALUES (?, ?, ?, ?, ?, ?, coalesce((SELECT actor FROM write_context), ''), ?, ?)
        """)
    /// The `create` that began the current life of a name.
    static let currentLife = NamedSQL(
        "the current life of a name",
        "SELECT max(sequence) FROM changes WHERE object_kind = ? AND object_name = ? AND action = 'create'")
    /// The lives of a name that reached a revision: the creates after which it was recorded.
    static let livesWithRevision = NamedSQL(
        "the lives of a name that have a revision",
        """
        SELECT DISTINCT (SELECT max(l.sequence) FROM changes AS l WHERE l.object_kind = c.object_kind AND l.object_name = c.object_name
                         AND l.action = 'create' AND l.sequence <= c.sequence) AS life
        FROM changes AS c
        WHERE c.object_kind = 'policy' AND c.object_name = ? AND c.revision = ? AND c.after IS NOT NULL
        ORDER BY life
        """)
    /// The policy's state at a revision of the life that began with the change `life`: at or
    /// after it, and before the next create of the name.
    static let stateAtRevision = NamedSQL(
        "a policy's state at a revision of a life",
        """
        SELECT after FROM changes
        WHERE object_kind = 'policy' AND object_name = ?1 AND revision = ?2 AND after IS NOT NULL AND sequence >= ?3
          AND sequence < coalesce((SELECT min(sequence) FROM changes
                                   WHERE object_kind = 'policy' AND object_name = ?1 AND action = 'create' AND sequence > ?3),
                                  9223372036854775807)
        ORDER BY sequence DESC LIMIT 1
        """)

    /// The creates that began each life of a name.
    static let lives = NamedSQL(
        "the lives of a name",
        "SELECT sequence FROM changes WHERE object_kind = ? AND object_name = ? AND action = 'create' ORDER BY sequence")

    static let all = [
        pageOfName, pageOfPolicy, every, page, life, lastSequence, record, currentLife, livesWithRevision, stateAtRevision, lives,
    ]
}

/// The library records each of its operations in the history as one change at one revision,
/// from the values it holds. (The schema's triggers record every other writer's changes row
/// by row; the `write_context` row of the transaction tells them to stand aside.)
extension StoreTransaction {
    func record(
        _ kind: ObjectKind, name: String, action: Change.Action, revision: Int,
        before: RecordedContent?, after: RecordedContent?, restoredRevision: Int? = nil, policy: String? = nil
    ) throws {
        try connection.run(
            HistorySQL.record.sql,
            [
                SQLValue(kind.rawValue), SQLValue(name), SQLValue(action.rawValue), SQLValue(revision),
                SQLValue(before.map { RecordedState.json(name: name, content: $0) }),
                SQLValue(after.map { RecordedState.json(name: name, content: $0) }),
                SQLValue(restoredRevision), SQLValue(policy),
            ])
    }

    /// A page of the changes to the policy named `name` (ignoring letter case), oldest first,
    /// after the change `after` (a ``Change/sequence``): its own changes, those of earlier
    /// policies of that name that were deleted (their ``Change/life`` tells the lives apart),
    /// and the clusters it was assigned to or removed from. Throws
    /// ``PolicyStoreError/notFound(_:name:)`` for a name with neither a policy nor a history.
    ///
    /// ```swift
    /// var page = try tx.history(ofPolicy: "web.prod", limit: 100)
    /// while let last = page.last {
    ///     page.forEach { print($0.sequence, $0.action) }
    ///     page = try tx.history(ofPolicy: "web.prod", after: last.sequence, limit: 100)
    /// }
    /// ```
    public func history(ofPolicy name: String, after: Int = 0, limit: Int = 100) throws(PolicyStoreError) -> [Change] {
        try readOperation {
            try historyPage(.policy, name, after: after, limit: limit) {
                try connection.query(HistorySQL.pageOfPolicy.sql, [SQLValue(name), SQLValue(after), SQLValue(limit)], Self.decodeChange)
            }
        }
    }

    /// A page of the changes to the ruleset named `name`, oldest first, after the change
    /// `after`; as ``history(ofPolicy:after:limit:)``.
    public func history(ofRuleset name: String, after: Int = 0, limit: Int = 100) throws(PolicyStoreError) -> [Change] {
        try readOperation { try historyPage(ofName: .ruleset, name, after: after, limit: limit) }
    }

    /// A page of the policies assigned to and removed from the cluster with this ARN, oldest
    /// first, after the change `after`. Throws ``PolicyStoreError/notFound(_:name:)`` for a
    /// cluster the store has never known.
    public func history(ofCluster arn: String, after: Int = 0, limit: Int = 100) throws(PolicyStoreError) -> [Change] {
        try readOperation { try historyPage(ofName: .cluster, arn, after: after, limit: limit) }
    }

    private func historyPage(ofName kind: ObjectKind, _ name: String, after: Int, limit: Int) throws -> [Change] {
        try historyPage(kind, name, after: after, limit: limit) {
            try connection.query(
                HistorySQL.pageOfName.sql, [SQLValue(kind.rawValue), SQLValue(name), SQLValue(after), SQLValue(limit)], Self.decodeChange)
        }
    }

    /// One page read by `read`, refused as not found when the name has no history and no object.
    private func historyPage(_ kind: ObjectKind, _ name: String, after: Int, limit: Int, read: () throws -> [Change]) throws -> [Change] {
        try Self.checkPageSize(limit)
        let changes = try read()
        if changes.isEmpty, after == 0, try !exists(kind, named: name) { throw PolicyStoreError.notFound(kind, name: name) }
        return try withLives(changes)
    }

    /// The changes with their ``Change/life``: a create begins one; any other change takes its
    /// object's latest create before it, looked up once per object of the page.
    private func withLives(_ changes: [Change]) throws -> [Change] {
        var lives: [String: Int?] = [:]
        return try changes.map { change in
            let object = change.kind.rawValue + "/" + asciiLowercased(change.name)
            if change.action == .create { lives[object] = change.sequence }
            if lives[object] == nil {
                lives[object] = try connection.queryFirst(
                    HistorySQL.life.sql, [SQLValue(change.kind.rawValue), SQLValue(change.name), SQLValue(change.sequence)]
                ) { $0.isNull(0) ? nil : $0.int(0) }
            }
            return change.living(lives[object] ?? nil)
        }
    }

    private func exists(_ kind: ObjectKind, named name: String) throws -> Bool {
        switch kind {
        case .policy: return try fetch(Policy.self, named: name) != nil
        case .ruleset: return try connection.queryFirst(RulesetSQL.link.sql, [SQLValue(name)]) { _ in true } ?? false
        case .cluster: return try cluster(arn: name) != nil
        }
    }

    /// Up to `limit` of the changes recorded after the change numbered `sequence`, of every
    /// object, in sequence order: the whole history page by page (start from 0, then from the
    /// last sequence of each page), or what is new since a sequence seen before.
    /// ``PolicyStore/changes(after:)`` follows it as it grows.
    public func changes(after sequence: Int, limit: Int = 100) throws(PolicyStoreError) -> [Change] {
        try Self.checkPageSize(limit)
        return try readOperation {
            try withLives(try connection.query(HistorySQL.page.sql, [SQLValue(sequence), SQLValue(limit)], Self.decodeChange))
        }
    }

    /// The sequence of the last recorded change, or 0 when there is none: where a reader of
    /// what comes next starts.
    public func lastChangeSequence() throws(PolicyStoreError) -> Int {
        try readOperation { try connection.queryFirst(HistorySQL.lastSequence.sql) { $0.int(0) } ?? 0 }
    }

    /// Every recorded change, oldest first, without their lives: for the integrity check.
    func everyChange() throws -> [Change] {
        try connection.query(HistorySQL.every.sql, [], Self.decodeChange)
    }

    static func decodeChange(_ row: Row) -> Change {
        var damage: [StoredDamage] = []
        let kind = ObjectKind(rawValue: row.text(2))
        if kind == nil {
            damage.append(StoredDamage(location: "changes.object_kind", value: row.text(2), problem: "is not policy, ruleset or cluster"))
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
            revision: row.int(6), restoredRevision: row.isNull(10) ? nil : row.int(10), policy: row.optionalText(11),
            before: before, after: after, actor: row.text(9), damage: damage)
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
    /// ``StoreTransaction/history(ofPolicy:after:limit:)``: a page of the changes to a policy,
    /// oldest first.
    ///
    /// ```swift
    /// for change in try store.perform(.history(ofPolicy: "web.prod")) {
    ///     print(change.revision, change.action, change.actor)
    /// }
    /// ```
    public static func history(ofPolicy name: String, after: Int = 0, limit: Int = 100) -> StoreOperation<[Change]> {
        StoreOperation<[Change]>(.read) { tx throws(PolicyStoreError) in try tx.history(ofPolicy: name, after: after, limit: limit) }
    }

    /// ``StoreTransaction/history(ofRuleset:after:limit:)``: a page of the changes to a ruleset,
    /// oldest first.
    public static func history(ofRuleset name: String, after: Int = 0, limit: Int = 100) -> StoreOperation<[Change]> {
        StoreOperation<[Change]>(.read) { tx throws(PolicyStoreError) in try tx.history(ofRuleset: name, after: after, limit: limit) }
    }

    /// ``StoreTransaction/history(ofCluster:after:limit:)``: the policies assigned to and
    /// removed from a cluster, oldest first.
    public static func history(ofCluster arn: String, after: Int = 0, limit: Int = 100) -> StoreOperation<[Change]> {
        StoreOperation<[Change]>(.read) { tx throws(PolicyStoreError) in try tx.history(ofCluster: arn, after: after, limit: limit) }
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
}
