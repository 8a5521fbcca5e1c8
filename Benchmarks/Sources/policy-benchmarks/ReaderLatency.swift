import ArgumentParser
import ContainerPolicyStore
import Foundation

/// How long a read takes while another thread of the same process runs a long write (an
/// import in one transaction): with the store's WAL readers it should not wait for the write.
struct ReaderLatency: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reader-latency",
        abstract: "A reader's latency in one process while a writer imports a large document.")

    @Option(help: "Policies in the store before the import.")
    var policies = 10_000

    @Option(help: "Policies the import adds, in one transaction.")
    var importSize = 20_000

    @Option(help: "Where the database file goes (default: the temporary directory).")
    var directory: String?

    func run() throws {
        let folder = URL(fileURLWithPath: directory ?? FileManager.default.temporaryDirectory.path)
            .appendingPathComponent("reader-latency-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try PolicyStore(path: folder.appendingPathComponent("latency.sqlite").path)
        let policies = self.policies
        try store.write { tx in
            try tx.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001")])
            for index in 0..<policies { try tx.createPolicy(named: "policy\(index)", rulesets: ["baseline"]) }
        }
        let document = PolicyDocument(
            rulesets: [PolicyDocument.RulesetEntry(name: "baseline", rules: [RuleReference(id: "TM-00000001")])],
            policies: (0..<policies).map { PolicyDocument.PolicyEntry(name: "policy\($0)", rulesets: ["baseline"]) }
                + (0..<importSize).map { PolicyDocument.PolicyEntry(name: "imported\($0)", rulesets: ["baseline"]) })

        let idle = try readLatencies(store, count: 500) { true }
        let importDone = DispatchSemaphore(value: 0)
        let importing = ImportTiming()
        Thread {
            let started = ContinuousClock.now
            _ = try? store.perform(.importDocument(document))
            importing.seconds = (ContinuousClock.now - started).seconds
            importDone.signal()
        }.start()
        // Give the writer its BEGIN IMMEDIATE first, then read until it commits.
        Thread.sleep(forTimeInterval: 0.05)
        let underWrite = try readLatencies(store, count: .max) { importDone.wait(timeout: .now()) == .timedOut }
        print("""
            Reader latency, one process: \(policies) policies, then an import of \(importSize) more in one \
            transaction (\(String(format: "%.2f", importing.seconds)) s) on another thread.

            | reads | count | median ms | p99 ms | max ms |
            |---|---|---|---|---|
            | no write running | \(idle.count) | \(Self.format(idle, 0.5)) | \(Self.format(idle, 0.99)) | \(Self.format(idle, 1)) |
            | during the import | \(underWrite.count) | \(Self.format(underWrite, 0.5)) | \(Self.format(underWrite, 0.99)) | \(Self.format(underWrite, 1)) |
            """)
    }

    /// Reads one policy by name at a time, 2 ms apart, while `keepGoing` and at most `count`.
    private func readLatencies(_ store: PolicyStore, count: Int, while keepGoing: () -> Bool) throws -> [Double] {
        var latencies: [Double] = []
        var index = 0
        while latencies.count < count, keepGoing() {
            let started = ContinuousClock.now
            guard try store.perform(.fetch(Policy.self, named: "policy\(index % policies)")) != nil else {
                throw ValidationError("policy\(index % policies) is missing")
            }
            latencies.append((ContinuousClock.now - started).seconds * 1_000)
            index += 7_919
            Thread.sleep(forTimeInterval: 0.002)
        }
        return latencies.sorted()
    }

    private static func format(_ sorted: [Double], _ quantile: Double) -> String {
        guard !sorted.isEmpty else { return "-" }
        return String(format: "%.3f", sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * quantile))])
    }
}

/// The import's duration, written by its thread before it signals.
private final class ImportTiming: @unchecked Sendable {
    var seconds = 0.0
}
