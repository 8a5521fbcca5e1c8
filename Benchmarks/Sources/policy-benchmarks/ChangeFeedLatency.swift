import ArgumentParser
import ContainerPolicyStore
import Foundation
import Synchronization

/// How soon a change feed delivers a commit made in another process, and what a feed that
/// waits costs. The other process is this binary in its writer mode (`change-feed-writer`),
/// which commits one modify at a time, a random gap apart (so that commits do not fall in step
/// with the feed's polls), and prints each commit's sequence and the monotonic clock just
/// after the commit returned; this process takes the same clock when the feed hands the
/// change over. The idle cost is the process's CPU time (getrusage: user + system) over a
/// stretch of waiting with one feed open, beside the same stretch with none.
struct ChangeFeedLatency: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-feed",
        abstract: "The delay from a commit in another process to its delivery by store.changes(after:), and an idle feed's CPU.")

    @Option(help: "Changes the other process commits.")
    var changes = 1_000

    @Option(help: "Mean milliseconds between two of its commits (each gap is drawn from 0 to twice this).")
    var gapMilliseconds = 10

    @Option(help: "StoreOptions.changePollInterval, in milliseconds.")
    var pollMilliseconds = 20

    @Option(help: "Seconds of each idle measurement (one without a feed, one with); the CPU is scaled to a minute.")
    var idleSeconds = 60

    @Option(help: "Where the database file goes (default: the temporary directory).")
    var directory: String?

    func run() throws {
        let folder = URL(fileURLWithPath: directory ?? FileManager.default.temporaryDirectory.path)
            .appendingPathComponent("change-feed-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("feed.sqlite").path
        var options = StoreOptions()
        options.changePollInterval = .milliseconds(pollMilliseconds)
        let store = try PolicyStore(path: path, options: options)
        try store.perform(.createPolicy(named: ChangeFeedWriter.policy))
        let start = try store.perform(.lastChangeSequence())

        let idleWithout = try cpuPercent(seconds: idleSeconds)
        let deliveries = Deliveries()
        let consuming = Task {
            for try await change in store.changes(after: start) { deliveries.record(change.sequence) }
        }
        // The feed's first read and its first wait, before the clock starts.
        Thread.sleep(forTimeInterval: 0.5)
        let idleWith = try cpuPercent(seconds: idleSeconds)

        let commits = try ChangeFeedWriter.spawn(path: path, changes: changes, gapMilliseconds: gapMilliseconds)
        let deadline = Date().addingTimeInterval(60)
        while deliveries.count < changes, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        consuming.cancel()
        let delivered = deliveries.times
        // Signed: a feed that polls between the writer's commit and its reading of the clock
        // has the change a few microseconds before that reading.
        let delays = commits.compactMap { commit in
            delivered[commit.sequence].map { Double(Int64($0) - Int64(commit.nanoseconds)) / 1e6 }
        }.sorted()
        guard delays.count == changes, commits.count == changes else {
            throw ValidationError("\(commits.count) commits reported, \(delays.count) of them delivered; expected \(changes)")
        }
        print("""
            Change feed: \(changes) commits in another process (WAL, synchronous=FULL), \(gapMilliseconds) ms apart on \
            average; PRAGMA data_version polled every \(pollMilliseconds) ms while the feed waits.

            | delivery delay | median ms | p99 ms | max ms |
            |---|---|---|---|
            | commit in another process to `next()` | \(Self.format(delays, 0.5)) | \(Self.format(delays, 0.99)) | \(Self.format(delays, 1)) |

            | idle, \(idleSeconds) s each | CPU s per minute | % of a core |
            |---|---|---|
            | no feed | \(String(format: "%.3f", idleWithout * 0.6)) | \(String(format: "%.3f", idleWithout)) |
            | one feed waiting | \(String(format: "%.3f", idleWith * 0.6)) | \(String(format: "%.3f", idleWith)) |
            """)
    }

    /// The process's CPU time over `seconds` of sleep, as a percentage of one core.
    private func cpuPercent(seconds: Int) throws -> Double {
        let before = Self.cpuSeconds()
        let started = ContinuousClock.now
        Thread.sleep(forTimeInterval: Double(seconds))
        let elapsed = (ContinuousClock.now - started).seconds
        return (Self.cpuSeconds() - before) / elapsed * 100
    }

    private static func cpuSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func format(_ sorted: [Double], _ quantile: Double) -> String {
        String(format: "%.2f", sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * quantile))])
    }
}

/// When each change was handed over, by sequence, on the monotonic clock.
private final class Deliveries: Sendable {
    private let state = Mutex<[Int: UInt64]>([:])

    func record(_ sequence: Int) {
        let now = monotonicNanoseconds()
        state.withLock { $0[sequence] = now }
    }

    var count: Int { state.withLock { $0.count } }
    var times: [Int: UInt64] { state.withLock { $0 } }
}

/// CLOCK_MONOTONIC, which every process of the machine reads alike.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// The other process of `change-feed`: commits modifies of one policy and prints, after
/// each, `SEQUENCE NANOSECONDS` (CLOCK_MONOTONIC).
struct ChangeFeedWriter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-feed-writer", abstract: "The writer process of change-feed.", shouldDisplay: false)

    static let policy = "feed.latency"

    @Option var db: String
    @Option var changes: Int
    @Option var gapMilliseconds: Int

    func run() throws {
        let store = try PolicyStore(path: db)
        var generator = SystemRandomNumberGenerator()
        var lines = ""
        for index in 0..<changes {
            Thread.sleep(forTimeInterval: Double.random(in: 0...(2 * Double(gapMilliseconds)), using: &generator) / 1_000)
            try store.perform(.modify(Policy.self, named: Self.policy) { $0.description = "change \(index)" })
            let committed = monotonicNanoseconds()
            // The only writer: the last change is the one just committed.
            lines += "\(try store.perform(.lastChangeSequence())) \(committed)\n"
        }
        FileHandle.standardOutput.write(Data(lines.utf8))
    }

    /// Runs the writer to its end; its commits.
    static func spawn(path: String, changes: Int, gapMilliseconds: Int) throws -> [(sequence: Int, nanoseconds: UInt64)] {
        let process = Process()
        process.executableURL = Bundle.main.executableURL
        process.arguments = ["change-feed-writer", "--db", path, "--changes", String(changes), "--gap-milliseconds", String(gapMilliseconds)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("change-feed-writer exited \(process.terminationStatus)") }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let sequence = Int(fields[0]), let nanoseconds = UInt64(fields[1]) else { return nil }
            return (sequence, nanoseconds)
        }
    }
}
