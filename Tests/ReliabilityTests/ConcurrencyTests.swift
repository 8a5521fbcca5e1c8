import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import store_stress

/// Several processes, several threads each, on one file: creates, duplicates, modifies with
/// expected revisions, deletes, reads, multi-operation transactions, and a shared counter
/// bumped by read-modify-write with retry on conflict (`store-stress concurrency`). Meanwhile
/// the `sqlite3` shell reads `policy_overview` again and again.
@Suite struct ConcurrencyTests {
    static let processes = Mode.pick(short: 4, long: 8)
    static let threads = Mode.pick(short: 3, long: 4)
    static let operations = Mode.pick(short: 150, long: 1_500)
    static let increments = Mode.pick(short: 10, long: 60)

    @Test func processesAndThreadsNeverLoseAnUpdateNorSeeAHalfMadeDuplicate() throws {
        let directory = try Scratch("concurrency")
        let path = directory.path("shared.sqlite")
        let setup = try PolicyStore(path: path)
        try ConcurrencyWorkload.prepare(setup)
        let expectedRulesets = ["A", "B"].reduce(into: [String: String]()) {
            $0[$1] = ConcurrencyWorkload.templateRulesets($1).joined(separator: ", ")
        }
        let started = Date()
        let workers = try (0..<Self.processes).map { worker in
            try Subprocess(try Binaries.storeStress, [
                "concurrency", "--db", path, "--worker", String(worker), "--threads", String(Self.threads),
                "--ops", String(Self.operations), "--increments", String(Self.increments),
                "--seed", String(Mode.seed % 1_000_000),
            ])
        }

        // The shell reads while the workers write: every copy of a template it sees must
        // have all the template's rulesets, and the counter must always be a number.
        var snapshots = 0
        var copiesSeen = 0
        var halfMade: [String] = []
        while workers.contains(where: \.isRunning) {
            let read = try shell(path, """
                SELECT name || '|' || coalesce(rulesets, '') FROM policy_overview WHERE name GLOB 'dup[AB]_*';
                SELECT 'counter|' || description FROM policies WHERE name = 'counter';
                """, options: ["-cmd", ".timeout 5000"])
            if !read.error.isEmpty { halfMade.append("the shell failed: \(read.error)") }
            for line in read.output.split(separator: "\n") {
                let parts = line.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2 else { continue }
                if parts[0] == "counter" {
                    if Int(parts[1]) == nil { halfMade.append("counter reads \(parts[1])") }
                    continue
                }
                copiesSeen += 1
                let letter = String(parts[0].dropFirst(3).prefix(1))
                if parts[1] != expectedRulesets[letter] { halfMade.append("\(parts[0]) has rulesets \(parts[1])") }
            }
            snapshots += 1
            workers.forEach { $0.drain() }
            usleep(20_000)
        }

        var reports: [ConcurrencyReport] = []
        for worker in workers {
            let ending = try worker.wait()
            let lines = worker.remainingLines()
            #expect(ending == .exited(0), "worker: \(ending) \(lines.suffix(1)) \(worker.errorOutput.prefix(500))")
            if let line = lines.last, let report = try? JSONDecoder().decode(ConcurrencyReport.self, from: Data(line.utf8)) {
                reports.append(report)
            }
        }
        let seconds = Date().timeIntervalSince(started)
        #expect(reports.count == Self.processes)
        let threads = reports.flatMap(\.threads)

        // Only the refusals the design allows, and never a busy error: not one that comes
        // early (a transaction that did not take the write lock first), and not one after the
        // whole 5 s timeout either: a writer starved of the lock (Docs/reliability.md, bug 6).
        let unexpected = threads.flatMap(\.unexpected)
        #expect(unexpected.isEmpty, "\(unexpected.prefix(5))")
        let starved = threads.flatMap(\.starved)
        #expect(starved.isEmpty, "\(starved.count) writes gave up after the busy timeout: \(starved.prefix(5))")

        // No lost update.
        let store = try PolicyStore(path: path)
        let counter = try #require(try store.perform(.fetch(Policy.self, named: "counter")))
        let increments = threads.map(\.increments).reduce(0, +)
        #expect(increments == Self.processes * Self.threads * Self.increments)
        #expect(counter.description == String(Self.processes * Self.threads * Self.increments))

        // Every acknowledged create and delete of a thread's own policies is in the file.
        let own = Set(threads.flatMap(\.ownPolicies))
        let stored = try store.withConnection { connection in
            try connection.query("SELECT name FROM policies") { $0.text(0) }
        }
        #expect(Set(stored.filter { $0.hasPrefix("u_") }) == own)
        // Every copy of a template is there, whole.
        let copies = Set(threads.flatMap(\.duplicates))
        #expect(Set(stored.filter { $0.hasPrefix("dupA_") || $0.hasPrefix("dupB_") }) == copies)
        for name in copies {
            let policy = try #require(try store.perform(.fetch(Policy.self, named: name)))
            let letter = String(name.dropFirst(3).prefix(1))
            #expect(policy.rulesets == ConcurrencyWorkload.templateRulesets(letter), "\(name)")
        }
        // Nothing half-made was ever visible from the shell.
        #expect(halfMade.isEmpty, "\(halfMade.prefix(5))")
        #expect(snapshots >= 3, "the shell read only \(snapshots) times")

        #expect(try store.perform(.checkIntegrity()).isEmpty)
        #expect(try shell(path, "PRAGMA integrity_check; PRAGMA foreign_key_check;").output == "ok\n")
        let check = try Subprocess.run(try Binaries.policyctl, ["--db", path, "check"])
        #expect(check.ending == .exited(0), "\(check.error)")

        var outcomes: [String: [String: Int]] = [:]
        for thread in threads {
            for (kind, counts) in thread.outcomes {
                for (outcome, count) in counts { outcomes[kind, default: [:]][outcome, default: 0] += count }
            }
        }
        let total = outcomes.values.flatMap(\.values).reduce(0, +)
        let table = outcomes.sorted { $0.key < $1.key }.map { kind, counts in
            "\(kind) " + counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "/")
        }.joined(separator: ", ")
        print("""
            [reliability] concurrency: \(Self.processes) processes × \(Self.threads) threads, \(total) operations + \(increments) \
            increments (\(threads.map(\.conflictRetries).reduce(0, +)) conflict retries) in \(String(format: "%.1f", seconds)) s; \
            slowest operation \(threads.map(\.slowestMilliseconds).max() ?? 0) ms; shell snapshots \(snapshots) with \(copiesSeen) \
            copies seen, \(halfMade.count) half-made; unexpected errors \(unexpected.count); busy after the timeout \(starved.count); counter \(counter.description) of \
            \(Self.processes * Self.threads * Self.increments); \(table)
            """)
    }
}
