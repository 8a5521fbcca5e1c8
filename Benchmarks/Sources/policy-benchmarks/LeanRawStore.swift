import ContainerPolicyStore
import Foundation
import SystemSQLite

/// What a competent user would write with the SQLite C API for the same product work, the
/// floor the library is held to: a lean schema of its own with the constraints that matter
/// (STRICT tables, names unique ignoring case, the name, description, rule ID and mitigation
/// CHECKs, foreign keys) and nothing else: no history, no triggers (the UPDATE that changes a
/// policy bumps its revision itself), no view. Every statement is prepared once, values are
/// bound directly, each operation is one `BEGIN IMMEDIATE` transaction of as few statements as
/// it takes (`INSERT ... RETURNING` for the values the database makes, `INSERT ... SELECT` to
/// link by name), and the returned `Policy` is built from what the operation already holds.
/// The connection is opened like the others (`RawConnection`: WAL, the `synchronous` under
/// test, foreign keys on).
final class LeanRawStore: StoreUnderTest {
    /// The lean schema: the library's table and column names, so the export and the
    /// benchmark's checks read both alike.
    static let schema = """
        CREATE TABLE policies (
            id                  INTEGER PRIMARY KEY,
            name                TEXT NOT NULL COLLATE NOCASE UNIQUE
                                CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9_.]*'),
            description         TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
            xdr_enabled         INTEGER NOT NULL DEFAULT 1 CHECK (xdr_enabled IN (0, 1)),
            revision            INTEGER NOT NULL DEFAULT 1,
            created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            rulesets_updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ) STRICT;
        CREATE TABLE rulesets (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL COLLATE NOCASE UNIQUE
                        CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9_.]*'),
            description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
            revision    INTEGER NOT NULL DEFAULT 1,
            created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ) STRICT;
        CREATE TABLE ruleset_rules (
            ruleset_id INTEGER NOT NULL REFERENCES rulesets (id) ON DELETE CASCADE,
            rule_id    TEXT NOT NULL CHECK (rule_id GLOB 'TM-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
            mitigation TEXT NOT NULL DEFAULT 'log' CHECK (mitigation IN ('log', 'isolate', 'terminate')),
            PRIMARY KEY (ruleset_id, rule_id)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE policy_rulesets (
            policy_id  INTEGER NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
            ruleset_id INTEGER NOT NULL REFERENCES rulesets (id) ON DELETE RESTRICT,
            PRIMARY KEY (policy_id, ruleset_id)
        ) STRICT, WITHOUT ROWID;
        -- The foreign key's child index: without it, deleting a ruleset scans every link.
        CREATE INDEX policy_rulesets_by_ruleset ON policy_rulesets (ruleset_id);
        """

