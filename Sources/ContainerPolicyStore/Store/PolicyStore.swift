import Foundation
import SQLiteCore
import Synchronization

/// The policy database: opens (or creates) a SQLite file, brings its schema up to date, and
/// runs every operation as one transaction, all or nothing.
///
/// `PolicyStore` is `Sendable`: share one store between tasks and threads. Writes run one at
/// a time, in the order they were asked for; reads of a WAL file run beside them and beside
/// each other, each on one snapshot. From async code, `await` the same calls: they suspend
/// instead of blocking a thread, and a cancelled task stops waiting.
///
/// ```swift
/// let store = try PolicyStore(path: "policies.sqlite")
/// try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
/// try store.perform(.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"]))
/// let copy = try store.perform(.duplicate(Policy.self, named: "web.prod"))   // "web.prodPolicy"
/// ```
public final class PolicyStore: Sendable {
    /// The file's path, or `:memory:`.
    public let path: String
    let database: SharedDatabase
    let actor: String
    private let isClosed = Atomic<Bool>(false)

    /// Opens the database at `path`, creating it (mode 0600) when it is missing and
    /// `options.createIfMissing` allows, and applies any pending migration.
    ///
    /// Throws ``PolicyStoreError/incompatibleDatabase(path:_:)`` for a file that is not a
    /// policy database of a version this library knows; such a file is left untouched.
    ///
    /// Stores opened on the same file in one process share its connections: their writes
    /// queue in one line, the first store's busy timeout applies, and the strongest
    /// `synchronous` any of them asked for.
    public convenience init(path: String, options: StoreOptions = StoreOptions()) throws(PolicyStoreError) {
        if let problem = ActorRules.problem(in: options.actor) { throw .invalidActor(options.actor, problem) }
        let exists = try Self.checkPath(path)
        if !exists, options.readOnly || !options.createIfMissing {
            throw .databaseNotFound(path: path)
        }
        let database: SharedDatabase
        do {
            database = try SharedDatabase.open(
                path: path, options: Self.connectionOptions(options), readerCount: max(1, options.maximumReaderCount),
                synchronousIsFull: options.synchronous == .full, commitPollInterval: max(.milliseconds(1), options.changePollInterval),
                prepare: { connection in
                    // An empty file that becomes a database is made private, as a new one is.
                    if try Self.prepare(connection, options: options) { chmod(path, 0o600) }
                },
                isWAL: { connection in
                    try connection.queryFirst(TransactionSQL.journalMode.sql) { $0.text(0).lowercased() } == "wal"
                })
            if options.synchronous == .full { try database.makeSynchronousFull() }
        } catch {
            throw PolicyStoreError(error, path: path)
        }
        self.init(database: database, path: path, actor: options.actor)
    }

    /// A private database in memory, gone when the store is closed or released. For tests
    /// and tools that only compute.
    public static func inMemory(options: StoreOptions = StoreOptions()) throws(PolicyStoreError) -> PolicyStore {
        if let problem = ActorRules.problem(in: options.actor) { throw .invalidActor(options.actor, problem) }
        do {
            let database = try SharedDatabase.inMemory(options: connectionOptions(options)) {
                var memory = options
                memory.createIfMissing = true
                _ = try prepare($0, options: memory)
            }
            return PolicyStore(database: database, path: ":memory:", actor: options.actor)
        } catch {
            throw PolicyStoreError(error, path: ":memory:")
        }
    }

    private init(database: SharedDatabase, path: String, actor: String) {
        self.database = database
        self.path = path
        self.actor = actor
    }

    private static func connectionOptions(_ options: StoreOptions) -> ConnectionOptions {
        ConnectionOptions(readOnly: options.readOnly, createIfMissing: options.createIfMissing, busyTimeout: options.busyTimeout)
    }

    /// Prepares the first connection; returns whether it turned an empty file into a database.
    private static func prepare(_ connection: Connection, options: StoreOptions) throws -> Bool {
        try Migrator(PolicyStoreSchema.schema).prepare(
            connection, readOnly: options.readOnly, initializeEmpty: options.createIfMissing,
            journal: JournalSettings(mode: options.journalMode.rawValue, synchronous: options.synchronous.rawValue))
    }

