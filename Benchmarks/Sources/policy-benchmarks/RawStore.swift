import ContainerPolicyStore
import Foundation
import SystemSQLite

/// The measure of the library's Swift code alone ("raw, library's SQL"): the library's SQL,
/// statement for statement and in the same order, through the SQLite C API, so that ours/raw
/// is what the library's Swift costs on top of its own SQL (the floor for the product work is
/// `LeanRawStore`). Every statement is prepared once when the store opens (only the error paths'
/// rollbacks go through `sqlite3_exec`), values are bound directly, rows are read straight
/// from SQLite's buffers, and Swift values are built only where the operation returns them.
/// Checks that the schema makes anyway (name and description rules) are left to its CHECK
/// constraints and triggers.
final class RawStore: StoreUnderTest {
    private let connection: RawConnection
    private let statements: Statements

    /// The library's SQL text, copied verbatim from Sources/ContainerPolicyStore/Store.
    private enum SQL {
        static let policyColumns = """
            SELECT p.id, p.name, p.description, p.xdr_enabled, p.revision, p.created_at, p.updated_at,
                   p.rulesets_updated_at,
                   (SELECT group_concat(r.name, ',') FROM policy_rulesets AS pr
                    JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
            FROM policies AS p
            """
        static let exportedPolicies = """
            SELECT p.name, p.description, p.xdr_enabled,
                   (SELECT group_concat(r.name, ',') FROM policy_rulesets AS pr
                    JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
            FROM policies AS p ORDER BY p.name
            """
        static let rulesetColumns = """
            SELECT s.id, s.name, s.description, s.revision, s.created_at, s.updated_at,
                   (SELECT group_concat(rule_id || ':' || mitigation, ',') FROM ruleset_rules WHERE ruleset_id = s.id)
            FROM rulesets AS s
            """
    }

    /// Every statement the operations use, prepared once.
    private struct Statements {
        let beginImmediate, beginDeferred, commit, savepoint, release: OpaquePointer
        let openWriteContext, closeWriteContext: OpaquePointer
        let policyByName, policyPage, allPolicies, policyNameTaken, policyState: OpaquePointer
        let rulesetIDByName, rulesetByName, allRulesets, rulesetNameTaken: OpaquePointer
        let insertPolicy, insertLink, duplicatePolicyRow, duplicateLinks: OpaquePointer
        let updatePolicy, linkedRulesetIDs, deleteLink, countPolicyChange, recordPolicyChange: OpaquePointer
        let insertRuleset, insertRule, recordRulesetChange: OpaquePointer