    /// A lean store with the same rows as a store the library made (ids, revisions and
    /// timestamps included), so that both start from the same data. Not timed.
    static func makeTemplate(copying libraryPath: String, to path: String) throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let connection = try RawConnection(path: path, synchronous: .normal, create: true)
        try connection.execute(schema)
        let attach = try connection.prepare("ATTACH DATABASE ? AS library")
        defer { sqlite3_finalize(attach) }
        connection.bind(libraryPath, to: attach, at: 1)
        try connection.run(attach)
        try connection.execute("""
            BEGIN IMMEDIATE;
            INSERT INTO main.rulesets (id, name, description, revision, created_at, updated_at)
                SELECT id, name, description, revision, created_at, updated_at FROM library.rulesets;
            INSERT INTO main.ruleset_rules (ruleset_id, rule_id, mitigation)
                SELECT ruleset_id, rule_id, mitigation FROM library.ruleset_rules;
            INSERT INTO main.policies (id, name, description, xdr_enabled, revision, created_at, updated_at, rulesets_updated_at)
                SELECT id, name, description, xdr_enabled, revision, created_at, updated_at, rulesets_updated_at
                FROM library.policies;
            INSERT INTO main.policy_rulesets (policy_id, ruleset_id)
                SELECT policy_id, ruleset_id FROM library.policy_rulesets;
            COMMIT;
            DETACH DATABASE library;
            """)
    }

    private let connection: RawConnection
    private let statements: Statements

    private enum SQL {
        static let policyColumns = """
            SELECT p.id, p.name, p.description, p.xdr_enabled, p.revision, p.created_at, p.updated_at,
                   p.rulesets_updated_at,
                   (SELECT group_concat(r.name, ',') FROM policy_rulesets AS pr
                    JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
            FROM policies AS p
            """
        static let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    }

    private struct Statements {
        let beginImmediate, beginDeferred, commit: OpaquePointer
        let policyByName, policyPage, exportRulesets, exportPolicies: OpaquePointer
        let insertPolicyReturning, insertPolicy, linkByName, unlinkByName, copyLinks, updatePolicy: OpaquePointer
        let insertRuleset, insertRule: OpaquePointer

        init(_ connection: RawConnection) throws {
            beginImmediate = try connection.prepare("BEGIN IMMEDIATE")
            beginDeferred = try connection.prepare("BEGIN DEFERRED")
            commit = try connection.prepare("COMMIT")
            policyByName = try connection.prepare(SQL.policyColumns + " WHERE p.name = ?")
            policyPage = try connection.prepare(SQL.policyColumns + " WHERE p.name > ? ORDER BY p.name LIMIT ?")
            exportRulesets = try connection.prepare("""
                SELECT s.name, s.description,
                       (SELECT group_concat(rule_id || ':' || mitigation, ',') FROM ruleset_rules WHERE ruleset_id = s.id)
                FROM rulesets AS s ORDER BY s.name
                """)
            exportPolicies = try connection.prepare("""
                SELECT p.name, p.description, p.xdr_enabled,
                       (SELECT group_concat(r.name, ',') FROM policy_rulesets AS pr
                        JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
                FROM policies AS p ORDER BY p.name
                """)
            insertPolicyReturning = try connection.prepare("""
                INSERT INTO policies (name, description, xdr_enabled) VALUES (?, ?, ?)
                RETURNING id, revision, created_at, updated_at, rulesets_updated_at
                """)
            insertPolicy = try connection.prepare("INSERT INTO policies (name, description, xdr_enabled) VALUES (?, ?, ?)")
            linkByName = try connection.prepare(
                "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, id FROM rulesets WHERE name = ?")
            unlinkByName = try connection.prepare(
                "DELETE FROM policy_rulesets WHERE policy_id = ? AND ruleset_id = (SELECT id FROM rulesets WHERE name = ?)")
            copyLinks = try connection.prepare(
                "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, ruleset_id FROM policy_rulesets WHERE policy_id = ?")
            // The revision moves in the same statement as the content: no trigger needed.
            updatePolicy = try connection.prepare("""
                UPDATE policies SET description = ?, xdr_enabled = ?, revision = revision + 1, updated_at = \(SQL.now),
                    rulesets_updated_at = CASE WHEN ? THEN \(SQL.now) ELSE rulesets_updated_at END
                WHERE id = ?
                RETURNING revision, updated_at, rulesets_updated_at
                """)
            insertRuleset = try connection.prepare("INSERT INTO rulesets (name, description) VALUES (?, ?)")
            insertRule = try connection.prepare("INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) VALUES (?, ?, ?)")
        }

        var all: [OpaquePointer] {
            [beginImmediate, beginDeferred, commit, policyByName, policyPage, exportRulesets, exportPolicies,
             insertPolicyReturning, insertPolicy, linkByName, unlinkByName, copyLinks, updatePolicy, insertRuleset,
             insertRule]
        }
    }

    init(path: String, synchronous: Synchronous) throws {
        connection = try RawConnection(path: path, synchronous: synchronous)
        statements = try Statements(connection)
    }

    deinit {
        statements.all.forEach { sqlite3_finalize($0) }
    }

    // MARK: Operations

    func createPolicy(_ policy: PolicySpec) throws -> Policy {
        try transaction(statements.beginImmediate) { try insert(policy) }
    }

    func createPolicies(_ policies: [PolicySpec]) throws -> [Policy] {
        try transaction(statements.beginImmediate) { try policies.map(insert) }
    }

    func duplicatePolicy(named name: String, as copyName: String) throws -> Policy {
        try transaction(statements.beginImmediate) {
            let source = try existingPolicy(named: name)
            let copy = try insertRow(copyName, source.description, source.xdrEnabled)
            let links = statements.copyLinks
            sqlite3_bind_int64(links, 1, copy.id)
            sqlite3_bind_int64(links, 2, Int64(source.id))
            try connection.run(links)
            return copy.policy(name: copyName, description: source.description, xdrEnabled: source.xdrEnabled,
                               rulesets: source.rulesets)
        }
    }

    func modifyPolicy(named name: String, expectedRevision: Int, adding: String, removing: String) throws -> Policy {
        try transaction(statements.beginImmediate) {
            // Read inside the write transaction: the revision checked is the one updated.
            let current = try existingPolicy(named: name)
            guard current.revision == expectedRevision else {
                throw BenchmarkFailure("\(name) is at revision \(current.revision), not \(expectedRevision)")
            }
            var rulesets = current.rulesets
            rulesets.removeAll { NameOrder.same($0, removing) }
            if !rulesets.contains(where: { NameOrder.same($0, adding) }) { rulesets.append(adding) }
            let removed = current.rulesets.filter { old in !rulesets.contains { NameOrder.same($0, old) } }
            let added = rulesets.filter { new in !current.rulesets.contains { NameOrder.same($0, new) } }
            let xdrEnabled = !current.xdrEnabled

            let update = statements.updatePolicy
            connection.bind(current.description, to: update, at: 1)
            sqlite3_bind_int64(update, 2, xdrEnabled ? 1 : 0)
            sqlite3_bind_int64(update, 3, added.isEmpty && removed.isEmpty ? 0 : 1)
            sqlite3_bind_int64(update, 4, Int64(current.id))
            defer { sqlite3_reset(update) }
            guard try connection.step(update) else { throw BenchmarkFailure("policy \(name) was not updated") }
            let revision = Int(sqlite3_column_int64(update, 0))
            let (updatedAt, rulesetsUpdatedAt) = (RawTimestamp.date(update, 1), RawTimestamp.date(update, 2))
            sqlite3_reset(update)
            for ruleset in removed {
                let unlink = statements.unlinkByName
                sqlite3_bind_int64(unlink, 1, Int64(current.id))
                connection.bind(ruleset, to: unlink, at: 2)
                try connection.run(unlink)
            }
            for ruleset in added { try link(Int64(current.id), ruleset) }
            return Policy(
                id: current.id, name: current.name, description: current.description, xdrEnabled: xdrEnabled,
                rulesets: NameOrder.sorted(rulesets), revision: revision, createdAt: current.createdAt,
                updatedAt: updatedAt, rulesetsUpdatedAt: rulesetsUpdatedAt)
        }
    }

    // One statement: SQLite runs it as its own read transaction.
    func policy(named name: String) throws -> Policy? {
        let byName = statements.policyByName
        connection.bind(name, to: byName, at: 1)
        defer { sqlite3_reset(byName) }
        return try connection.step(byName) ? connection.policy(at: byName) : nil
    }

    func forEachPolicy(pageSize: Int, _ body: (Policy) -> Void) throws {
        var after = ""
        while true {
            let page = try {
                let statement = statements.policyPage
                connection.bind(after, to: statement, at: 1)
                sqlite3_bind_int64(statement, 2, Int64(pageSize))
                defer { sqlite3_reset(statement) }
                var policies: [Policy] = []
                while try connection.step(statement) { policies.append(connection.policy(at: statement)) }
                return policies
            }()
            guard let last = page.last else { return }
            page.forEach(body)
            after = last.name
        }
    }

    // The floor: JSON written straight from the column buffers (RawJSONWriter), the
    // library's layout byte for byte. JSONEncoder, what GRDB uses, costs several times more.
    func exportDocument() throws -> Data {
        try transaction(statements.beginDeferred) {
            try connection.exportDocument(
                rulesets: statements.exportRulesets, rulesetColumns: (name: 0, description: 1, rules: 2),
                policies: statements.exportPolicies)
        }
    }

    func importDocument(_ json: Data) throws {
        let document = try JSONDecoder().decode(InterchangeDocument.self, from: json)
        try transaction(statements.beginImmediate) {
            for ruleset in document.rulesets {
                let insertRuleset = statements.insertRuleset
                connection.bind(ruleset.name, to: insertRuleset, at: 1)
                connection.bind(ruleset.description, to: insertRuleset, at: 2)
                try connection.run(insertRuleset)
                let rulesetID = sqlite3_last_insert_rowid(connection.handle)
                let insertRule = statements.insertRule
                for rule in ruleset.rules {
                    sqlite3_bind_int64(insertRule, 1, rulesetID)
                    connection.bind(rule.id, to: insertRule, at: 2)
                    connection.bind(rule.mitigation, to: insertRule, at: 3)
                    try connection.run(insertRule)
                }
            }
            let insertPolicy = statements.insertPolicy
            for policy in document.policies {
                connection.bind(policy.name, to: insertPolicy, at: 1)
                connection.bind(policy.description, to: insertPolicy, at: 2)
                sqlite3_bind_int64(insertPolicy, 3, policy.xdrEnabled ? 1 : 0)
                try connection.run(insertPolicy)
                let id = sqlite3_last_insert_rowid(connection.handle)
                for ruleset in Self.distinct(policy.runtime.rulesets.map(\.name)) { try link(id, ruleset) }
            }
        }
    }

    // MARK: Steps shared by the operations

    /// A new row's id and the values the database gave it.
    private struct InsertedRow {
        let id: Int64
        let revision: Int
        let createdAt, updatedAt, rulesetsUpdatedAt: Date

        func policy(name: String, description: String, xdrEnabled: Bool, rulesets: [String]) -> Policy {
            Policy(
                id: Int(id), name: name, description: description, xdrEnabled: xdrEnabled, rulesets: rulesets,
                revision: revision, createdAt: createdAt, updatedAt: updatedAt, rulesetsUpdatedAt: rulesetsUpdatedAt)
        }
    }

    /// Creates a policy and its links. The ruleset names come back as given (the benchmark
    /// gives them as stored), each once.
    private func insert(_ policy: PolicySpec) throws -> Policy {
        let row = try insertRow(policy.name, policy.description, policy.xdrEnabled)
        let rulesets = Self.distinct(policy.rulesets)
        for ruleset in rulesets { try link(row.id, ruleset) }
        return row.policy(name: policy.name, description: policy.description, xdrEnabled: policy.xdrEnabled,
                          rulesets: rulesets)
    }

    private func insertRow(_ name: String, _ description: String, _ xdrEnabled: Bool) throws -> InsertedRow {
        let insert = statements.insertPolicyReturning
        connection.bind(name, to: insert, at: 1)
        connection.bind(description, to: insert, at: 2)
        sqlite3_bind_int64(insert, 3, xdrEnabled ? 1 : 0)
        defer { sqlite3_reset(insert) }
        guard try connection.step(insert) else { throw BenchmarkFailure("policy \(name) was not inserted") }
        return InsertedRow(
            id: sqlite3_column_int64(insert, 0), revision: Int(sqlite3_column_int64(insert, 1)),
            createdAt: RawTimestamp.date(insert, 2), updatedAt: RawTimestamp.date(insert, 3),
            rulesetsUpdatedAt: RawTimestamp.date(insert, 4))
    }

    /// Links a ruleset by name; a name that matches no ruleset inserts nothing, which is an error.
    private func link(_ policyID: Int64, _ ruleset: String) throws {
        let link = statements.linkByName
        sqlite3_bind_int64(link, 1, policyID)
        connection.bind(ruleset, to: link, at: 2)
        try connection.run(link)
        guard sqlite3_changes(connection.handle) == 1 else { throw BenchmarkFailure("no ruleset \(ruleset)") }
    }

    private func existingPolicy(named name: String) throws -> Policy {
        guard let policy = try policy(named: name) else { throw BenchmarkFailure("no policy \(name)") }
        return policy
    }

    /// Sorted in the library's order, each name once ignoring case.
    private static func distinct(_ names: [String]) -> [String] {
        var result: [String] = []
        for name in NameOrder.sorted(names) where !(result.last.map { NameOrder.same($0, name) } ?? false) {
            result.append(name)
        }
        return result
    }

    private func transaction<T>(_ begin: OpaquePointer, _ body: () throws -> T) throws -> T {
        try connection.run(begin)
        do {
            let result = try body()
            try connection.run(statements.commit)
            return result
        } catch {
            if sqlite3_get_autocommit(connection.handle) == 0 { try? connection.execute("ROLLBACK") }
            throw error
        }
    }
}