    /// Refuses a path that cannot be a database file before SQLite sees it (SQLite would open
    /// a temporary database for "", and fail with bare result codes on the rest); returns
    /// whether a file is there.
    private static func checkPath(_ path: String) throws(PolicyStoreError) -> Bool {
        guard !path.isEmpty else { throw .incompatibleDatabase(path: path, .emptyPath) }
        var link = stat()
        guard lstat(path, &link) == 0 else { return false }
        var status = stat()
        guard stat(path, &status) == 0 else {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
            throw .incompatibleDatabase(path: path, .danglingSymbolicLink(target: target))
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return true
        case S_IFDIR: throw .incompatibleDatabase(path: path, .isAFolder)
        case S_IFCHR: throw .incompatibleDatabase(path: path, .notAFile(kind: "character device"))
        case S_IFBLK: throw .incompatibleDatabase(path: path, .notAFile(kind: "block device"))
        case S_IFIFO: throw .incompatibleDatabase(path: path, .notAFile(kind: "FIFO (named pipe)"))
        case S_IFSOCK: throw .incompatibleDatabase(path: path, .notAFile(kind: "socket"))
        default: throw .incompatibleDatabase(path: path, .notAFile(kind: "special file"))
        }
    }

    /// Closes the store: work already running or waiting finishes, then the file's
    /// connections close (unless another open store of the same file still uses them).
    /// Every later call throws ``PolicyStoreError/storeClosed(path:)``. Closing twice does
    /// nothing; a store also closes when it is released.
    ///
    /// ```swift
    /// let store = try PolicyStore(path: databasePath)
    /// store.close()
    /// ```
    public func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // A change feed of this store that waits must meet the closed store now, even while
        // another store of the same file keeps the connections open.
        database.commits.wakeWaiters()
        database.release()
    }

    deinit {
        close()
    }

    // MARK: Transactions

    /// Runs `body` in one write transaction: it commits when `body` returns and rolls back,
    /// leaving the database as it was, when `body` throws. Each operation of `tx` is all or
    /// nothing on its own too. Mark the closure `throws(PolicyStoreError)` to catch the
    /// store's errors by case:
    ///
    /// ```swift
    /// do {
    ///     try store.write { tx throws(PolicyStoreError) in
    ///         try tx.createRuleset(named: "strict")
    ///         try tx.modify(Policy.self, named: "web.prod", expectedRevision: 1) { $0.addRuleset("strict") }
    ///     }
    /// } catch .revisionConflict(_, let name, _, let actual) {
    ///     print("\(name) is at revision \(actual) now")
    /// } catch {
    ///     print(error)
    /// }
    /// ```
    ///
    /// `actor`, when given, is recorded in the history for these changes instead of
    /// `StoreOptions.actor`. `tx` cannot leave the closure. Calling the store itself from
    /// inside the closure is refused with ``PolicyStoreError/reentrantCall``: use `tx`.
    @discardableResult
    public func write<T>(
        actor: String? = nil, _ body: (borrowing StoreTransaction) throws(PolicyStoreError) -> T
    ) throws(PolicyStoreError) -> T {
        do {
            return try run(.write, actor: actor, isolatingOperations: true) { tx in try body(tx) }
        } catch {
            throw PolicyStoreError(error, path: path)
        }
    }

    /// The same, for a closure that may throw errors of its own: they are rethrown
    /// unchanged, and the store's own errors are ``PolicyStoreError``s.
    @discardableResult
    public func write<T>(actor: String? = nil, _ body: (borrowing StoreTransaction) throws -> T) throws -> T {
        try rethrowingCallerErrors {
            try run(.write, actor: actor, isolatingOperations: true) { tx in
                do {
                    return try body(tx)
                } catch {
                    throw CallerError(error: error)
                }
            }
        }
    }

    /// Runs `body` in one read transaction, so every read sees the same state. A write
    /// through `tx` fails.
    ///
    /// ```swift
    /// let (count, first) = try store.read { tx throws(PolicyStoreError) in
    ///     (try tx.count(Policy.self), try tx.list(Policy.self, limit: 1).first)
    /// }
    /// ```
    public func read<T>(_ body: (borrowing StoreTransaction) throws(PolicyStoreError) -> T) throws(PolicyStoreError) -> T {
        do {
            return try run(.read, isolatingOperations: true) { tx in try body(tx) }
        } catch {
            throw PolicyStoreError(error, path: path)
        }
    }

    /// The same, for a closure that may throw errors of its own, rethrown unchanged.
    public func read<T>(_ body: (borrowing StoreTransaction) throws -> T) throws -> T {
        try rethrowingCallerErrors {
            try run(.read, isolatingOperations: true) { tx in
                do {
                    return try body(tx)
                } catch {
                    throw CallerError(error: error)
                }
            }
        }
    }

    /// Performs one operation as a transaction of its own.
    ///
    /// ```swift
    /// let policy = try store.perform(.fetch(Policy.self, named: "web.prod"))
    /// ```
    @discardableResult
    public func perform<Result>(_ operation: StoreOperation<Result>) throws(PolicyStoreError) -> Result {
        do {
            return try run(operation.access, isolatingOperations: false) { tx in try operation.body(tx) }
        } catch {
            throw PolicyStoreError(error, path: path)
        }
    }

    // MARK: Running

    func pool(for access: TransactionAccess) throws -> ConnectionPool {
        guard !isClosed.load(ordering: .acquiring) else { throw PolicyStoreError.storeClosed(path: path) }
        if case .write = access {
            guard let writer = database.writer else {
                throw PolicyStoreError.readOnlyDatabase(
                    path: path, SQLiteError(code: .readOnly, message: "the store was opened with readOnly"))
            }
            return writer
        }
        return database.readPool
    }

    /// Runs `body` as one transaction on the calling thread, after the work queued before it.
    private func run<T>(
        _ access: TransactionAccess, actor: String? = nil, isolatingOperations: Bool,
        _ body: (borrowing StoreTransaction) throws -> T
    ) throws -> T {
        let pool = try pool(for: access)
        return try database.asCaller {
            try pool.withConnection { connection in
                try transact(connection, access, actor: actor, isolatingOperations: isolatingOperations, cancellation: nil, body)
            }
        }
    }

    /// Runs `body` as one transaction on `connection`; a write records `actor` (or the
    /// store's) in the history.
    func transact<T>(
        _ connection: Connection, _ access: TransactionAccess, actor: String?, isolatingOperations: Bool,
        cancellation: Cancellation?,
        _ body: (borrowing StoreTransaction) throws -> T
    ) throws -> T {
        let scope = TransactionScope(
            connection: connection, path: path, isolatesOperations: isolatingOperations, cancellation: cancellation)
        defer { scope.end() }
        cancellation?.attach(connection)
        defer { cancellation?.detach() }
        let transaction = StoreTransaction(scope: scope)
        switch access {
        case .singleStatement:
            return try body(transaction)
        case .read:
            return try connection.transaction(.deferred) {
                // A reader connection is read-only already; the writer, reading for a private
                // in-memory database or a rollback journal, is made so for the transaction.
                let sharesTheWriter = database.readers == nil
                if sharesTheWriter { try connection.run(TransactionSQL.beginQueryOnly.sql) }
                defer { if sharesTheWriter { try? connection.run(TransactionSQL.endQueryOnly.sql) } }
                return try body(transaction)
            }
        case .write:
            let actor = actor ?? self.actor
            if let problem = ActorRules.problem(in: actor) { throw PolicyStoreError.invalidActor(actor, problem) }
            let result = try connection.transaction(.immediate) {
                // Tells the history's triggers who writes, and that the store records its
                // own operations. REPLACE also clears a row someone left behind.
                try connection.run(TransactionSQL.setWriteContext.sql, [SQLValue(actor)])
                let result = try body(transaction)
                try connection.run(TransactionSQL.clearWriteContext.sql)
                // The last moment a cancelled task can still roll the transaction back; from
                // here it commits, and a cancellation that comes later is too late.
                if cancellation?.detach() == true { throw PolicyStoreError.cancelled }
                return result
            }
            // Change feeds of this process see the commit now, not at their next poll.
            database.commits.noteCommit()
            return result
        }
    }

    // MARK: Errors of the caller's own

    /// `body`, with whatever it throws marked as the caller's.
    func callersOwn<T>(
        _ body: @escaping @Sendable (borrowing StoreTransaction) throws -> T
    ) -> @Sendable (borrowing StoreTransaction) throws -> T {
        { tx in
            do {
                return try body(tx)
            } catch {
                throw CallerError(error: error)
            }
        }
    }

    private func rethrowingCallerErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CallerError {
            throw error.error
        } catch {
            throw PolicyStoreError(error, path: path)
        }
    }

    // MARK: For tests and the store's own checks

    /// Gives tests the raw connection that writes (or, read-only, one that reads), as a
    /// caller of the store.
    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let pool = database.writer ?? database.readPool
        return try database.asCaller { try pool.withConnection(body) }
    }
}
