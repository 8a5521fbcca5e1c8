import Synchronization
import SQLiteCore

/// The store's operations inside one transaction, handed to the closure of
/// ``PolicyStore/write(actor:_:)-6ilyj``
/// (and, for reading only, of `read`). Everything done through one `StoreTransaction`
/// commits together or not at all.
///
/// ```swift
/// try store.write { tx in
///     let baseline = try tx.createRuleset(named: "baseline")
///     try tx.createPolicy(named: "api", rulesets: [baseline.name])
/// }
/// ```
///
/// Inside `write`, each operation is also all or nothing on its own: one that throws leaves
/// the transaction as it was before it, so a caller may catch its error and go on.
///
/// A transaction lives only as long as its closure. It is non-copyable and lent to the
/// closure (`borrowing`), so the compiler refuses to store it or let it escape; pass it on to
/// functions of your own as `borrowing StoreTransaction`. Should one be used later all the
/// same (through unsafe code), it throws ``PolicyStoreError/transactionEnded`` and does not
/// touch the database.
public struct StoreTransaction: ~Copyable {
    let scope: TransactionScope

    /// Most rows a single page of a listing returns.
    public static let maximumPageSize = PageRules.maximumSize

    var connection: Connection { scope.connection }

    static func checkPageSize(_ limit: Int) throws(PolicyStoreError) {
        guard (1...maximumPageSize).contains(limit) else { throw .invalidPageSize(limit) }
    }

    /// Runs one read operation, with its errors as ``PolicyStoreError``.
    func readOperation<T>(_ body: () throws -> T) throws(PolicyStoreError) -> T {
        try scope.checkUsable()
        do {
            return try body()
        } catch {
            throw PolicyStoreError(error, path: scope.path)
        }
    }

    /// Runs one write operation: in a savepoint when operations are isolated, with its
    /// errors as ``PolicyStoreError``.
    func writeOperation<T>(_ body: () throws -> T) throws(PolicyStoreError) -> T {
        try storeErrors { try callerWriteOperation(body) }
    }

    /// The same, for a body that may throw the caller's own error as a ``CallerError``: that
    /// is rethrown as it is (after the operation's savepoint is rolled back).
    func callerWriteOperation<T>(_ body: () throws -> T) throws -> T {
        try scope.checkUsable()
        do {
            // SQLite ends the whole transaction by itself after some errors (a full disk):
            // writing on would then commit statement by statement.
            guard connection.isInTransaction else {
                throw PolicyStoreError.transactionRolledBack
            }
            return try scope.isolatesOperations ? connection.transaction(.immediate, body) : body()
        } catch let error as CallerError {
            throw error
        } catch {
            throw PolicyStoreError(error, path: scope.path)
        }
    }

    /// `body`'s errors, which can only be the store's, as ``PolicyStoreError``.
    func storeErrors<T>(_ body: () throws -> T) throws(PolicyStoreError) -> T {
        do {
            return try body()
        } catch let error as PolicyStoreError {
            throw error
        } catch {
            throw PolicyStoreError(error, path: scope.path)
        }
    }
}

/// What a ``StoreTransaction`` works in: its connection, for as long as its closure runs.
final class TransactionScope {
    let connection: Connection
    /// The database's path, for errors.
    let path: String
    /// Whether each write operation runs in a savepoint of its own: true inside a caller's
    /// `write` closure, false when the store runs a single operation as its whole transaction.
    let isolatesOperations: Bool
    let cancellation: Cancellation?
    /// Atomic, since unsafe code could use a leaked transaction from another thread.
    private let isOpen = Atomic<Bool>(true)

    init(connection: Connection, path: String, isolatesOperations: Bool, cancellation: Cancellation?) {
        self.connection = connection
        self.path = path
        self.isolatesOperations = isolatesOperations
        self.cancellation = cancellation
    }

    /// Called when the closure returns: every later use of the transaction is refused.
    func end() {
        isOpen.store(false, ordering: .releasing)
    }

    func checkUsable() throws(PolicyStoreError) {
        guard isOpen.load(ordering: .acquiring) else { throw .transactionEnded }
        if cancellation?.isCancelled == true { throw .cancelled }
    }
}

/// Sorts names the way the schema's NOCASE collation does, so lists read the same in Swift
/// and in the shell.
func sortedNames(_ names: [String]) -> [String] {
    names.sorted(by: nameOrderPrecedes)
}

/// NOCASE order: bytes compared with ASCII letters folded to lower case, byte order on a tie.
/// Allocates nothing, as it runs for every pair of names a list sorts.
func nameOrderPrecedes(_ left: String, _ right: String) -> Bool {
    var leftBytes = left.utf8.makeIterator()
    var rightBytes = right.utf8.makeIterator()
    while true {
        switch (leftBytes.next(), rightBytes.next()) {
        case (nil, nil): return left.utf8.lexicographicallyPrecedes(right.utf8)
        case (nil, _): return true
        case (_, nil): return false
        case (let a?, let b?) where asciiLowercased(a) != asciiLowercased(b): return asciiLowercased(a) < asciiLowercased(b)
        default: continue
        }
    }
}
