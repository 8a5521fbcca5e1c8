import ContainerPolicyStore
import Foundation
import GRDB
import SystemSQLite

/// GRDB.swift 7.10.0 written for speed, as its documentation says to: SQL through
/// `db.cachedStatement(sql:)` ("Don't cache statements yourself"), one statement per read
/// (`group_concat` for the ruleset names), rows decoded by `FetchableRecord.init(row:)` with
/// numeric column indexes (README, "a plain struct optimized for fetching performance"), and
/// the columns GRDB would decode slowly (timestamps through Foundation's Calendar, a name list
/// through `String.split`) as `StatementColumnConvertible` types that read SQLite's buffer
/// directly. `DatabaseQueue` in WAL: the benchmark runs one operation at a time on one thread,
/// where a `DatabasePool`'s separate reader connections only add a hop (measured: see
/// Benchmarks/BASELINES.md). Writes are `dbQueue.write` (BEGIN IMMEDIATE); a single-statement
/// read is `unsafeRead` (GRDB's own example for it is a single count): one statement is its
/// own read transaction, as it is for the library and the raw stores; the export, which reads
/// twice, is a `read`.
///
/// It records the history as the library does, following the schema's protocol for a writer
/// that records its own changes: the `write_context` row for each write transaction, one
/// change per operation built from the `policy_states` view, and the revision moved once per
/// operation by the same UPDATE the library runs.
final class GRDBStore: StoreUnderTest {
    private let dbQueue: DatabaseQueue

    private enum SQL {
        static let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        static let rulesetNames = """
            (SELECT group_concat(r.name, ',') FROM policy_rulesets AS pr
             JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
            """
        static let policyColumns = """
            SELECT p.id, p.name, p.description, p.xdr_enabled, p.revision, p.created_at, p.updated_at,
                   p.rulesets_updated_at, \(rulesetNames)
            FROM policies AS p
            """
        static let policyByName = policyColumns + " WHERE p.name = ?"
        static let policyPage = policyColumns + " WHERE p.name > ? ORDER BY p.name LIMIT ?"
        /// What a modify needs, its state before for the history included, in one read.
        static let policyToModify = """
            SELECT p.id, p.name, p.description, p.xdr_enabled, p.revision, p.created_at, p.updated_at,
                   p.rulesets_updated_at, \(rulesetNames), s.state
            FROM policies AS p JOIN policy_states AS s ON s.id = p.id WHERE p.name = ?
            """
        static let insertPolicy = """
            INSERT INTO policies (name, description, xdr_enabled) VALUES (?, ?, ?)
            RETURNING id, revision, created_at, updated_at, rulesets_updated_at
            """
        static let linkByName = "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, id FROM rulesets WHERE name = ?"
        static let unlinkByName =
            "DELETE FROM policy_rulesets WHERE policy_id = ? AND ruleset_id = (SELECT id FROM rulesets WHERE name = ?)"
        static let copyLinks =
            "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, ruleset_id FROM policy_rulesets WHERE policy_id = ?"
        static let updatePolicy = "UPDATE policies SET description = ?, xdr_enabled = ? WHERE id = ?"
        /// The schema refuses a revision that moves with the content, so it moves after it, once.
        static let countPolicyChange = """
            UPDATE policies SET revision = revision + 1, updated_at = \(now),
                rulesets_updated_at = CASE WHEN ? THEN \(now) ELSE rulesets_updated_at END
            WHERE id = ?
            RETURNING revision, updated_at, rulesets_updated_at
            """
        static let recordPolicyChange = """
            INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
            SELECT 'policy', p.name, ?, p.revision, ?, s.state, ''
            FROM policies AS p JOIN policy_states AS s ON s.id = p.id WHERE p.id = ?
            """
        static let insertRuleset = "INSERT INTO rulesets (name, description) VALUES (?, ?)"
        static let insertRule = "INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) VALUES (?, ?, ?)"
        static let recordRulesetCreate = """
            INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
            SELECT 'ruleset', r.name, 'create', r.revision, NULL, s.state, ''
            FROM rulesets AS r JOIN ruleset_states AS s ON s.id = r.id WHERE r.id = ?
            """
        static let exportRulesets = """
            SELECT s.name, s.description,
                   (SELECT group_concat(rule_id || ':' || mitigation, ',') FROM ruleset_rules WHERE ruleset_id = s.id)
            FROM rulesets AS s ORDER BY s.name
            """
        static let exportPolicies = """
            SELECT p.name, p.description, p.xdr_enabled, \(rulesetNames) FROM policies AS p ORDER BY p.name
            """
        static let openWriteContext = "INSERT OR REPLACE INTO write_context (id, actor, recorded_by_library) VALUES (1, '', 1)"
        static let closeWriteContext = "DELETE FROM write_context"
    }

