import Foundation
import Synchronization

/// The policy database: opens (or creates) a SQLite file, brings its schema up to date, and
/// runs every operation as one transaction, all or nothing.
///
/// `PolicyStore` is `Sendable`: share one store between tasks and threads. Its connection is
/// used by one caller at a time.
///
/// ```swift
/// let store = try PolicyStore(path: "policies.sqlite")
/// try store.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
/// try store.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"])
/// let copy = try store.duplicatePolicy(named: "web.prod")   // "web.prodPolicy"
/// ```
public final class PolicyStore: Sendable {
    /// The file's path, or `:memory:`.
    public let path: String
    /// Used only while holding `lock`: SQLite connections are opened without their own mutex.
    private nonisolated(unsafe) let connection: Connection
    private let lock = NSLock()
    /// The thread holding `lock`, 0 for none: how a call from inside the store's own closure
    /// is told apart from a call waiting its turn.
    private let lockOwner = Atomic<UInt>(0)
    private let actor: String

    /// Opens the database at `path`, creating it (mode 0600) when it is missing and
    /// `options.createIfMissing` allows, and applies any pending migration.
    ///
    /// Throws ``PolicyStoreError/incompatibleDatabase(path:_:)`` for a file that is not a
    /// policy database of a version this library knows; such a file is left untouched.
    public convenience init(path: String, options: StoreOptions = StoreOptions()) throws(PolicyStoreError) {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        if exists, isFolder.boolValue { throw .incompatibleDatabase(path: path, .isAFolder) }
        if !exists, options.readOnly || !options.createIfMissing {
            throw .databaseNotFound(path: path)
        }
        try self.init(location: .file(path: path), path: path, options: options)
    }

    /// A private database in memory, gone when the store is released. For tests and tools
    /// that only compute.
    public static func inMemory(options: StoreOptions = StoreOptions()) throws(PolicyStoreError) -> PolicyStore {
        try PolicyStore(location: .memory, path: ":memory:", options: options)
    }

    private init(location: DatabaseLocation, path: String, options: StoreOptions) throws(PolicyStoreError) {
        self.path = path
        self.actor = options.actor
        let opened: Connection
        do {
            opened = try Connection(
                location,
                options: ConnectionOptions(
                    readOnly: options.readOnly,
                    createIfMissing: options.createIfMissing,
                    busyTimeoutMilliseconds: options.busyTimeoutMilliseconds))
            try Migrator().prepare(
                opened, readOnly: options.readOnly,
                journal: JournalSettings(mode: options.journalMode.rawValue, synchronous: options.synchronous.rawValue))
        } catch {
            throw Self.storeError(error, path: path)
        }
        connection = opened
    }

    /// Runs `body` in one write transaction: it commits when `body` returns and rolls back,
    /// leaving the database as it was, when `body` throws. Each operation of `tx` is all or
    /// nothing on its own too, and throws ``PolicyStoreError``; an error of your own is
    /// rethrown as it is.
    ///
    /// ```swift
    /// try store.write { tx in
    ///     try tx.createRuleset(named: "strict")
    ///     try tx.modifyPolicy(named: "web.prod") { $0.addRuleset("strict") }
    /// }
    /// ```
    ///
    /// `actor`, when given, is recorded in the history for these changes instead of
    /// `StoreOptions.actor`. Do not keep `tx` beyond the closure, and do not call the store
    /// itself from inside it (that is refused with ``PolicyStoreError/invalidArgument(_:)``):
    /// use `tx`.
    @discardableResult
    public func write<T: Sendable>(actor: String? = nil, _ body: (StoreTransaction) throws -> T) throws -> T {
        try run(.write(actor: actor ?? self.actor), isolatingOperations: true, body)
    }

