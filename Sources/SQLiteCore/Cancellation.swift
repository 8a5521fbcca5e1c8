import Foundation

/// Lets a cancelled task stop the work it started on a connection: cancelling sets a flag
/// that the work checks between steps, and interrupts the statement running on the
/// connection attached meanwhile.
///
/// `@unchecked Sendable`: the fields are guarded by `lock`, and `sqlite3_interrupt` may be
/// called from any thread while the connection is open, which attachment guarantees.
package final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var running: Connection?

    package init() {}

    package var isCancelled: Bool { lock.withLock { cancelled } }

    package func cancel() {
        lock.withLock {
            cancelled = true
            running?.interrupt()
        }
    }

    /// From now on, cancelling interrupts the statement running on `connection`.
    package func attach(_ connection: Connection) {
        lock.withLock { running = connection }
    }

    /// Ends the interruptions; returns whether the work was cancelled by then.
    @discardableResult
    package func detach() -> Bool {
        lock.withLock {
            running = nil
            return cancelled
        }
    }
}
