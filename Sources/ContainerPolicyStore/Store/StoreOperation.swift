/// One operation of the store as a value: performed alone, it is a transaction of its own,
/// from synchronous code or from async code, with the same name.
///
/// ```swift
/// let store = try PolicyStore.inMemory()
/// try store.perform(.createRuleset(named: "baseline"))
/// let policy = try store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
/// let found = try store.perform(.fetch(Policy.self, named: "WEB.PROD"))   // names ignore letter case
/// ```
///
/// Each operation is the method of the same name of ``StoreTransaction``, which says what it
/// does; to run several in one transaction, call those inside
/// ``PolicyStore/write(actor:_:)-6ilyj``.
public struct StoreOperation<Result: Sendable>: Sendable {
    let access: TransactionAccess
    let body: @Sendable (borrowing StoreTransaction) throws(PolicyStoreError) -> Result

    init(_ access: TransactionAccess, _ body: @escaping @Sendable (borrowing StoreTransaction) throws(PolicyStoreError) -> Result) {
        self.access = access
        self.body = body
    }
}

/// How a transaction of the store reaches the database.
enum TransactionAccess: Sendable {
    case write
    /// Several statements that must see one state: BEGIN ... COMMIT.
    case read
    /// Statements that need not see one state, each a transaction of its own: no BEGIN and
    /// COMMIT for reads that need no common state.
    case singleStatement
}
