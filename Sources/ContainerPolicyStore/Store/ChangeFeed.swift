import SQLiteCore

extension PolicyStore {
    /// The changes recorded after the change numbered `sequence`, then every new one as it
    /// is committed: by this process, by another process, or in the `sqlite3` shell (the
    /// schema's triggers record those). In sequence order, with no gap and no repeat, however
    /// slowly the consumer reads; the `changes` table is the buffer.
    ///
    /// ```swift
    /// let start = try await store.perform(.lastChangeSequence())
    /// for try await change in store.changes(after: start) {
    ///     if change.before?.policy?.xdrEnabled == true, change.after?.policy?.xdrEnabled == false {
    ///         print("XDR Telemetry turned off for \(change.name) by \(change.actor)")
    ///     }
    /// }
    /// ```
    ///
    /// Resume where a consumer stopped by passing the last ``Change/sequence`` it handled
    /// (0 for the whole history). Cancelling the task that iterates ends the sequence: `next()`
    /// returns nil. Closing the store makes `next()` throw
    /// ``PolicyStoreError/storeClosed(path:)``; other errors (a damaged file) are thrown the
    /// same way, and the sequence ends after any error.
    ///
    /// How new changes are found: the feed reads pages of
    /// ``StoreTransaction/changes(after:limit:)``; when one comes back empty it waits, holding
    /// no transaction, for the store's commit watch. This process's commits wake it at once;
    /// other connections' are seen by asking SQLite `PRAGMA data_version` every
    /// ``StoreOptions/changePollInterval`` (20 ms), only while a feed waits. A change written
    /// straight into `changes` with a `sequence` below the last one read (only possible by
    /// hand, in the shell) is never delivered.
    public func changes(after sequence: Int) -> ChangeFeed {
        ChangeFeed(store: self, start: sequence)
    }
}

/// The store's changes after a sequence, old then new: see ``PolicyStore/changes(after:)``.
public struct ChangeFeed: AsyncSequence, Sendable {
    public typealias Element = Change
    public typealias Failure = PolicyStoreError

    let store: PolicyStore
    let start: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, last: start)
    }

    /// Reads a page at a time and hands the changes out one by one.
    public struct Iterator: AsyncIteratorProtocol, Sendable {
        public typealias Element = Change
        public typealias Failure = PolicyStoreError

        /// Changes read at once: a consumer that falls behind is handed this many at most from
        /// memory, the rest stays in the table.
        static let pageSize = 256

        private let store: PolicyStore
        /// The sequence of the last change handed out (or the start).
        private var last: Int
        private var page: [Change] = []
        private var nextInPage = 0
        private var isFinished = false

        init(store: PolicyStore, last: Int) {
            self.store = store
            self.last = last
        }

        /// The next change, waiting for it when there is none yet; nil once the task is
        /// cancelled.
        public mutating func next() async throws(PolicyStoreError) -> Change? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(PolicyStoreError) -> Change? {
            while !isFinished {
                if Task.isCancelled { break }
                if nextInPage < page.count {
                    let change = page[nextInPage]
                    nextInPage += 1
                    last = change.sequence
                    return change
                }
                do {
                    try await readOrWait()
                } catch {
                    isFinished = true
                    if let failure = ChangeFeed.failure(error, path: store.path) { throw failure }
                }
            }
            isFinished = true
            return nil
        }

        /// Reads the next page; when it is empty, waits for a commit. The generation is taken
        /// before the read, so that a commit the read did not see ends the wait.
        private mutating func readOrWait() async throws {
            let generation = try await store.database.commits.generation()
            let changes = try await store.perform(.changes(after: last, limit: Self.pageSize))
            if changes.isEmpty {
                try await store.database.commits.wait(after: generation)
            } else {
                page = changes
                nextInPage = 0
            }
        }
    }

    /// The error a feed throws for what its reads threw; nil for a cancellation, which ends
    /// the feed quietly.
    static func failure(_ error: any Error, path: String) -> PolicyStoreError? {
        if error is CancellationError { return nil }
        let storeError = PolicyStoreError(error, path: path)
        return storeError == .cancelled ? nil : storeError
    }
}