    init(path: String, synchronous: Synchronous) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        dbQueue = try DatabaseQueue(path: path, configuration: configuration)
        // GRDB's WAL setup picks `synchronous = NORMAL`; set the level under test after it.
        try dbQueue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            guard level == synchronous.pragmaValue else { throw BenchmarkFailure("GRDB: synchronous is \(level ?? -1)") }
        }
    }

    // MARK: Operations

    func createPolicy(_ policy: PolicySpec) throws -> Policy {
        try write { db in try Self.insert(policy, db) }
    }

    func createPolicies(_ policies: [PolicySpec]) throws -> [Policy] {
        try write { db in try policies.map { try Self.insert($0, db) } }
    }

    func duplicatePolicy(named name: String, as copyName: String) throws -> Policy {
        try write { db in
            guard let source = try PolicyRow.fetchOne(db.cachedStatement(sql: SQL.policyByName), arguments: [name])?.policy
            else { throw BenchmarkFailure("no policy \(name)") }
            let copy = try Self.insertRow(copyName, source.description, source.xdrEnabled, db)
            try db.cachedStatement(sql: SQL.copyLinks).execute(arguments: [copy.id, source.id])
            try Self.recordPolicyChange(id: copy.id, action: "create", before: nil, db)
            return copy.policy(
                name: copyName, description: source.description, xdrEnabled: source.xdrEnabled, rulesets: source.rulesets)
        }
    }

    func modifyPolicy(named name: String, expectedRevision: Int, adding: String, removing: String) throws -> Policy {
        try write { db in
            guard let read = try PolicyRow.fetchOne(db.cachedStatement(sql: SQL.policyToModify), arguments: [name]),
                let before = read.state
            else { throw BenchmarkFailure("no policy \(name)") }
            let current = read.policy
            guard current.revision == expectedRevision else {
                throw BenchmarkFailure("\(name) is at revision \(current.revision), not \(expectedRevision)")
            }
            var rulesets = current.rulesets
            rulesets.removeAll { NameOrder.same($0, removing) }
            if !rulesets.contains(where: { NameOrder.same($0, adding) }) { rulesets.append(adding) }
            let removed = current.rulesets.filter { old in !rulesets.contains { NameOrder.same($0, old) } }
            let added = rulesets.filter { new in !current.rulesets.contains { NameOrder.same($0, new) } }
            let xdrEnabled = !current.xdrEnabled

            try db.cachedStatement(sql: SQL.updatePolicy).execute(arguments: [current.description, xdrEnabled, current.id])
            for ruleset in removed {
                try db.cachedStatement(sql: SQL.unlinkByName).execute(arguments: [current.id, ruleset])
            }
            for ruleset in added { try Self.link(Int64(current.id), ruleset, db) }
            guard let counted = try CountedChange.fetchOne(
                db.cachedStatement(sql: SQL.countPolicyChange), arguments: [!added.isEmpty || !removed.isEmpty, current.id])
            else { throw BenchmarkFailure("policy \(name) was not updated") }
            try Self.recordPolicyChange(id: Int64(current.id), action: "modify", before: before, db)
            return Policy(
                id: current.id, name: current.name, description: current.description, xdrEnabled: xdrEnabled,
                rulesets: NameOrder.sorted(rulesets), revision: counted.revision, createdAt: current.createdAt,
                updatedAt: counted.updatedAt, rulesetsUpdatedAt: counted.rulesetsUpdatedAt)
        }
    }

    func policy(named name: String) throws -> Policy? {
        try dbQueue.unsafeRead { db in
            try PolicyRow.fetchOne(db.cachedStatement(sql: SQL.policyByName), arguments: [name])?.policy
        }
    }

    func forEachPolicy(pageSize: Int, _ body: (Policy) -> Void) throws {
        var after = ""
        while true {
            let page = try dbQueue.unsafeRead { db in
                try PolicyRow.fetchAll(db.cachedStatement(sql: SQL.policyPage), arguments: [after, pageSize])
            }
            guard let last = page.last else { return }
            page.forEach { body($0.policy) }
            after = last.policy.name
        }
    }

    /// Rows through cursors into the `Codable` document, then JSONEncoder: what a GRDB user
    /// writes for a JSON export.
    func exportDocument() throws -> Data {
        let document = try dbQueue.read { db in
            var rulesets: [InterchangeDocument.Ruleset] = []
            let rulesetRows = try Row.fetchCursor(db.cachedStatement(sql: SQL.exportRulesets))
            while let row = try rulesetRows.next() {
                let rules: RuleList? = row[2]
                rulesets.append(.init(name: row[0], description: row[1], rules: rules?.rules ?? []))
            }
            var policies: [InterchangeDocument.Policy] = []
            let policyRows = try Row.fetchCursor(db.cachedStatement(sql: SQL.exportPolicies))
            while let row = try policyRows.next() {
                let names: NameList? = row[3]
                policies.append(.init(
                    name: row[0], description: row[1], xdrEnabled: row[2],
                    runtime: .init(rulesets: (names?.names ?? []).map { .init(name: $0) })))
            }
            return InterchangeDocument(rulesets: rulesets, policies: policies)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }

    /// JSONDecoder into the `Codable` document, then plain inserts in one transaction: the
    /// schema's UNIQUE constraints refuse a name that exists.
    func importDocument(_ json: Data) throws {
        let document = try JSONDecoder().decode(InterchangeDocument.self, from: json)
        try write { db in
            for ruleset in document.rulesets {
                try db.cachedStatement(sql: SQL.insertRuleset).execute(arguments: [ruleset.name, ruleset.description])
                let rulesetID = db.lastInsertedRowID
                let insertRule = try db.cachedStatement(sql: SQL.insertRule)
                for rule in ruleset.rules {
                    try insertRule.execute(arguments: [rulesetID, rule.id, rule.mitigation])
                }
                try db.cachedStatement(sql: SQL.recordRulesetCreate).execute(arguments: [rulesetID])
            }
            for policy in document.policies {
                _ = try Self.insert(
                    PolicySpec(
                        name: policy.name, description: policy.description, xdrEnabled: policy.xdrEnabled,
                        rulesets: policy.runtime.rulesets.map(\.name)),
                    db)
            }
        }
    }

    // MARK: Steps shared by the operations

    /// A write transaction that tells the schema's triggers the changes are recorded here.
    private func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try dbQueue.write { db in
            try db.cachedStatement(sql: SQL.openWriteContext).execute()
            let result = try updates(db)
            try db.cachedStatement(sql: SQL.closeWriteContext).execute()
            return result
        }
    }

    /// One change in the history, the policy's state after it taken from `policy_states`.
    private static func recordPolicyChange(id: Int64, action: String, before: String?, _ db: Database) throws {
        try db.cachedStatement(sql: SQL.recordPolicyChange).execute(arguments: [action, before, id])
    }

    /// Creates a policy, its links and its 'create' change. The ruleset names come back as
    /// given (the benchmark gives them as stored), each once.
    private static func insert(_ policy: PolicySpec, _ db: Database) throws -> Policy {
        let row = try insertRow(policy.name, policy.description, policy.xdrEnabled, db)
        var rulesets: [String] = []
        for name in NameOrder.sorted(policy.rulesets) where !(rulesets.last.map { NameOrder.same($0, name) } ?? false) {
            try link(row.id, name, db)
            rulesets.append(name)
        }
        try recordPolicyChange(id: row.id, action: "create", before: nil, db)
        return row.policy(name: policy.name, description: policy.description, xdrEnabled: policy.xdrEnabled, rulesets: rulesets)
    }

    private static func insertRow(_ name: String, _ description: String, _ xdrEnabled: Bool, _ db: Database) throws -> InsertedRow {
        guard let row = try InsertedRow.fetchOne(
            db.cachedStatement(sql: SQL.insertPolicy), arguments: [name, description, xdrEnabled])
        else { throw BenchmarkFailure("policy \(name) was not inserted") }
        return row
    }

    /// Links a ruleset by name; a name that matches no ruleset inserts nothing, which is an error.
    private static func link(_ policyID: Int64, _ ruleset: String, _ db: Database) throws {
        try db.cachedStatement(sql: SQL.linkByName).execute(arguments: [policyID, ruleset])
        guard db.changesCount == 1 else { throw BenchmarkFailure("no ruleset \(ruleset)") }
    }
}

