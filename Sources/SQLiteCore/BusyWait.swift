#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a connection waits for a lock another connection holds: it retries after short,
/// random pauses until the timeout has passed since its first try.
///
/// SQLite's own `sqlite3_busy_timeout` sleeps 1, 2, 5, ... then 100 ms between tries, so a
/// writer that has waited long polls ten times a second while one that has just arrived polls
/// every millisecond and takes the lock first: under steady load an old waiter can lose every
/// race until its timeout (write starvation). Here every waiter tries again within a
/// millisecond, however long it has waited, and the jitter keeps waiters from retrying in step.
package final class BusyWait {
    private let timeoutNanoseconds: UInt64
    /// When the current wait began: SQLite counts the tries of one wait from 0.
    private var startedAt: UInt64 = 0

    package init(timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        timeoutNanoseconds = UInt64(clamping: max(0, seconds)) &* 1_000_000_000
            &+ UInt64(clamping: max(0, attoseconds / 1_000_000_000))
    }

    /// Whether to try again (after a pause) on the `attempt`th busy answer of this wait.
    package func shouldRetry(attempt: Int32) -> Bool {
        let now = Self.monotonicNanoseconds()
        if attempt == 0 { startedAt = now }
        let waited = now &- startedAt
        guard waited < timeoutNanoseconds else { return false }
        let pause = UInt64.random(in: 50_000...1_000_000)
        Self.sleep(nanoseconds: min(pause, timeoutNanoseconds - waited))
        return true
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }
}

/// SQLite's busy handler: a C function, so the wait state comes in as the context pointer,
/// which the connection keeps alive for as long as the handler is installed.
package let busyWaitCallback: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { context, attempt in
    guard let context else { return 0 }
    return Unmanaged<BusyWait>.fromOpaque(context).takeUnretainedValue().shouldRetry(attempt: attempt) ? 1 : 0
}
