import Foundation

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
    private let actor: String

    /// Opens the database at `path`, creating it (mode 0600) when it is missing and
    /// `options.createIfMissing` allows, and applies any pending migration.
    ///
    /// Throws ``PolicyStoreError/incompatibleDatabase(path:_:)`` for a file that is not a
    /// policy database of a version this library knows; such a file is left untouched.
    public convenience init(path: String, options: StoreOptions = StoreOptions()) throws(PolicyStoreError) {
        if !FileManager.default.fileExists(atPath: path), options.readOnly || !options.createIfMissing {
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
    /// leaving the database as it was, when `body` throws. Store errors arrive as
    /// ``PolicyStoreError``; an error of your own is rethrown as it is.
    ///
    /// ```swift
    /// try store.write { tx in
    ///     try tx.createRuleset(named: "strict")
    ///     try tx.modifyPolicy(named: "web.prod") { $0.addRuleset("strict") }
    /// }
    /// ```
    ///
    /// Do not keep `tx` beyond the closure. `actor`, when given, is recorded in the history
    /// for these changes instead of `StoreOptions.actor`.
    @discardableResult
    public func write<T: Sendable>(actor: String? = nil, _ body: (StoreTransaction) throws -> T) throws -> T {
        try run(.immediate, actor: actor, body)
    }

    /// Runs `body` in one read transaction, so every read sees the same state.
    public func read<T: Sendable>(_ body: (StoreTransaction) throws -> T) throws -> T {
        try run(.deferred, body)
    }

    private func run<T: Sendable>(
        _ kind: TransactionKind, actor: String? = nil, _ body: (StoreTransaction) throws -> T
    ) throws -> T {
        let actor = actor ?? self.actor
        return try lock.withLock {
            do {
                return try connection.transaction(kind) {
                    guard kind == .immediate, !actor.isEmpty else { return try body(StoreTransaction(connection: connection)) }
                    // The history's triggers read the actor from this row; it never outlives the
                    // transaction, so no other connection sees it.
                    try connection.run("INSERT INTO change_actor (actor) VALUES (?)", [SQLValue(actor)])
                    let result = try body(StoreTransaction(connection: connection))
                    try connection.run("DELETE FROM change_actor")
                    return result
                }
            } catch let error as SQLiteError {
                throw Self.storeError(error, path: path)
            }
        }
    }

    /// Runs one of the store's own operations, whose errors are all ``PolicyStoreError``.
    func perform<T: Sendable>(
        _ kind: TransactionKind, _ body: (StoreTransaction) throws -> T
    ) throws(PolicyStoreError) -> T {
        do {
            return try run(kind, body)
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
            default: return .sqlite(error)
            }
        default:
            return .invalidArgument(String(describing: error))
        }
    }
}
