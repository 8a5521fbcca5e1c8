import Foundation

/// How the client retries: `429`, `491` and `5xx` answers with bounded exponential backoff and
/// jitter (or the server's `Retry-After`, when it sends one), and dropped connections a bounded
/// number of times, for the requests it is safe to send twice.
///
/// `sleep`, `jitter` and `now` are injectable, so that tests do not wait and are repeatable:
///
/// ```swift
/// var retry = RetryPolicy()
/// retry.sleep = { _ in }            // do not wait
/// retry.jitter = { 0.5 }            // no randomness
/// let client = VisionOneClient(baseURL: url, token: token, configuration: .init(retry: retry))
/// ```
public struct RetryPolicy: Sendable {
    /// Attempts of one request in all, the first included, while the server answers `429`,
    /// `491` or `5xx`.
    public var maximumAttempts: Int
    /// Extra attempts of one request after its connection failed or dropped.
    public var maximumConnectionRetries: Int
    /// The wait before the first retry; it doubles with each further one.
    public var baseDelay: Duration
    /// The longest wait between two attempts, before jitter.
    public var maximumDelay: Duration
    /// The longest `Retry-After` the client waits for; beyond it the request fails with
    /// ``VisionOneError/Kind/rateLimited(retryAfter:)`` at once, rather than hang.
    public var maximumRetryAfter: Duration
    /// Waits; `Task.sleep` unless replaced.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// A number in `0..<1`, random unless replaced. Each wait is between half and all of the
    /// backoff ("equal jitter"): clients that failed together do not retry together.
    public var jitter: @Sendable () -> Double
    /// The current time, to read a `Retry-After` given as a date.
    public var now: @Sendable () -> Date
    /// Told before each wait: the failure that will be retried (its `attempts` so far), and
    /// how long the client waits. A program can say why it seems to hang; nothing by default.
    public var willRetry: @Sendable (VisionOneError, Duration) -> Void

    public init(
        maximumAttempts: Int = 6,
        maximumConnectionRetries: Int = 3,
        baseDelay: Duration = .milliseconds(500),
        maximumDelay: Duration = .seconds(30),
        maximumRetryAfter: Duration = .seconds(120),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        now: @escaping @Sendable () -> Date = { Date() },
        willRetry: @escaping @Sendable (VisionOneError, Duration) -> Void = { _, _ in }
    ) {
        self.maximumAttempts = maximumAttempts
        self.maximumConnectionRetries = maximumConnectionRetries
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.maximumRetryAfter = maximumRetryAfter
        self.sleep = sleep
        self.jitter = jitter
        self.now = now
        self.willRetry = willRetry
    }

    /// The wait before retry number `retry` (1 for the first retry).
    public func backoff(retry: Int) -> Duration {
        let doublings = min(max(retry - 1, 0), 30)
        let full = min(baseDelay * (1 << doublings), maximumDelay)
        let fraction = 0.5 + 0.5 * min(max(jitter(), 0), 1)
        return full * fraction
    }

    /// A `Retry-After` value: seconds, or an HTTP date. Nil when absent or unreadable.
    func retryAfter(_ header: String?) -> Duration? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Int(header), seconds >= 0 { return .seconds(seconds) }
        guard let date = Self.httpDate(header) else { return nil }
        let seconds = max(0, date.timeIntervalSince(now()))
        return .milliseconds(Int((seconds * 1_000).rounded(.up)))
    }

    /// IMF-fixdate, the form RFC 9110 requires senders to use: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}
