import ContainerPolicyStore
import Foundation
import Synchronization
import Testing

/// Consumes a change feed in a task of its own and keeps what it delivers, so that a test can
/// write meanwhile and then wait for what it expects.
final class FeedConsumer: Sendable {
    private let received = Mutex<[Change]>([])
    private let task = Mutex<Task<PolicyStoreError?, Never>?>(nil)
    /// How the feed ended, once it has; nil while it runs or after it ended quietly.
    private let failure = Mutex<PolicyStoreError?>(nil)

    /// Starts consuming `feed`; `pause` runs after each change (a slow consumer sleeps there).
    init(_ feed: ChangeFeed, pause: @escaping @Sendable (Int) async -> Void = { _ in }) {
        let consuming = Task { () -> PolicyStoreError? in
            do throws(PolicyStoreError) {
                for try await change in feed {
                    let count = self.received.withLock { changes in
                        changes.append(change)
                        return changes.count
                    }
                    await pause(count)
                }
                return nil
            } catch {
                self.failure.withLock { $0 = error }
                return error
            }
        }
        task.withLock { $0 = consuming }
    }

    var changes: [Change] { received.withLock { $0 } }
    var count: Int { received.withLock { $0.count } }

    /// Waits until `count` changes have come, and returns them all; records an issue when the
    /// feed failed first, or `timeout` seconds passed. (The timeout bounds a hang, nothing
    /// more: in a full test run on 2 cores, a task that suspends waits for its turn behind the
    /// hundreds of tests queued on the cooperative pool, 130 s once, most of the run.)
    func waitFor(
        count: Int, timeout: Double = 280, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [Change] {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while self.count < count {
            if let failure = failure.withLock({ $0 }) {
                Issue.record("the feed failed after \(self.count) changes: \(failure)", sourceLocation: sourceLocation)
                break
            }
            if ContinuousClock.now > deadline {
                Issue.record("\(self.count) changes after \(timeout) s, not \(count)", sourceLocation: sourceLocation)
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return changes
    }

    /// Cancels the consuming task and returns how it ended: nil when the feed ended quietly.
    func stop() async -> PolicyStoreError? {
        let consuming = task.withLock { $0 }
        consuming?.cancel()
        return await consuming?.value
    }

    /// How the feed ended, without cancelling it.
    func ending() async -> PolicyStoreError? {
        await task.withLock { $0 }?.value
    }
}

/// Every change after `sequence` as the table holds it, read in pages.
func recordedChanges(_ store: PolicyStore, after sequence: Int) throws -> [Change] {
    var all: [Change] = []
    var page = try store.perform(.changes(after: sequence, limit: StoreTransaction.maximumPageSize))
    while let last = page.last {
        all += page
        page = try store.perform(.changes(after: last.sequence, limit: StoreTransaction.maximumPageSize))
    }
    return all
}

/// Runs the real `sqlite3` shell on a file with a busy timeout, as a person would while
/// other programs write; throws when it fails. (It throws rather than records an issue, so
/// that it may run on a thread of its own.)
func shellEdit(_ path: String, _ sql: String) throws {
    let result = try sqliteShell(path, ".timeout 10000\n" + sql)
    guard result.succeeded else { throw ChildFailed(description: "sqlite3 \(sql): \(result.errorOutput)") }
}

struct ChildFailed: Error, CustomStringConvertible {
    let description: String
}

/// The `store-stress` driver: another process that writes through the library.
enum StoreStress {
    /// Runs `store-stress` with `arguments` to its end; its standard output. Throws when it
    /// fails.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ChildFailed(description: "store-stress \(arguments.joined(separator: " ")): exit \(process.terminationStatus): \(text)")
        }
        return text
    }

    /// The binary the package built, in the products directory that holds the test bundle.
    static func binary() throws -> URL {
        let starts = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap { $0 }
            + Bundle.allBundles.filter { $0.bundlePath.hasSuffix(".xctest") }.map(\.bundleURL)
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("store-stress")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw BinaryNotFound(searchedFrom: starts.map(\.path))
    }

    struct BinaryNotFound: Error, CustomStringConvertible {
        let searchedFrom: [String]
        var description: String {
            "no store-stress binary above \(searchedFrom.joined(separator: ", ")); build the package first (swift build)"
        }
    }
}

/// Runs blocking work (a child process, the shell) on a thread of its own, so that it does not
/// hold one of the cooperative pool's few threads while the feed under test needs them.
func inBackground<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
