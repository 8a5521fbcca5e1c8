import ContainerPolicyStore
import Foundation
import SystemSQLite

/// The floor: the library's SQL, statement for statement and in the same order, through the
/// SQLite C API. Every statement is prepared once when the store opens, values are bound
/// directly, rows are read straight from SQLite's buffers, and Swift values are built only
/// where the operation returns them. Checks that the schema makes anyway (name and
/// description rules) are left to its CHECK constraints and triggers.
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
        static let rulesetColumns = """
            SELECT s.id, s.name, s.description, s.revision, s.created_at, s.updated_at,
                   (SELECT group_concat(rule_id || ':' || mitigation, ',') FROM ruleset_rules WHERE ruleset_id = s.id)
            FROM rulesets AS s
            """
    }

    /// Every statement the operations use, prepared once.
    private struct Statements {
        let beginImmediate, beginDeferred, commit, rollback: OpaquePointer
        let policyByName, policyPage, policyNameTaken: OpaquePointer
        let rulesetIDByName, rulesetByName, rulesetPage, rulesetNameTaken: OpaquePointer
        let insertPolicy, insertLink, duplicatePolicyRow, duplicateLinks: OpaquePointer
        let updatePolicy, linkedRulesetIDs, deleteLink: OpaquePointer
        let insertRuleset, insertRule: OpaquePointer

        init(_ connection: RawConnection) throws {
            beginImmediate = try connection.prepare("BEGIN IMMEDIATE")
            beginDeferred = try connection.prepare("BEGIN DEFERRED")
            commit = try connection.prepare("COMMIT")
            rollback = try connection.prepare("ROLLBACK")
            policyByName = try connection.prepare(SQL.policyColumns + " WHERE p.name = ?")
            policyPage = try connection.prepare(SQL.policyColumns + " WHERE p.name > ? ORDER BY p.name LIMIT ?")
            policyNameTaken = try connection.prepare("SELECT name FROM policies WHERE name = ?")
            rulesetIDByName = try connection.prepare("SELECT id FROM rulesets WHERE name = ?")
            rulesetByName = try connection.prepare(SQL.rulesetColumns + " WHERE s.name = ?")
            rulesetPage = try connection.prepare(SQL.rulesetColumns + " WHERE s.name > ? ORDER BY s.name LIMIT ?")
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
            insertRuleset = try connection.prepare("INSERT INTO rulesets (name, description) VALUES (?, ?)")
            insertRule = try connection.prepare(
                "INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) VALUES (?, ?, ?)")
        }

        var all: [OpaquePointer] {
            [beginImmediate, beginDeferred, commit, rollback, policyByName, policyPage, policyNameTaken,
             rulesetIDByName, rulesetByName, rulesetPage, rulesetNameTaken, insertPolicy, insertLink,
             duplicatePolicyRow, duplicateLinks, updatePolicy, linkedRulesetIDs, deleteLink, insertRuleset,
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
        try transaction(statements.beginImmediate) {
            try readPolicy(id: try insertPolicy(policy), named: policy.name)
        }
    }

    func createPolicies(_ policies: [PolicySpec]) throws -> [Policy] {
        try transaction(statements.beginImmediate) {
            try policies.map { policy in try readPolicy(id: try insertPolicy(policy), named: policy.name) }
        }
    }

    func duplicatePolicy(named name: String, as copyName: String) throws -> Policy {
        try transaction(statements.beginImmediate) {
            let sourceID = try existingPolicyID(named: name)
            try checkPolicyNameIsFree(copyName)
            let insertRow = statements.duplicatePolicyRow
            connection.bind(copyName, to: insertRow, at: 1)
            sqlite3_bind_int64(insertRow, 2, sourceID)
            try connection.run(insertRow)
            let copyID = sqlite3_last_insert_rowid(connection.handle)
            let insertLinks = statements.duplicateLinks
            sqlite3_bind_int64(insertLinks, 1, copyID)
            sqlite3_bind_int64(insertLinks, 2, sourceID)
            try connection.run(insertLinks)
            return try readPolicy(id: copyID, named: copyName)
        }
    }

    func modifyPolicy(named name: String, expectedRevision: Int, adding: String, removing: String) throws -> Policy {
        try transaction(statements.beginImmediate) {
            let byName = statements.policyByName
            connection.bind(name, to: byName, at: 1)
            defer { sqlite3_reset(byName) }
            guard try connection.step(byName) else { throw BenchmarkFailure("no policy \(name)") }
            let id = sqlite3_column_int64(byName, 0)
            let storedName = connection.text(byName, 1)
            let description = connection.text(byName, 2)
            let xdrEnabled = sqlite3_column_int64(byName, 3) != 0
            let revision = Int(sqlite3_column_int64(byName, 4))
            var rulesets = Self.sortedNames(connection.list(byName, 8))
            sqlite3_reset(byName)
            guard revision == expectedRevision else {
                throw BenchmarkFailure("\(name) is at revision \(revision), not \(expectedRevision)")
            }
            rulesets.removeAll { Self.sameName($0, removing) }
            if !rulesets.contains(where: { Self.sameName($0, adding) }) { rulesets.append(adding) }
            let wanted = Set(try rulesetIDs(rulesets))

            let update = statements.updatePolicy
            connection.bind(description, to: update, at: 1)
            sqlite3_bind_int64(update, 2, xdrEnabled ? 0 : 1)
            sqlite3_bind_int64(update, 3, id)
            try connection.run(update)

            var linked = Set<Int64>()
            let selectLinked = statements.linkedRulesetIDs
            sqlite3_bind_int64(selectLinked, 1, id)
            defer { sqlite3_reset(selectLinked) }
            while try connection.step(selectLinked) { linked.insert(sqlite3_column_int64(selectLinked, 0)) }
            sqlite3_reset(selectLinked)
            for rulesetID in linked.subtracting(wanted).sorted() {
                sqlite3_bind_int64(statements.deleteLink, 1, id)
                sqlite3_bind_int64(statements.deleteLink, 2, rulesetID)
                try connection.run(statements.deleteLink)
            }
            for rulesetID in wanted.subtracting(linked).sorted() {
                try link(policyID: id, rulesetID: rulesetID)
            }
            return try readPolicy(id: id, named: storedName)
        }
    }

    func policy(named name: String) throws -> Policy? {
        try transaction(statements.beginDeferred) {
            let byName = statements.policyByName
            connection.bind(name, to: byName, at: 1)
            defer { sqlite3_reset(byName) }
            return try connection.step(byName) ? decodePolicy(byName) : nil
        }
    }

    func forEachPolicy(pageSize: Int, _ body: (Policy) -> Void) throws {
        var after = ""
        while true {
            let page = try transaction(statements.beginDeferred) {
                let statement = statements.policyPage
                connection.bind(after, to: statement, at: 1)
                sqlite3_bind_int64(statement, 2, Int64(pageSize))
                defer { sqlite3_reset(statement) }
                var policies: [Policy] = []
                while try connection.step(statement) { policies.append(decodePolicy(statement)) }
                return policies
            }
            guard let last = page.last else { return }
            page.forEach(body)
            after = last.name
        }
    }

    func exportDocument() throws -> Data {
        try transaction(statements.beginDeferred) {
            var writer = RawJSONWriter()
            writer.raw("{")
            writer.newline(indent: 1)
            writer.raw("\"rulesets\": ")
            try writePages(statements.rulesetPage, into: &writer) { writer, row in
                writer.field("name", first: true, indent: 3) { $0.string(row, 1) }
                writer.field("description", indent: 3) { $0.string(row, 2) }
                writer.field("rules", indent: 3) { writer in
                    let rules = connection.listBytes(row, 6).sorted { $0.lexicographicallyPrecedes($1) }
                    writer.list(rules.count, indent: 3) { writer, index in
                        let rule = rules[index]
                        let colon = rule.firstIndex(of: UInt8(ascii: ":"))!
                        writer.field("id", first: true, indent: 5) { $0.string(rule[..<colon]) }
                        writer.field("mitigation", indent: 5) { $0.string(rule[(colon + 1)...]) }
                    }
                }
            }
            writer.raw(",")
            writer.newline(indent: 1)
            writer.raw("\"policies\": ")
            try writePages(statements.policyPage, into: &writer) { writer, row in
                writer.field("name", first: true, indent: 3) { $0.string(row, 1) }
                writer.field("description", indent: 3) { $0.string(row, 2) }
                writer.field("xdrEnabled", indent: 3) { $0.raw(sqlite3_column_int64(row, 3) != 0 ? "true" : "false") }
                writer.field("runtime", indent: 3) { writer in
                    writer.raw("{")
                    writer.newline(indent: 4)
                    writer.raw("\"rulesets\": ")
                    let names = connection.listBytes(row, 8).sorted { Self.nameOrderPrecedes($0, $1) }
                    writer.list(names.count, indent: 4) { writer, index in
                        writer.field("name", first: true, indent: 6) { $0.string(names[index]) }
                    }
                    writer.newline(indent: 3)
                    writer.raw("}")
                }
            }
            writer.newline(indent: 0)
            writer.raw("}\n")
            return Data(writer.bytes)
        }
    }

    func importDocument(_ json: Data) throws {
        let document = try RawDocumentReader.read(json)
        try transaction(statements.beginImmediate) {
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
        try checkPolicyNameIsFree(policy.name)
        let insert = statements.insertPolicy
        connection.bind(policy.name, to: insert, at: 1)
        connection.bind(policy.description, to: insert, at: 2)
        sqlite3_bind_int64(insert, 3, policy.xdrEnabled ? 1 : 0)
        try connection.run(insert)
        let id = sqlite3_last_insert_rowid(connection.handle)
        for rulesetID in ids { try link(policyID: id, rulesetID: rulesetID) }
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
        return decodePolicy(byName)
    }

    private func existingPolicyID(named name: String) throws -> Int64 {
        let byName = statements.policyByName
        connection.bind(name, to: byName, at: 1)
        defer { sqlite3_reset(byName) }
        guard try connection.step(byName) else { throw BenchmarkFailure("no policy \(name)") }
        return sqlite3_column_int64(byName, 0)
    }

    private func checkPolicyNameIsFree(_ name: String) throws {
        try checkNameIsFree(statements.policyNameTaken, name)
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

    private func transaction<T>(_ begin: OpaquePointer, _ body: () throws -> T) throws -> T {
        try connection.run(begin)
        do {
            let result = try body()
            try connection.run(statements.commit)
            return result
        } catch {
            if sqlite3_get_autocommit(connection.handle) == 0 { try? connection.run(statements.rollback) }
            throw error
        }
    }

    /// Runs a keyset-paged statement (`name > ? ... LIMIT ?`) to the end in pages of 1,000, as
    /// the library's export does, writing one JSON object per row into a top-level list.
    private func writePages(
        _ statement: OpaquePointer, into writer: inout RawJSONWriter,
        _ members: (inout RawJSONWriter, OpaquePointer) -> Void
    ) throws {
        var after: [UInt8] = []
        var count = 0
        while true {
            connection.bind(bytes: after, to: statement, at: 1)
            sqlite3_bind_int64(statement, 2, 1_000)
            defer { sqlite3_reset(statement) }
            var rowsInPage = 0
            while try connection.step(statement) {
                writer.listElement(isFirst: count == 0, indent: 1) { members(&$0, statement) }
                count += 1
                rowsInPage += 1
                after.removeAll(keepingCapacity: true)
                after.append(contentsOf: connection.bytes(statement, 1))
            }
            if rowsInPage == 0 { break }
        }
        writer.endList(count: count, indent: 1)
    }

    // MARK: Decoding

    private func decodePolicy(_ row: OpaquePointer) -> Policy {
        Policy(
            id: Int(sqlite3_column_int64(row, 0)), name: connection.text(row, 1), description: connection.text(row, 2),
            xdrEnabled: sqlite3_column_int64(row, 3) != 0,
            rulesets: Self.sortedNames(connection.list(row, 8)),
            revision: Int(sqlite3_column_int64(row, 4)),
            createdAt: RawTimestamp.date(row, 5), updatedAt: RawTimestamp.date(row, 6),
            rulesetsUpdatedAt: RawTimestamp.date(row, 7))
    }

    private static func sortedNames(_ names: [String]) -> [String] {
        names.sorted { nameOrderPrecedes($0.utf8, $1.utf8) }
    }

    /// The library's name order: as the schema's NOCASE collation (ASCII letters without
    /// case), names equal that way by their bytes.
    private static func nameOrderPrecedes(_ left: some Sequence<UInt8>, _ right: some Sequence<UInt8>) -> Bool {
        var leftBytes = left.makeIterator()
        var rightBytes = right.makeIterator()
        var byBytes: Bool?
        while true {
            switch (leftBytes.next(), rightBytes.next()) {
            case (nil, nil): return byBytes ?? false
            case (nil, _): return true
            case (_, nil): return false
            case let (leftByte?, rightByte?):
                let (leftFolded, rightFolded) = (foldCase(leftByte), foldCase(rightByte))
                if leftFolded != rightFolded { return leftFolded < rightFolded }
                if byBytes == nil, leftByte != rightByte { byBytes = leftByte < rightByte }
            }
        }
    }

    private static func foldCase(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }

    private static func sameName(_ left: String, _ right: String) -> Bool {
        left.utf8.elementsEqual(right.utf8) { foldCase($0) == foldCase($1) }
    }
}
