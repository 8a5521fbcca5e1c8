import SQLiteCore

/// The store from async code: the same transactions and operations, suspending instead of
/// blocking, and honouring cancellation.
extension PolicyStore {
    /// ``write(actor:_:)`` from async code: suspends while other writes of this process run
    /// before it, then runs `body` on the store's writer queue.
    ///
    /// Cancelling the task while it waits throws `CancellationError` and writes nothing;
    /// cancelling it while `body` runs interrupts the statement running, makes every later
    /// operation of `tx` throw ``PolicyStoreError/cancelled``, rolls the transaction back,
    /// and throws `CancellationError`. Other errors are ``PolicyStoreError``s, or the
    /// closure's own, unchanged.
    ///
    /// ```swift
    /// let policy = try await store.write { tx in
    ///     try tx.modify(Policy.self, named: "web.prod") { $0.xdrEnabled = true }
    /// }
    /// ```
    @discardableResult
    public func write<T: Sendable>(
        actor: String? = nil, _ body: @escaping @Sendable (borrowing StoreTransaction) throws -> T
    ) async throws -> T {
        try await runSuspending(.write, actor: actor, isolatingOperations: true, body)
    }

    /// The same, for a closure marked `throws(PolicyStoreError)`. (Without this overload such
    /// a closure would be converted to the one above, which Swift 6.3's compiler cannot do
    /// for a borrowed non-copyable parameter: it crashes.)
    @discardableResult
    public func write<T: Sendable>(
        actor: String? = nil, _ body: @escaping @Sendable (borrowing StoreTransaction) throws(PolicyStoreError) -> T
    ) async throws -> T {
        try await runSuspending(.write, actor: actor, isolatingOperations: true) { tx in try body(tx) }
    }

    /// ``read(_:)`` from async code: on a WAL file it never waits for a write, and it sees
    /// the last commit before it began, all through the closure.
    ///
    /// ```swift
    /// let names = try await store.read { tx in try tx.list(Policy.self, limit: 50).map(\.name) }
    /// ```
    public func read<T: Sendable>(_ body: @escaping @Sendable (borrowing StoreTransaction) throws -> T) async throws -> T {
        try await runSuspending(.read, isolatingOperations: true, body)
    }

    /// The same, for a closure marked `throws(PolicyStoreError)`.
    public func read<T: Sendable>(
        _ body: @escaping @Sendable (borrowing StoreTransaction) throws(PolicyStoreError) -> T
    ) async throws -> T {
        try await runSuspending(.read, isolatingOperations: true) { tx in try body(tx) }
    }

    /// ``perform(_:)`` from async code. Throws ``PolicyStoreError``, or `CancellationError`
    /// when the task is cancelled before the operation commits.
    ///
    /// ```swift
    /// let copy = try await store.perform(.duplicate(Policy.self, named: "web.prod"))
    /// ```
    @discardableResult
    public func perform<Result>(_ operation: StoreOperation<Result>) async throws -> Result {
        try await runSuspending(operation.access, isolatingOperations: false) { tx in try operation.body(tx) }
    }

    func runSuspending<T: Sendable>(
        _ access: TransactionAccess, actor: String? = nil, isolatingOperations: Bool,
        _ body: @escaping @Sendable (borrowing StoreTransaction) throws -> T
    ) async throws -> T {
        do {
            let pool = try pool(for: access)
            try Task.checkCancellation()
            let cancellation = Cancellation()
            return try await withTaskCancellationHandler {
                try await pool.withConnection { connection in
                    try self.database.asCaller {
                        try self.transact(
                            connection, access, actor: actor, isolatingOperations: isolatingOperations, cancellation: cancellation,
                            self.callersOwn(body))
                    }
                }
            } onCancel: {
                cancellation.cancel()
            }
        } catch let error as CallerError {
            if case PolicyStoreError.cancelled = error.error { throw CancellationError() }
            throw error.error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let storeError = PolicyStoreError(error, path: path)
            if case .cancelled = storeError { throw CancellationError() }
            throw storeError
        }
    }

}