        init(_ connection: RawConnection) throws {
            beginImmediate = try connection.prepare("BEGIN IMMEDIATE")
            beginDeferred = try connection.prepare("BEGIN DEFERRED")
            commit = try connection.prepare("COMMIT")
            savepoint = try connection.prepare("SAVEPOINT nested")
            release = try connection.prepare("RELEASE nested")
            openWriteContext = try connection.prepare(
                "INSERT OR REPLACE INTO write_context (id, actor, recorded_by_library) VALUES (1, ?, 1)")
            closeWriteContext = try connection.prepare("DELETE FROM write_context")
            policyByName = try connection.prepare(SQL.policyColumns + " WHERE p.name = ?")
            policyPage = try connection.prepare(SQL.policyColumns + " WHERE p.name > ? ORDER BY p.name LIMIT ?")
            allPolicies = try connection.prepare(SQL.exportedPolicies)
            policyNameTaken = try connection.prepare("SELECT name FROM policies WHERE name = ?")
            policyState = try connection.prepare("SELECT state FROM policy_states WHERE id = ?")
            rulesetIDByName = try connection.prepare("SELECT id FROM rulesets WHERE name = ?")
            rulesetByName = try connection.prepare(SQL.rulesetColumns + " WHERE s.name = ?")
            allRulesets = try connection.prepare(SQL.rulesetColumns + " ORDER BY s.name")
            rulesetNameTaken = try connection.prepare("SELECT name FROM rulesets WHERE name = ?")
            insertPolicy = try connection.prepare(
                "INSERT INTO policies (name, description, xdr_enabled) VALUES (?, ?, ?)")
            insertLink = try connection.prepare("INSERT INTO policy_rulesets (policy_id, ruleset_id) VALUES (?, ?)")
            duplicatePolicyRow = try connection.prepare(
                "INSERT INTO policies (name, description, xdr_enabled) SELECT ?, description, xdr_enabled FROM policies WHERE id = ?")
            duplicateLinks = try connection.prepare(
                "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, ruleset_id FROM policy_rulesets WHERE policy_id = ?")
            updatePolicy = try connection.prepare("UPDATE policies SET description = ?, xdr_enabled = ? WHERE id = ?")
            linkedRulesetIDs = try connection.prepare("SELECT ruleset_id FROM policy_rulesets WHERE policy_id = ?")
            deleteLink = try connection.prepare("DELETE FROM policy_rulesets WHERE policy_id = ? AND ruleset_id = ?")
            countPolicyChange = try connection.prepare(
                """
                UPDATE policies SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                    rulesets_updated_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE rulesets_updated_at END
                WHERE id = ?
                """)
            recordPolicyChange = try connection.prepare(
                """
                INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
                SELECT 'policy', p.name, ?, p.revision, ?, s.state, coalesce((SELECT actor FROM write_context), '')
                FROM policies AS p JOIN policy_states AS s ON s.id = p.id WHERE p.id = ?
                """)
            insertRuleset = try connection.prepare("INSERT INTO rulesets (name, description) VALUES (?, ?)")
            insertRule = try connection.prepare(
                "INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) VALUES (?, ?, ?)")
            recordRulesetChange = try connection.prepare(
                """
                INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
                SELECT 'ruleset', r.name, ?, r.revision, ?, s.state, coalesce((SELECT actor FROM write_context), '')
                FROM rulesets AS r JOIN ruleset_states AS s ON s.id = r.id WHERE r.id = ?
                """)
        }

        var all: [OpaquePointer] {
            [beginImmediate, beginDeferred, commit, savepoint, release, openWriteContext, closeWriteContext,
             policyByName, policyPage, allPolicies, policyNameTaken, policyState, rulesetIDByName, rulesetByName,
             allRulesets, rulesetNameTaken, insertPolicy, insertLink, duplicatePolicyRow, duplicateLinks, updatePolicy,
             linkedRulesetIDs, deleteLink, countPolicyChange, recordPolicyChange, insertRuleset, insertRule,
             recordRulesetChange]
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
        try writeTransaction { try readPolicy(id: try insertPolicy(policy), named: policy.name) }
    }

    func createPolicies(_ policies: [PolicySpec]) throws -> [Policy] {
        // Inside the library's `write`, each operation runs in a savepoint of its own.
        try writeTransaction {
            try policies.map { policy in
                try savepoint { try readPolicy(id: try insertPolicy(policy), named: policy.name) }
            }
        }
    }

    func duplicatePolicy(named name: String, as copyName: String) throws -> Policy {
        try writeTransaction {
            let sourceID = try existingPolicyID(named: name)
            try checkNameIsFree(statements.policyNameTaken, copyName)
            let insertRow = statements.duplicatePolicyRow
            connection.bind(copyName, to: insertRow, at: 1)
            sqlite3_bind_int64(insertRow, 2, sourceID)
            try connection.run(insertRow)
            let copyID = sqlite3_last_insert_rowid(connection.handle)
            let insertLinks = statements.duplicateLinks
            sqlite3_bind_int64(insertLinks, 1, copyID)
            sqlite3_bind_int64(insertLinks, 2, sourceID)
            try connection.run(insertLinks)
            try recordPolicyChange(id: copyID, action: "create", before: nil)
            return try readPolicy(id: copyID, named: copyName)
        }
    }

