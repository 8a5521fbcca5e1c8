import ContainerPolicyStore
import Foundation
import Testing
@testable import store_stress

/// kill -9 at random moments of a stream of writes: creates, duplicates of policies with
/// many rulesets, modifies, imports, deletes, multi-operation transactions. See
/// `CrashHarness` for what is checked after every kill.
@Suite(.serialized) struct CrashSafetyTests {
    /// Trials per journal mode: at least 100 in all in the short mode, 2,000 in the long one.
    static let trials = (wal: Mode.pick(short: 75, long: 1_500), rollback: Mode.pick(short: 25, long: 500))

    @Test(arguments: ["wal", "rollback"])
    func killNineNeverLosesNorHalfWritesAChange(journal: String) throws {
        let directory = try Scratch("crash")
        let seed = Mode.seed &+ (journal == "wal" ? 0 : 1)
        var harness = CrashHarness(directory: directory, journal: journal, seed: seed)
        let count = journal == "wal" ? Self.trials.wal : Self.trials.rollback
        var failures = 0
        for number in 0..<count {
            let plan = harness.randomPlan()
            let trial = try harness.runTrial(number, plan: plan)
            for problem in trial.problems {
                Issue.record("trial \(number) (\(plan), seed \(seed)): \(problem)")
            }
            if !trial.problems.isEmpty { failures += 1 }
            if failures >= 3 { break }
        }
        print("[reliability] \(harness.summary)")
        // The kills must land everywhere, or the trials prove little: inside operations
        // that had not committed, and between a commit and its acknowledgement.
        #expect(harness.summary.inFlightAbsent > 0)
        #expect(harness.summary.acknowledged > count)
    }

    /// The harness itself must be able to fail: with duplicates made in two transactions (the
    /// copy first, its links 40 ms later), a kill between the two leaves a copy without its
    /// links, and the check must say so.
    @Test func theHarnessCatchesAHalfMadeDuplicate() throws {
        let directory = try Scratch("crash-self-test")
        var harness = CrashHarness(directory: directory, journal: "wal", seed: 42)
        harness.unsafeDuplicate = true
        var caught: [String] = []
        for number in 0..<30 where caught.isEmpty {
            let trial = try harness.runTrial(number, plan: .duringOperation(kind: "duplicatePolicy", delayMicroseconds: 15_000))
            caught += trial.problems.filter { $0.contains("matches neither") }
        }
        #expect(!caught.isEmpty, "a duplicate made in two transactions was never caught half-made")
        print("[reliability] crash self-test: a non-atomic duplicate was caught: \(caught.first?.prefix(200) ?? "")")
    }

    /// A kill while a new file is being created and migrated: the next open finishes the job
    /// and the file is sound.
    @Test func killWhileCreatingANewDatabase() throws {
        let directory = try Scratch("crash-create")
        var random = SeededRandom(seed: Mode.seed)
        for number in 0..<Mode.pick(short: 10, long: 100) {
            let path = directory.path("new-\(number).sqlite")
            let process = try Subprocess(try Binaries.storeStress, ["crash", "--db", path, "--tag", "n", "--seed", "1"])
            usleep(UInt32(random.int(0...60_000)))
            process.send(signal: SIGKILL)
            try process.wait()
            _ = process.remainingLines()
            let store = try PolicyStore(path: path)
            #expect(try store.perform(.checkIntegrity()).isEmpty)
            try store.perform(.createPolicy(named: "after_the_kill"))
            #expect(try shell(path, "PRAGMA integrity_check;").output == "ok\n")
        }
    }
}
