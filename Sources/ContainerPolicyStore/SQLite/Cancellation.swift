import Foundation

/// Lets a cancelled task stop the work it started on a connection: cancelling sets a flag
/// that the work checks between steps, and interrupts the statement running on the
/// connection attached meanwhile.
///
/// `@unchecked Sendable`: the fields are guarded by `lock`, and `sqlite3_interrupt` may be
/// called from any thread while the connection is open, which attachment guarantees.
final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var running: Connection?

    var isCancelled: Bool { lock.withLock { cancelled } }

    func cancel() {
        lock.withLock {
            cancelled = true
            running?.interrupt()
        }
    }

    /// From now on, cancelling interrupts the statement running on `connection`.
    func attach(_ connection: Connection) {
        lock.withLock { running = connection }
    }

    /// Ends the interruptions; returns whether the work was cancelled by then.
    @discardableResult
    func detach() -> Bool {
        lock.withLock {
            running = nil
            return cancelled
        }
    }
}