// MARK: Rows and columns

// Records are decoded while the statement is on the row (`Record.fetchOne`, cursors), so that
// the `StatementColumnConvertible` columns read SQLite's buffers; `Row.fetchOne` would copy
// the row first.

/// A row of `policyColumns`, decoded by column index, and the `policy_states` state after it
/// when the statement selects one.
private struct PolicyRow: FetchableRecord {
    let policy: Policy
    let state: String?

    init(row: Row) throws {
        let (createdAt, updatedAt, rulesetsUpdatedAt): (Timestamp, Timestamp, Timestamp) = (row[5], row[6], row[7])
        let names: NameList? = row[8]
        policy = Policy(
            id: row[0], name: row[1], description: row[2], xdrEnabled: row[3], rulesets: names?.names ?? [],
            revision: row[4], createdAt: createdAt.date, updatedAt: updatedAt.date,
            rulesetsUpdatedAt: rulesetsUpdatedAt.date)
        state = row.count > 9 ? row[9] : nil
    }
}

/// What `INSERT ... RETURNING id, revision, created_at, updated_at, rulesets_updated_at` gives.
private struct InsertedRow: FetchableRecord {
    let id: Int64
    let revision: Int
    let createdAt, updatedAt, rulesetsUpdatedAt: Date

    init(row: Row) throws {
        let (createdAt, updatedAt, rulesetsUpdatedAt): (Timestamp, Timestamp, Timestamp) = (row[2], row[3], row[4])
        (id, revision) = (row[0], row[1])
        (self.createdAt, self.updatedAt, self.rulesetsUpdatedAt) = (createdAt.date, updatedAt.date, rulesetsUpdatedAt.date)
    }

