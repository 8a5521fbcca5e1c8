import ContainerPolicyStore
import Foundation

/// The sign of life of a long import or export: `import: 1200 of 5000 objects` on stderr,
/// rewritten in place at most ten times a second and cleared at the end. Only on a terminal,
/// and only for work of `threshold` objects or more: a pipe or a log gets nothing.
struct ProgressLine {
    static let threshold = 2_000
    let verb: String
    private let onTerminal = isatty(STDERR_FILENO) == 1
    private var lastShown: ContinuousClock.Instant?

    init(_ verb: String) {
        self.verb = verb
    }

    mutating func show(_ progress: StoreProgress) {
        guard onTerminal, progress.total >= Self.threshold else { return }
        // Erase the line (CR, then ESC [K) before each rewrite.
        let erase = "\r\u{1B}[K"
        if progress.done >= progress.total { return StandardError.write(erase) }
        let now = ContinuousClock.now
        if let lastShown, now - lastShown < .milliseconds(100) { return }
        lastShown = now
        StandardError.write("\(erase)\(verb): \(progress.done) of \(progress.total) objects")
    }
}
