/// The store's operations inside one transaction, handed to the closure of
/// ``PolicyStore/write(actor:_:)`` (and, for reading only, of ``PolicyStore/read(_:)``).
/// Everything done through one `StoreTransaction` commits together or not at all.
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
public struct StoreTransaction {
    let connection: Connection
    /// The database's path, for errors.
    let path: String
    /// Whether each write operation runs in a savepoint of its own: true inside a caller's
    /// `write` closure, false when the store runs a single operation as its whole transaction.
    let isolatesOperations: Bool

    /// Most rows a single page of a listing returns.
    public static let maximumPageSize = 10_000

    static func checkPageSize(_ limit: Int) throws(PolicyStoreError) {
        guard (1...maximumPageSize).contains(limit) else {
            throw .invalidArgument("a page holds 1 to \(maximumPageSize) items, not \(limit)")
        }
    }

    /// Runs one read operation, with its errors as ``PolicyStoreError``.
    func readOperation<T>(_ body: () throws -> T) throws(PolicyStoreError) -> T {
        do {
            return try body()
        } catch {
            throw PolicyStore.storeError(error, path: path)
        }
    }

    /// Runs one write operation: in a savepoint when operations are isolated, with its
    /// errors as ``PolicyStoreError``.
    func writeOperation<T>(_ body: () throws -> T) throws(PolicyStoreError) -> T {
        do {
            // SQLite ends the whole transaction by itself after some errors (a full disk):
            // writing on would then commit statement by statement.
            guard connection.isInTransaction else {
                throw PolicyStoreError.invalidArgument(
                    "the transaction was rolled back after an earlier error; let the write closure throw instead of going on")
            }
            return try isolatesOperations ? connection.transaction(.immediate, body) : body()
        } catch {
            throw PolicyStore.storeError(error, path: path)
        }
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
    func folded(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 0x20 : byte }
    var leftBytes = left.utf8.makeIterator()
    var rightBytes = right.utf8.makeIterator()
    while true {
        switch (leftBytes.next(), rightBytes.next()) {
        case (nil, nil): return left.utf8.lexicographicallyPrecedes(right.utf8)
        case (nil, _): return true
        case (_, nil): return false
        case (let a?, let b?) where folded(a) != folded(b): return folded(a) < folded(b)
        default: continue
        }
    }
}
