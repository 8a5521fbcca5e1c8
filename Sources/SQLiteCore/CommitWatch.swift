import Foundation

/// Tells waiting tasks that a connection, of this process or of another, may have committed
/// to the database since they last looked: what a reader needs to read again only when there
/// can be something new, without asking the tables in a loop.
///
/// It asks SQLite `PRAGMA data_version` on a connection of its own: the value changes when any
/// *other* connection commits, and never for the connection's own commits; it is meaningful
/// only when compared with an earlier value of the same connection. So the watch's connection
/// is one that never writes and that no one else uses; it sees the commits of this process's
/// writer as those of any other process (the `sqlite3` shell included). The pragma reads the
/// WAL index (or the file's change counter), about 2 µs, and holds no read transaction
/// between two asks.
///
/// It asks every `interval`, and only while a task waits, from a thread of its own that
/// sleeps in between and is parked while no one waits: one wake-up per ask (a dispatch timer
/// costs two threads' wake-ups, which doubled the cost of an idle watch). Commits of this
/// process are announced with ``noteCommit()``, which wakes the waiters at once. A generation
/// counts what it has seen: a caller takes one with ``generation()`` before reading, then
/// waits with ``wait(after:)``, and any commit after the first call ends the wait. A wake-up
/// may come with nothing new to read (a checkpoint can change the version too); a commit is
/// never missed.
///
/// `@unchecked Sendable`: the fields marked so are guarded by `condition` or by
/// `connectionLock`.
package final class CommitWatch: @unchecked Sendable {
    /// Where ``generation()`` asks, so that it never blocks a thread of the cooperative pool.
    private let queue: DispatchQueue
    private let interval: Duration
    private let label: String
    /// Nil for a private in-memory database: its one connection writes every commit, and each
    /// is announced.
    private let openConnection: (() throws -> Connection)?

    /// Guards the fields below it, and parks the asking thread while no one waits.
    private let condition = NSCondition()
    private var seen: UInt64 = 0
    private var waiters: [Waiter] = []
    private var isAsking = false
    private var isClosed = false

    /// Guards the fields below it. Taken before `condition` when both are.
    private let connectionLock = NSLock()
    private var connection: Connection?
    /// The last value read on `connection`; nil before the first.
    private var dataVersion: Int?

    /// A watch that asks SQLite every `interval`, on connections made by `openConnection`
    /// (read-only, of the watched file); without one, it knows only of announced commits.
    package init(interval: Duration, label: String, openConnection: (() throws -> Connection)?) {
        self.interval = interval
        self.label = label
        self.openConnection = openConnection
        queue = DispatchQueue(label: label)
    }

    private final class Waiter: @unchecked Sendable {
        /// Taken (set to nil) by whoever resumes it: once, under the watch's condition.
        var continuation: CheckedContinuation<Void, any Error>?
        var isCancelled = false
    }

    /// The generation now, after asking SQLite once: any commit made after this call returns
    /// makes a later generation. Throws the SQLite error when the watch cannot ask.
    package func generation() async throws -> UInt64 {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try self.poll()
                    return self.condition.withLock { self.seen }
                })
            }
        }
    }

    /// Returns once the generation is later than `generation`, or the watch is closed.
    /// Throws `CancellationError` at once when the task is cancelled.
    package func wait(after generation: UInt64) async throws {
        let waiter = Waiter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                condition.lock()
                if waiter.isCancelled {
                    condition.unlock()
                    continuation.resume(throwing: CancellationError())
                    return
                }
                guard seen <= generation, !isClosed else {
                    condition.unlock()
                    continuation.resume()
                    return
                }
                waiter.continuation = continuation
                waiters.append(waiter)
                startAsking()
                condition.unlock()
            }
        } onCancel: {
            condition.lock()
            waiter.isCancelled = true
            let continuation = waiter.continuation
            waiter.continuation = nil
            waiters.removeAll { $0 === waiter }
            condition.unlock()
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// A commit of this process: wakes every waiter now rather than at the next ask.
    package func noteCommit() {
        advance()
    }

    /// Wakes every waiter, so that each looks again (and finds, say, that its store closed).
    package func wakeWaiters() {
        advance()
    }

    /// Wakes every waiter for the last time and closes the watch's connection; later waits
    /// return at once, and the asking thread ends. Call it before the file's writer closes:
    /// the connection that closes last must be the writer, which checkpoints the WAL.
    package func close() {
        condition.lock()
        isClosed = true
        let woken = takeWaiters()
        condition.broadcast()
        condition.unlock()
        for continuation in woken { continuation.resume() }
        connectionLock.withLock {
            connection?.close()
            connection = nil
        }
    }

    // MARK: Asking SQLite

    /// Reads `PRAGMA data_version` on the watch's connection; a value other than the last one
    /// read is a commit of another connection.
    private func poll() throws {
        guard let openConnection else { return }
        try connectionLock.withLock {
            guard !condition.withLock({ isClosed }) else { return }
            do {
                if connection == nil { connection = try openConnection() }
                let version = try connection?.queryFirst("PRAGMA data_version") { $0.int(0) }
                defer { dataVersion = version }
                if let dataVersion, version != dataVersion { advance() }
            } catch {
                // The next ask starts again from a fresh value, and the waiters look again, to
                // meet the error themselves if it lasts.
                dataVersion = nil
                advance()
                throw error
            }
        }
    }

    /// Starts the asking thread, unless it runs; call it holding `condition`.
    private func startAsking() {
        guard openConnection != nil else { return }
        guard !isAsking else {
            condition.signal()
            return
        }
        isAsking = true
        let thread = Thread { [self] in askWhileWaited() }
        thread.name = label
        thread.stackSize = 1 << 19
        thread.start()
    }

    /// The asking thread: parked while no one waits; else asks every `interval`. Ends when
    /// the watch closes.
    private func askWhileWaited() {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while true {
            condition.lock()
            while waiters.isEmpty, !isClosed { condition.wait() }
            let closed = isClosed
            condition.unlock()
            if closed { return }
            // A relative sleep: a change of the wall clock does not stretch it.
            Thread.sleep(forTimeInterval: seconds)
            try? poll()
        }
    }

    /// A later generation: every waiter wakes.
    private func advance() {
        condition.lock()
        seen += 1
        let woken = takeWaiters()
        condition.unlock()
        for continuation in woken { continuation.resume() }
    }

    /// Empties `waiters`; call it holding `condition`.
    private func takeWaiters() -> [CheckedContinuation<Void, any Error>] {
        let continuations = waiters.compactMap { waiter in
            defer { waiter.continuation = nil }
            return waiter.continuation
        }
        waiters.removeAll()
        return continuations
    }
}
