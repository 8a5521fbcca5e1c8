/// The store's operations inside one transaction, handed to the closures of
/// ``PolicyStore/write(_:)`` and ``PolicyStore/read(_:)``. Everything done through one
/// `StoreTransaction` commits together or not at all.
///
/// ```swift
/// try store.write { tx in
///     let baseline = try tx.createRuleset(named: "baseline")
///     try tx.createPolicy(named: "api", rulesets: [baseline.name])
/// }
/// ```
public struct StoreTransaction {
    let connection: Connection

    /// Most rows a single page of a listing returns.
    public static let maximumPageSize = 10_000

    static func checkPageSize(_ limit: Int) throws(PolicyStoreError) {
        guard (1...maximumPageSize).contains(limit) else {
            throw .invalidArgument("a page holds 1 to \(maximumPageSize) items, not \(limit)")
        }
    }
}

/// Sorts names the way the schema's NOCASE collation does, so lists read the same in Swift
/// and in the shell.
func sortedNames(_ names: [String]) -> [String] {
    names.sorted { left, right in
        let (a, b) = (asciiLowercased(left), asciiLowercased(right))
        return a == b ? left < right : Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }
}

/// Splits a `group_concat(..., ',')` column; names and rule IDs never contain a comma.
func splitList(_ text: String?) -> [Substring] {
    guard let text, !text.isEmpty else { return [] }
    return text.split(separator: ",")
}
