import CSQLite

#if canImport(Glibc)
import Glibc
private let closeDescriptor = Glibc.close
#elseif canImport(Darwin)
import Darwin
private let closeDescriptor = Darwin.close
#endif

/// Where a connection's database lives.
package enum DatabaseLocation: Sendable, Hashable {
    case file(path: String)
    /// A private in-memory database that disappears when the connection closes.
    case memory
}

/// How a connection opens its file.
package struct ConnectionOptions: Sendable, Hashable {
    package var readOnly = false
    package var createIfMissing = true
    /// How long a statement waits for another connection's lock before it fails with
    /// `SQLITE_BUSY`.
    package var busyTimeout: Duration = .seconds(5)

    package init(readOnly: Bool = false, createIfMissing: Bool = true, busyTimeout: Duration = .seconds(5)) {
        self.readOnly = readOnly
        self.createIfMissing = createIfMissing
        self.busyTimeout = busyTimeout
    }
}

/// What a transaction takes when it begins.
package enum TransactionKind: String, Sendable {
    /// Takes no lock until the first statement: for reads.
    case deferred = "BEGIN DEFERRED"
    /// Takes the write lock at once, waiting out the busy timeout, so a write never fails
    /// later with `SQLITE_BUSY_SNAPSHOT`.
    case immediate = "BEGIN IMMEDIATE"
}

/// One SQLite connection with the hardening settings applied and a statement cache.
/// Not `Sendable`: the owner serializes access to it.
package final class Connection {
    package let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private var isClosed = false
    private let busyWait: BusyWait

    package init(_ location: DatabaseLocation, options: ConnectionOptions) throws(SQLiteError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let path: String
        switch location {
        case .memory:
            path = ":memory:"
            flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .file(let filePath):
            path = filePath
            if options.readOnly {
                flags |= SQLITE_OPEN_READONLY
            } else {
                flags |= SQLITE_OPEN_READWRITE
                if options.createIfMissing { try Self.createPrivateFileIfMissing(filePath) }
            }
        }
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            sqlite3_close_v2(handle)
            throw SQLiteError(code: ResultCode(rawValue: code), message: message)
        }
        self.handle = handle
        busyWait = BusyWait(timeout: options.busyTimeout)
        do {
            try harden()
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// SQLite creates files with mode 0644; ours are private, so the file is made here first
    /// with 0600. The -wal and -shm files copy the database file's mode.
    private static func createPrivateFileIfMissing(_ path: String) throws(SQLiteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            _ = closeDescriptor(descriptor)
        } else if errno != EEXIST {
            let reason = String(cString: strerror(errno))
            throw SQLiteError(code: .cantOpen, message: "cannot create \(path): \(reason)")
        }
    }

    private func harden() throws(SQLiteError) {
        sqlite3_extended_result_codes(handle, 1)
        let flags: [(option: Int32, value: Int32)] = [
            (SQLITE_DBCONFIG_DEFENSIVE, 1),
            (SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0),
            (SQLITE_DBCONFIG_DQS_DML, 0),
            (SQLITE_DBCONFIG_DQS_DDL, 0),
            (SQLITE_DBCONFIG_ENABLE_FKEY, 1),
            (SQLITE_DBCONFIG_ENABLE_TRIGGER, 1),
        ]
        for flag in flags {
            var current: Int32 = -1
            let code = csqlite_db_config_flag(handle, flag.option, flag.value, &current)
            guard code == SQLITE_OK, current == flag.value else {
                throw SQLiteError(code: .error, message: "cannot set sqlite3_db_config option \(flag.option) to \(flag.value)")
            }
        }
        sqlite3_busy_handler(handle, busyWaitCallback, Unmanaged.passUnretained(busyWait).toOpaque())
        // Statement and savepoint journals and sorts in memory: on disk, a transaction of
        // many savepoints spilled its statement journal to a temporary file after 64 KiB,
        // tens of thousands of writes (Docs/performance.md).
        try execute("PRAGMA temp_store = MEMORY")
    }

    /// Finalizes every cached statement and closes the connection. Safe to call twice.
    package func close() {
        guard !isClosed else { return }
        isClosed = true
        for statement in statements.values { statement.finalize() }
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Makes the statement running now, and any started before it ends, fail with
    /// `SQLITE_INTERRUPT`. Safe from any thread while the connection is open.
    package func interrupt() {
        sqlite3_interrupt(handle)
    }

    package func error(_ code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    // MARK: Running SQL

    /// Runs SQL text that takes no values (schema scripts, pragmas, transaction control).
    package func execute(_ sql: String) throws(SQLiteError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code, sql: sql) }
    }

    /// The prepared statement for `sql`, prepared once and reused.
    package func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = statements[sql] { return cached }
        let statement = try Statement(connection: self, sql: sql, persistent: true)
        statements[sql] = statement
        return statement
    }

    /// Runs a statement that returns no rows.
    package func run(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) {
        let statement = try statement(sql)
        try statement.bind(values)
        defer { statement.reset() }
        while try statement.step() {}
    }

    /// Runs a query and maps every row.
    package func query<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (Row) throws -> T) throws -> [T] {
        let statement = try statement(sql)
        try statement.bind(values)
        defer { statement.reset() }
        var rows: [T] = []
        let row = Row(statement: statement.handle)
        while try statement.step() { rows.append(try map(row)) }
        return rows
    }

    /// Runs a query and hands each row to `body` as it is read, holding no more than one.
    package func forEachRow(_ sql: String, _ values: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        let statement = try statement(sql)
        try statement.bind(values)
        defer { statement.reset() }
        let row = Row(statement: statement.handle)
        while try statement.step() { try body(row) }
    }

    /// Runs a query and maps its first row, if there is one.
    package func queryFirst<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (Row) throws -> T) throws -> T? {
        let statement = try statement(sql)
        try statement.bind(values)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return try map(Row(statement: statement.handle))
    }

    package var lastInsertRowID: Int { Int(sqlite3_last_insert_rowid(handle)) }

    package var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Transactions

    /// Runs `body` in a transaction that commits when it returns and rolls back when it
    /// throws, rethrowing the first error. Inside another transaction it becomes a savepoint,
    /// so a failing inner part rolls back alone.
    ///
    /// Transaction control goes through the statement cache too: parsing BEGIN and COMMIT
    /// again for every short transaction would cost more than the work inside it.
    package func transaction<T>(_ kind: TransactionKind, _ body: () throws -> T) throws -> T {
        if isInTransaction { return try savepoint(body) }
        try run(kind.rawValue)
        let result: T
        do {
            result = try body()
        } catch {
            rollbackIgnoringErrors()
            throw error
        }
        do {
            try run("COMMIT")
        } catch {
            rollbackIgnoringErrors()
            throw error
        }
        return result
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        try run("SAVEPOINT nested")
        do {
            let result = try body()
            try run("RELEASE nested")
            return result
        } catch {
            if isInTransaction {
                try? run("ROLLBACK TO nested")
                try? run("RELEASE nested")
            }
            throw error
        }
    }

    /// SQLite may already have rolled back on its own (SQLITE_FULL, SQLITE_IOERR): the
    /// error that mattered is the one being rethrown, not this one.
    private func rollbackIgnoringErrors() {
        if isInTransaction { try? run("ROLLBACK") }
    }
}
