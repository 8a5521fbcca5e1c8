import CSQLite
import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// The SQLite layer on its own, with tables of its own: no policy in sight.
@Suite struct ConnectionTests {
    struct Injected: Error, Equatable { let label: String }

    func memory() throws -> Connection {
        let connection = try Connection(.memory, options: ConnectionOptions())
        try connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL) STRICT")
        return connection
    }

    func labels(_ connection: Connection) throws -> [String] {
        try connection.query("SELECT label FROM items ORDER BY id") { $0.text(0) }
    }

    @Test func rollbackOnThrowLeavesNothing() throws {
        let connection = try memory()
        #expect(throws: Injected(label: "stop")) {
            try connection.transaction(.immediate) {
                try connection.run("INSERT INTO items (label) VALUES (?)", ["a"])
                try connection.run("INSERT INTO items (label) VALUES (?)", ["b"])
                throw Injected(label: "stop")
            }
        }
        #expect(try labels(connection).isEmpty)
        #expect(!connection.isInTransaction)
    }

    @Test func commitOnReturnKeepsEverything() throws {
        let connection = try memory()
        let count = try connection.transaction(.immediate) {
            try connection.run("INSERT INTO items (label) VALUES (?)", ["a"])
            try connection.run("INSERT INTO items (label) VALUES (?)", ["b"])
            return try connection.queryFirst("SELECT count(*) FROM items") { $0.int(0) }
        }
        #expect(count == 2)
        #expect(try labels(connection) == ["a", "b"])
    }

    @Test func nestedSavepointRollbackKeepsOuterWork() throws {
        let connection = try memory()
        try connection.transaction(.immediate) {
            try connection.run("INSERT INTO items (label) VALUES (?)", ["outer"])
            #expect(throws: Injected(label: "inner")) {
                try connection.transaction(.immediate) {
                    try connection.run("INSERT INTO items (label) VALUES (?)", ["inner"])
                    throw Injected(label: "inner")
                }
            }
            try connection.transaction(.immediate) {
                try connection.run("INSERT INTO items (label) VALUES (?)", ["kept"])
            }
        }
        #expect(try labels(connection) == ["outer", "kept"])
    }

    @Test func firstErrorIsTheOneRethrown() throws {
        let connection = try memory()
        // The body's error comes first; SQLite then fails the statement that follows in the
        // same body, and the rollback after it must not replace the body's error either.
        #expect(throws: Injected(label: "first")) {
            try connection.transaction(.immediate) {
                try connection.run("INSERT INTO items (label) VALUES (?)", ["a"])
                do {
                    try connection.run("INSERT INTO items (label) VALUES (?)", [nil])
                } catch {
                    throw Injected(label: "first")
                }
            }
        }
        let error = #expect(throws: SQLiteError.self) {
            try connection.transaction(.immediate) {
                try connection.run("INSERT INTO items (label) VALUES (?)", [nil])
                throw Injected(label: "never reached")
            }
        }
        #expect(error?.code == .constraintNotNull)
        #expect(try labels(connection).isEmpty)
    }

    @Test func constraintFailuresKeepTheirExtendedCodes() throws {
        let connection = try Connection(.memory, options: ConnectionOptions())
        try connection.execute("""
            CREATE TABLE parents (id INTEGER PRIMARY KEY) STRICT;
            CREATE TABLE things (
                id INTEGER PRIMARY KEY,
                code TEXT NOT NULL UNIQUE,
                size INTEGER NOT NULL CHECK (size > 0),
                parent INTEGER REFERENCES parents (id)
            ) STRICT;
            CREATE TRIGGER things_guard BEFORE INSERT ON things WHEN NEW.code = 'forbidden'
            BEGIN SELECT RAISE(ABORT, 'forbidden code'); END;
            """)
        try connection.run("INSERT INTO things (code, size) VALUES ('a', 1)")
        let cases: [(sql: String, values: [SQLValue], code: ResultCode)] = [
            ("INSERT INTO things (code, size) VALUES (?, 1)", ["a"], .constraintUnique),
            ("INSERT INTO things (code, size) VALUES (?, 0)", ["b"], .constraintCheck),
            ("INSERT INTO things (code, size) VALUES (?, 1)", [nil], .constraintNotNull),
            ("INSERT INTO things (code, size) VALUES (?, 1)", ["forbidden"], .constraintTrigger),
            ("INSERT INTO things (code, size, parent) VALUES (?, 1, 42)", ["c"], .constraintForeignKey),
            ("INSERT INTO things (code, size) VALUES (?, ?)", ["d", .blob([1])], .constraintDataType),
        ]
        for testCase in cases {
            let error = #expect(throws: SQLiteError.self) { try connection.run(testCase.sql, testCase.values) }
            #expect(error?.code == testCase.code, "\(testCase.sql): \(String(describing: error))")
            #expect(error?.code.primary == .constraint)
            #expect(error?.sql == testCase.sql)
        }
        let trigger = #expect(throws: SQLiteError.self) {
            try connection.run("INSERT INTO things (code, size) VALUES ('forbidden', 1)")
        }
        #expect(trigger?.message == "forbidden code")
    }

    @Test func valuesAreBoundVerbatim() throws {
        let connection = try memory()
        let tricky = "x'); DROP TABLE items; --\u{0}after NUL é 🚀"
        try connection.run("INSERT INTO items (label) VALUES (?)", [SQLValue(tricky)])
        #expect(try labels(connection) == [tricky])
    }

    @Test func statementsArePreparedOnceAndReused() throws {
        let connection = try memory()
        let sql = "SELECT count(*) FROM items WHERE label = ?"
        let first = try connection.statement(sql)
        _ = try connection.queryFirst(sql, ["a"]) { $0.int(0) }
        #expect(try connection.statement(sql) === first)
    }

    @Test func hardeningSettingsAreInForce() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("settings.sqlite")
        let store = try PolicyStore(path: path)
        try store.withConnection { (connection: Connection) throws in
            #expect(try pragma(connection, "foreign_keys") == "1")
            #expect(try pragma(connection, "trusted_schema") == "0")
            #expect(try pragma(connection, "journal_mode") == "wal")
            #expect(try pragma(connection, "synchronous") == "2")  // FULL
            // The busy timeout is the store's own busy handler, not busy_timeout: see
            // aWriterWaitsForAnotherWriterWithinTheBusyTimeout and the store's busy tests.
            #expect(try pragma(connection, "busy_timeout") == "0")
            func dbConfig(_ option: Int32) -> Int32 {
                var value: Int32 = -1
                _ = csqlite_db_config_flag(connection.handle, option, -1, &value)
                return value
            }
            #expect(dbConfig(SQLITE_DBCONFIG_DEFENSIVE) == 1)
            #expect(dbConfig(SQLITE_DBCONFIG_DQS_DML) == 0)
            #expect(dbConfig(SQLITE_DBCONFIG_DQS_DDL) == 0)
            #expect(dbConfig(SQLITE_DBCONFIG_TRUSTED_SCHEMA) == 0)
            // Defensive mode: writable_schema cannot be used to corrupt the file.
            try connection.execute("PRAGMA writable_schema = ON")
            #expect(throws: SQLiteError.self) {
                try connection.execute("UPDATE sqlite_schema SET sql = 'garbage' WHERE name = 'policies'")
            }
            // No double-quoted string literals: "x" is an identifier, so this fails.
            #expect(throws: SQLiteError.self) { try connection.execute("SELECT \"not a string\"") }
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func synchronousNormalAndRollbackJournalCanBeChosen() throws {
        let directory = try TemporaryDirectory()
        var options = StoreOptions()
        options.journalMode = .rollback
        options.synchronous = .normal
        let store = try PolicyStore(path: directory.path("options.sqlite"), options: options)
        try store.withConnection { (connection: Connection) throws in
            #expect(try pragma(connection, "journal_mode") == "delete")
            #expect(try pragma(connection, "synchronous") == "1")
        }
    }

    @Test func aWriterWaitsForAnotherWriterWithinTheBusyTimeout() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("busy.sqlite")
        let holder = try Connection(.file(path: path), options: ConnectionOptions())
        try holder.execute("PRAGMA journal_mode = WAL; CREATE TABLE items (label TEXT) STRICT")
        try holder.execute("BEGIN IMMEDIATE")
        try holder.run("INSERT INTO items VALUES ('holder')")
        let released = DispatchSemaphore(value: 0)
        let holderBox = UncheckedBox(holder)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) {
            try? holderBox.value.execute("COMMIT")
            released.signal()
        }
        let waiter = try Connection(.file(path: path), options: ConnectionOptions(busyTimeout: .seconds(5)))
        try waiter.transaction(.immediate) { try waiter.run("INSERT INTO items VALUES ('waiter')") }
        released.wait()
        #expect(try waiter.query("SELECT label FROM items ORDER BY rowid") { $0.text(0) } == ["holder", "waiter"])
    }

    @Test func pastTheBusyTimeoutTheErrorIsATypedBusyError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("busy.sqlite")
        let holder = try Connection(.file(path: path), options: ConnectionOptions())
        try holder.execute("PRAGMA journal_mode = WAL; CREATE TABLE items (label TEXT) STRICT")
        try holder.execute("BEGIN IMMEDIATE")
        defer { try? holder.execute("ROLLBACK") }
        let waiter = try Connection(.file(path: path), options: ConnectionOptions(busyTimeout: .milliseconds(200)))
        let started = Date()
        let error = #expect(throws: SQLiteError.self) {
            try waiter.transaction(.immediate) { try waiter.run("INSERT INTO items VALUES ('waiter')") }
        }
        #expect(error?.code.primary == .busy)
        #expect(Date().timeIntervalSince(started) >= 0.15)
        #expect(!waiter.isInTransaction)
    }
}

/// Hands a connection to the thread that releases the lock in a busy test; the test makes
/// sure the two threads never use it at the same time.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