    /// Runs `body` in one read transaction, so every read sees the same state. The
    /// connection is read-only meanwhile: a write through `tx` fails.
    ///
    /// ```swift
    /// let (count, first) = try store.read { tx in (try tx.policyCount(), try tx.policies(limit: 1).first) }
    /// ```
    public func read<T: Sendable>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try run(.read(readOnly: true), isolatingOperations: true, body)
    }

    /// What a transaction of the store is for.
    enum Purpose {
        case read(readOnly: Bool)
        case write(actor: String)
        /// Statements that each run as a transaction of their own: no BEGIN and COMMIT.
        case singleStatement
    }

    /// How one of the store's own operations reaches the database.
    enum Access {
        case write
        /// Several statements that must see one state.
        case read
        /// A read of one statement (or of statements that need not see one state).
        case singleStatement
    }

    private func run<T: Sendable>(
        _ purpose: Purpose, isolatingOperations: Bool, _ body: (StoreTransaction) throws -> T
    ) throws -> T {
        // The lock is not reentrant: a call from inside a closure of this store, on the
        // thread that holds it, would wait for itself forever.
        let thread = currentThreadID()
        guard lockOwner.load(ordering: .acquiring) != thread else {
            throw PolicyStoreError.invalidArgument(
                "the store was called from inside one of its own read or write closures: use the closure's transaction instead")
        }
        return try lock.withLock {
            lockOwner.store(thread, ordering: .releasing)
            defer { lockOwner.store(0, ordering: .releasing) }
            let transaction = StoreTransaction(connection: connection, path: path, isolatesOperations: isolatingOperations)
            do {
                switch purpose {
                case .singleStatement:
                    return try body(transaction)
                case .read(let readOnly):
                    return try connection.transaction(.deferred) {
                        guard readOnly else { return try body(transaction) }
                        try connection.run("PRAGMA query_only = ON")
                        defer { try? connection.run("PRAGMA query_only = OFF") }
                        return try body(transaction)
                    }
                case .write(let actor):
                    return try connection.transaction(.immediate) {
                        // Tells the history's triggers who writes, and that the store records
                        // its own operations. REPLACE also clears a row someone left behind.
                        try connection.run(
                            "INSERT OR REPLACE INTO write_context (id, actor, recorded_by_library) VALUES (1, ?, 1)",
                            [SQLValue(actor)])
                        let result = try body(transaction)
                        try connection.run("DELETE FROM write_context")
                        return result
                    }
                }
            } catch let error as SQLiteError {
                throw Self.storeError(error, path: path)
            }
        }
    }

    /// Runs one of the store's own operations as a transaction of its own. Its errors are
    /// all ``PolicyStoreError``.
    func perform<T: Sendable>(_ access: Access, _ body: (StoreTransaction) throws -> T) throws(PolicyStoreError) -> T {
        do {
            let purpose: Purpose
            switch access {
            case .write: purpose = .write(actor: actor)
            case .read: purpose = .read(readOnly: false)
            case .singleStatement: purpose = .singleStatement
            }
            return try run(purpose, isolatingOperations: false, body)
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Gives tests and the store's own checks the raw connection, under the lock.
    func withConnection<T: Sendable>(_ body: (Connection) throws -> T) throws -> T {
        try lock.withLock { try body(connection) }
    }

    static func storeError(_ error: any Error, path: String) -> PolicyStoreError {
        switch error {
        case let error as PolicyStoreError:
            return error
        case let problem as DatabaseProblem:
            return .incompatibleDatabase(path: path, problem)
        case let error as SQLiteError:
            switch error.code.primary {
            case .busy, .locked: return .busy(error)
            case .readOnly: return .readOnlyDatabase(path: path, error)
            case .notADatabase: return .incompatibleDatabase(path: path, .notADatabase)
            case .corrupt: return .incompatibleDatabase(path: path, .damaged)
            case .full: return .diskFull(path: path, error)
            // SQLite cannot grow the shared-memory file of a WAL database: its disk is full.
            case .ioError where error.code == .ioErrorShmSize: return .diskFull(path: path, error)
            default: return .sqlite(error)
            }
        default:
            // Not reached: the store's own operations throw only the errors above.
            return .sqlite(SQLiteError(code: .error, message: String(describing: error)))
        }
    }
}

private func currentThreadID() -> UInt {
    #if canImport(Darwin)
    UInt(bitPattern: pthread_self())
    #else
    UInt(pthread_self())
    #endif
}