    func modifyPolicy(named name: String, expectedRevision: Int, adding: String, removing: String) throws -> Policy {
        try writeTransaction {
            let byName = statements.policyByName
            connection.bind(name, to: byName, at: 1)
            defer { sqlite3_reset(byName) }
            guard try connection.step(byName) else { throw BenchmarkFailure("no policy \(name)") }
            let id = sqlite3_column_int64(byName, 0)
            let storedName = connection.text(byName, 1)
            let description = connection.text(byName, 2)
            let xdrEnabled = sqlite3_column_int64(byName, 3) != 0
            let revision = Int(sqlite3_column_int64(byName, 4))
            var rulesets = NameOrder.sorted(connection.list(byName, 8))
            sqlite3_reset(byName)  // now: readPolicy runs the same statement below
            guard revision == expectedRevision else {
                throw BenchmarkFailure("\(name) is at revision \(revision), not \(expectedRevision)")
            }
            rulesets.removeAll { NameOrder.same($0, removing) }
            if !rulesets.contains(where: { NameOrder.same($0, adding) }) { rulesets.append(adding) }
            let wanted = Set(try rulesetIDs(rulesets))
            var linked = Set<Int64>()
            let selectLinked = statements.linkedRulesetIDs
            sqlite3_bind_int64(selectLinked, 1, id)
            defer { sqlite3_reset(selectLinked) }
            while try connection.step(selectLinked) { linked.insert(sqlite3_column_int64(selectLinked, 0)) }
            let (added, removed) = (wanted.subtracting(linked), linked.subtracting(wanted))

            let before = try policyState(id: id)
            let update = statements.updatePolicy
            connection.bind(description, to: update, at: 1)
            sqlite3_bind_int64(update, 2, xdrEnabled ? 0 : 1)
            sqlite3_bind_int64(update, 3, id)
            try connection.run(update)
            for rulesetID in removed.sorted() {
                sqlite3_bind_int64(statements.deleteLink, 1, id)
                sqlite3_bind_int64(statements.deleteLink, 2, rulesetID)
                try connection.run(statements.deleteLink)
            }
            for rulesetID in added.sorted() { try link(policyID: id, rulesetID: rulesetID) }
            let count = statements.countPolicyChange
            sqlite3_bind_int64(count, 1, added.isEmpty && removed.isEmpty ? 0 : 1)
            sqlite3_bind_int64(count, 2, id)
            try connection.run(count)
            try recordPolicyChange(id: id, action: "modify", before: before)
            return try readPolicy(id: id, named: storedName)
        }
    }

    // One statement, which SQLite runs as its own transaction, as the library does.
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

    func exportDocument() throws -> Data {
        try transaction(statements.beginDeferred) {
            try connection.exportDocument(
                rulesets: statements.allRulesets, rulesetColumns: (name: 1, description: 2, rules: 6),
                policies: statements.allPolicies)
        }
    }

    func importDocument(_ json: Data) throws {
        let document = try RawDocumentReader.read(json)
        try writeTransaction {
            // The library plans first: it looks every name up before it writes.
            for ruleset in document.rulesets where try rowExists(statements.rulesetByName, name: ruleset.name) {
                throw BenchmarkFailure("the benchmark imports into an empty store; \(ruleset.name) exists")
            }
            for policy in document.policies where try rowExists(statements.policyByName, name: policy.name) {
                throw BenchmarkFailure("the benchmark imports into an empty store; \(policy.name) exists")
            }
            for ruleset in document.rulesets {
                try checkNameIsFree(statements.rulesetNameTaken, ruleset.name)
                connection.bind(ruleset.name, to: statements.insertRuleset, at: 1)
                connection.bind(ruleset.description, to: statements.insertRuleset, at: 2)
                try connection.run(statements.insertRuleset)
                let rulesetID = sqlite3_last_insert_rowid(connection.handle)
                for rule in ruleset.rules {
                    sqlite3_bind_int64(statements.insertRule, 1, rulesetID)
                    connection.bind(rule.id, to: statements.insertRule, at: 2)
                    connection.bind(rule.mitigation, to: statements.insertRule, at: 3)
                    try connection.run(statements.insertRule)
                }
                let record = statements.recordRulesetChange
                connection.bind("create", to: record, at: 1)
                sqlite3_bind_null(record, 2)
                sqlite3_bind_int64(record, 3, rulesetID)
                try connection.run(record)
                // The library reads each new ruleset back; its import does not use the value.
                _ = try rowExists(statements.rulesetByName, name: ruleset.name)
            }
            for policy in document.policies {
                try insertPolicy(policy)
                // Read back as the library does; its import does not use the value either.
                _ = try rowExists(statements.policyByName, name: policy.name)
            }
        }
    }

