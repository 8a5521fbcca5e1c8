/// One operation of the store as a value: performed alone, it is a transaction of its own,
/// from synchronous code or from async code, with the same name.
///
/// ```swift
/// let store = try PolicyStore.inMemory()
/// try store.perform(.createRuleset(named: "baseline"))
/// let policy = try store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
/// let found = try store.perform(.policy(named: "WEB.PROD"))   // names ignore letter case
/// ```
///
/// Each operation is the method of the same name of ``StoreTransaction``, which says what it
/// does; to run several in one transaction, call those inside
/// ``PolicyStore/write(actor:_:)-6ilyj``.
public struct StoreOperation<Result: Sendable>: Sendable {
    /// How the operation reaches the database.
    enum Access: Sendable {
        case write
        /// Several statements that must see one state.
        case read
        /// Statements that need not see one state: no BEGIN and COMMIT.
        case singleStatement
    }

    let access: Access
    let body: @Sendable (borrowing StoreTransaction) throws(PolicyStoreError) -> Result

    init(_ access: Access, _ body: @escaping @Sendable (borrowing StoreTransaction) throws(PolicyStoreError) -> Result) {
        self.access = access
        self.body = body
    }
}