    func policy(name: String, description: String, xdrEnabled: Bool, rulesets: [String]) -> Policy {
        Policy(
            id: Int(id), name: name,
            content: PolicyContent(description: description, xdrEnabled: xdrEnabled, rulesets: rulesets),
            revision: revision, createdAt: createdAt, updatedAt: updatedAt, rulesetsUpdatedAt: rulesetsUpdatedAt)
    }
}

/// What the counted change returns: `RETURNING revision, updated_at, rulesets_updated_at`.
private struct CountedChange: FetchableRecord {
    let revision: Int
    let updatedAt, rulesetsUpdatedAt: Date

    init(row: Row) throws {
        let (updatedAt, rulesetsUpdatedAt): (Timestamp, Timestamp) = (row[1], row[2])
        (revision, self.updatedAt, self.rulesetsUpdatedAt) = (row[0], updatedAt.date, rulesetsUpdatedAt.date)
    }
}

/// The schema's timestamps (`2026-11-29T05:07:21.123Z`), parsed from SQLite's buffer. GRDB's
/// own `Date` decoding goes through `DateComponents` and Foundation's Calendar.
private struct Timestamp: DatabaseValueConvertible, StatementColumnConvertible {
    let date: Date

    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        date = RawTimestamp.date(sqliteStatement, index)
    }

    var databaseValue: DatabaseValue {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)).databaseValue
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Timestamp? {
        guard var text = String.fromDatabaseValue(dbValue) else { return nil }
        return text.withUTF8 { Timestamp(date: RawTimestamp.date(utf8: $0)) }
    }

    private init(date: Date) {
        self.date = date
    }
}

/// A `group_concat(name, ',')` column: the names split on the column's bytes and sorted in
/// the library's order (`String.split` would break graphemes over every byte).
private struct NameList: DatabaseValueConvertible, StatementColumnConvertible {
    let names: [String]

    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        let bytes = UnsafeBufferPointer(
            start: sqlite3_column_text(sqliteStatement, index), count: Int(sqlite3_column_bytes(sqliteStatement, index)))
        names = NameOrder.sorted(bytes.split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) })
    }

    var databaseValue: DatabaseValue { names.joined(separator: ",").databaseValue }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> NameList? {
        String.fromDatabaseValue(dbValue).map { NameList(names: $0.utf8.split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }) }
    }

    private init(names: [String]) {
        self.names = NameOrder.sorted(names)
    }
}

/// A `group_concat(rule_id || ':' || mitigation, ',')` column, sorted by rule ID.
private struct RuleList: DatabaseValueConvertible, StatementColumnConvertible {
    let rules: [InterchangeDocument.Rule]

    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        let bytes = UnsafeBufferPointer(
            start: sqlite3_column_text(sqliteStatement, index), count: Int(sqlite3_column_bytes(sqliteStatement, index)))
        self.init(bytes.split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) })
    }

    var databaseValue: DatabaseValue { rules.map { $0.id + ":" + $0.mitigation }.joined(separator: ",").databaseValue }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> RuleList? {
        String.fromDatabaseValue(dbValue).map { RuleList($0.utf8.split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }) }
    }

    private init(_ pairs: [String]) {
        rules = pairs.sorted().map { pair in
            let parts = pair.utf8.split(separator: UInt8(ascii: ":"), maxSplits: 1).map { String(decoding: $0, as: UTF8.self) }
            return InterchangeDocument.Rule(id: parts[0], mitigation: parts.count > 1 ? parts[1] : "log")
        }
    }
}