    // MARK: Steps shared by the operations

    /// What `StoreTransaction.createPolicy` runs before it reads the policy back.
    @discardableResult
    private func insertPolicy(_ policy: PolicySpec) throws -> Int64 {
        let ids = try rulesetIDs(policy.rulesets)
        try checkNameIsFree(statements.policyNameTaken, policy.name)
        let insert = statements.insertPolicy
        connection.bind(policy.name, to: insert, at: 1)
        connection.bind(policy.description, to: insert, at: 2)
        sqlite3_bind_int64(insert, 3, policy.xdrEnabled ? 1 : 0)
        try connection.run(insert)
        let id = sqlite3_last_insert_rowid(connection.handle)
        for rulesetID in ids { try link(policyID: id, rulesetID: rulesetID) }
        try recordPolicyChange(id: id, action: "create", before: nil)
        return id
    }

    /// Reads a policy back by name, as the library does after every write.
    private func readPolicy(id: Int64, named name: String) throws -> Policy {
        let byName = statements.policyByName
        connection.bind(name, to: byName, at: 1)
        defer { sqlite3_reset(byName) }
        guard try connection.step(byName), sqlite3_column_int64(byName, 0) == id else {
            throw BenchmarkFailure("policy \(name) was not written")
        }
        return connection.policy(at: byName)
    }

    private func existingPolicyID(named name: String) throws -> Int64 {
        let byName = statements.policyByName
        connection.bind(name, to: byName, at: 1)
        defer { sqlite3_reset(byName) }
        guard try connection.step(byName) else { throw BenchmarkFailure("no policy \(name)") }
        return sqlite3_column_int64(byName, 0)
    }

    /// The policy's state as the history records it.
    private func policyState(id: Int64) throws -> String? {
        let state = statements.policyState
        sqlite3_bind_int64(state, 1, id)
        defer { sqlite3_reset(state) }
        return try connection.step(state) ? connection.text(state, 0) : nil
    }

    /// One change in the history, as `StoreTransaction.recordPolicyChange` writes it.
    private func recordPolicyChange(id: Int64, action: String, before: String?) throws {
        let record = statements.recordPolicyChange
        connection.bind(action, to: record, at: 1)
        if let before { connection.bind(before, to: record, at: 2) } else { sqlite3_bind_null(record, 2) }
        sqlite3_bind_int64(record, 3, id)
        try connection.run(record)
    }

    private func checkNameIsFree(_ statement: OpaquePointer, _ name: String) throws {
        if try rowExists(statement, name: name) { throw BenchmarkFailure("the name \(name) is taken") }
    }

    private func rowExists(_ statement: OpaquePointer, name: String) throws -> Bool {
        connection.bind(name, to: statement, at: 1)
        defer { sqlite3_reset(statement) }
        return try connection.step(statement)
    }

    /// The ids of the named rulesets, each once, in the order given.
    private func rulesetIDs(_ names: [String]) throws -> [Int64] {
        var ids: [Int64] = []
        let byName = statements.rulesetIDByName
        for name in names {
            connection.bind(name, to: byName, at: 1)
            defer { sqlite3_reset(byName) }
            guard try connection.step(byName) else { throw BenchmarkFailure("no ruleset \(name)") }
            let id = sqlite3_column_int64(byName, 0)
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    private func link(policyID: Int64, rulesetID: Int64) throws {
        sqlite3_bind_int64(statements.insertLink, 1, policyID)
        sqlite3_bind_int64(statements.insertLink, 2, rulesetID)
        try connection.run(statements.insertLink)
    }

    /// A write transaction as the library's: it names the writer in `write_context` (the
    /// actor, empty here), which also tells the history's triggers that the library records.
    private func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(statements.beginImmediate) {
            connection.bind("", to: statements.openWriteContext, at: 1)
            try connection.run(statements.openWriteContext)
            let result = try body()
            try connection.run(statements.closeWriteContext)
            return result
        }
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

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        try connection.run(statements.savepoint)
        do {
            let result = try body()
            try connection.run(statements.release)
            return result
        } catch {
            try? connection.execute("ROLLBACK TO nested; RELEASE nested")
            throw error
        }
    }
}
