import Foundation

/// Hands its connections out one caller at a time each, first come, first served: a waiting
/// thread blocks, a waiting task suspends (and may be cancelled while it waits). Connections
/// are opened when first needed, up to `capacity`.
///
/// Async callers' work runs on the connection's own serial `DispatchQueue`, never on a thread
/// of Swift's cooperative pool. One queue per connection, as GRDB gives each of its
/// connections: serial queues get a thread of their own when they need one, where the
/// concurrent queues of a process share a pool about as wide as the machine has cores (on
/// Linux, with the tasks of Swift's cooperative pool), so that a few blocked reads anywhere
/// in the process (a busy wait, a long export) would hold up every store's reads and, on
/// Linux, every task.
///
/// `@unchecked Sendable`: every field is guarded by `lock`, and a connection is used by the
/// one caller it was handed to until it comes back. A `Mutex` would not do: its `sending`
/// rules reject moving the non-`Sendable` connections in and out.
package final class ConnectionPool: @unchecked Sendable {
    private let capacity: Int
    private let label: String
    private let makeConnection: () throws -> Connection
    private let lock = NSLock()
    private var idle: [Lease] = []
    private var opened = 0
    private var waiters: [Waiter] = []
    private var isClosed = false
    /// Signalled once the pool is closed and its last connection has come back and closed.
    private var drained: DispatchSemaphore?

    /// A pool that opens up to `capacity` connections with `makeConnection`; `first`, when
    /// given, is already open and counts as one of them.
    package init(
        capacity: Int, label: String, first: Connection? = nil,
        makeConnection: @escaping () throws -> Connection
    ) {
        precondition(capacity >= 1)
        self.capacity = capacity
        self.label = label
        self.makeConnection = makeConnection
        if let first {
            idle = [Lease(connection: first, queue: DispatchQueue(label: label))]
            opened = 1
        }
    }

    /// Runs `body` with a connection of the pool on the calling thread, after waiting for one
    /// to be free.
    package func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let lease = try acquireBlocking()
        defer { release(lease) }
        return try body(lease.connection)
    }

    /// Waits, suspended, for a free connection, then runs `body` with it on its queue.
    /// Throws `CancellationError` when the task is cancelled before a connection was free.
    package func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let lease = try await acquire()
        return try await withCheckedThrowingContinuation { continuation in
            lease.queue.async {
                let result = Result { try body(lease.connection) }
                self.release(lease)
                continuation.resume(with: result)
            }
        }
    }

    /// Refuses new callers; the connections close once the callers already running or
    /// queued are done. With `waiting`, returns only then. Calling it again does nothing.
    package func close(waiting: Bool) {
        lock.lock()
        guard !isClosed else {
            lock.unlock()
            return
        }
        isClosed = true
        if idle.count == opened {
            let connections = takeIdle()
            lock.unlock()
            for connection in connections { connection.close() }
            return
        }
        let semaphore = waiting ? DispatchSemaphore(value: 0) : nil
        drained = semaphore
        lock.unlock()
        semaphore?.wait()
    }

    /// Empties `idle`; call it holding `lock`.
    private func takeIdle() -> [Connection] {
        defer { idle = [] }
        return idle.map(\.connection)
    }

    // MARK: Waiting

    /// One caller waiting for a connection. `@unchecked Sendable` because the cancellation
    /// handler of an async caller reaches it from another thread: its fields are read and
    /// written only under the pool's lock.
    private final class Waiter: @unchecked Sendable {
        /// Hands over the connection, or the reason there is none. Set before the waiter
        /// queues; called once, outside the lock.
        var resume: (Result<Lease, any Error>) -> Void = { _ in }
        /// Set by the task's cancellation handler, which may run before the waiter queues.
        var isCancelled = false
    }

    /// Takes a free connection or opens one, or returns nil when all are in use. Call it
    /// holding `lock`. Opening adds no I/O (SQLite reads the file on the first statement), so
    /// it is done under the lock.
    private func takeConnection() throws -> Lease? {
        if isClosed { throw ConnectionPoolClosed() }
        if let lease = idle.popLast() { return lease }
        guard opened < capacity else { return nil }
        let connection = try makeConnection()
        opened += 1
        return Lease(connection: connection, queue: DispatchQueue(label: "\(label) \(opened)"))
    }

    private func acquireBlocking() throws -> Lease {
        lock.lock()
        let connection: Lease?
        do {
            connection = try takeConnection()
        } catch {
            lock.unlock()
            throw error
        }
        if let connection {
            lock.unlock()
            return connection
        }
        let handedOver = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<Lease, any Error>?
        let waiter = Waiter()
        waiter.resume = { result in
            outcome = result
            handedOver.signal()
        }
        waiters.append(waiter)
        lock.unlock()
        handedOver.wait()
        return try outcome!.get()
    }

    private func acquire() async throws -> Lease {
        let waiter = Waiter()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                lock.lock()
                let connection: Lease?
                do {
                    if waiter.isCancelled { throw CancellationError() }
                    connection = try takeConnection()
                } catch {
                    lock.unlock()
                    continuation.resume(throwing: error)
                    return
                }
                if let connection {
                    lock.unlock()
                    continuation.resume(returning: connection)
                    return
                }
                waiter.resume = { continuation.resume(with: $0) }
                waiters.append(waiter)
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            waiter.isCancelled = true
            guard let index = waiters.firstIndex(where: { $0 === waiter }) else {
                lock.unlock()
                return
            }
            waiters.remove(at: index)
            lock.unlock()
            waiter.resume(.failure(CancellationError()))
        }
    }

    private func release(_ lease: Lease) {
        lock.lock()
        if !waiters.isEmpty {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume(.success(lease))
            return
        }
        idle.append(lease)
        guard isClosed, idle.count == opened else {
            lock.unlock()
            return
        }
        // The last caller after `close` closes the connections.
        let connections = takeIdle()
        let semaphore = drained
        lock.unlock()
        for connection in connections { connection.close() }
        semaphore?.signal()
    }
}

/// A connection handed by a pool to the one caller that uses it until it gives it back, with
/// the queue its async work runs on: the pool guarantees the exclusivity that the compiler
/// cannot see.
package struct Lease: @unchecked Sendable {
    package let connection: Connection
    let queue: DispatchQueue
}

/// The pool was closed: no connection will be handed out any more.
package struct ConnectionPoolClosed: Error {}
