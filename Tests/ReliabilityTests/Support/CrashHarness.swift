import Foundation
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import store_stress

/// Runs the crash workload (`store-stress crash`) on one file again and again, kills it with
/// SIGKILL at a random moment each time, and checks the file after every kill:
///
/// 1. `PRAGMA integrity_check` is `ok` and `PRAGMA foreign_key_check` is empty (the `sqlite3`
///    shell, which is also the first to open the file after the kill and so recovers it);
/// 2. `policyctl check` passes;
/// 3. the store holds exactly the model built from the acknowledged operations, or that model
///    with the operation in flight applied: nothing acknowledged is lost, and the operation in
///    flight is wholly there or wholly absent (a duplicate never without all its links);
/// 4. the history agrees with the state: the last recorded change of every policy and ruleset
///    is its current state, and every deleted one's last change is its deletion.
///
/// The model then follows the file into the next trial, so the file grows and recovers from
/// kill after kill, as a real one would. A new file is started every `trialsPerFile` trials
/// to keep a long run's checks fast.
struct CrashHarness {
    enum KillPlan: CustomStringConvertible {
        /// At a fixed time after the start, whatever the process is doing (opening,
        /// recovering the file, writing).
        case afterMicroseconds(Int)
        /// When `count` operations are acknowledged, plus a delay.
        case afterAcknowledgements(count: Int, delayMicroseconds: Int)
        /// When an operation of this kind begins, plus a delay: aims at long transactions.
        case duringOperation(kind: String, delayMicroseconds: Int)

        var description: String {
            switch self {
            case .afterMicroseconds(let delay): "after \(delay) µs"
            case .afterAcknowledgements(let count, let delay): "after \(count) acks + \(delay) µs"
            case .duringOperation(let kind, let delay): "in \(kind) + \(delay) µs"
            }
        }
    }

    /// What one trial saw, for the summary.
    struct Trial {
        var acknowledged = 0
        var inFlight: String?
        /// The operation in flight was found applied (killed after the commit, before the ack).
        var inFlightApplied = false
        /// Before any process opened the file again: a hot rollback journal, or WAL frames
        /// after the last commit frame. Either means the kill landed inside a write.
        var interruptedWrite = false
        var problems: [String] = []
    }

    struct Summary: CustomStringConvertible {
        var journal: String
        var trials = 0
        var files = 0
        var acknowledged = 0
        var inFlightApplied = 0
        var inFlightAbsent = 0
        var noneInFlight = 0
        var interruptedWrites = 0
        var inFlightKinds: [String: Int] = [:]
        var seconds = 0.0
        var failedTrials = 0

        var description: String {
            let kinds = inFlightKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "crash(\(journal)): \(trials) kill -9 trials on \(files) file(s) in \(String(format: "%.1f", seconds)) s; "
                + "\(acknowledged) acknowledged operations, \(failedTrials) trials with problems; in flight at the kill: applied \(inFlightApplied), "
                + "absent \(inFlightAbsent), none \(noneInFlight); writes interrupted mid-way (hot journal or uncommitted WAL frames): "
                + "\(interruptedWrites); kinds in flight: \(kinds)"
        }
    }

    let directory: Scratch
    let journal: String
    var trialsPerFile = 100
    var unsafeDuplicate = false
    private(set) var path = ""
    private(set) var model = StoreModel()
    private(set) var summary: Summary
    private var random: SeededRandom
    /// How long each kind of operation took lately (µs), from the `ack` lines, so that kills
    /// aimed at an operation land inside it rather than always before or after.
    private var durations: [String: [Int]] = [:]

    init(directory: Scratch, journal: String, seed: UInt64) {
        self.directory = directory
        self.journal = journal
        summary = Summary(journal: journal)
        random = SeededRandom(seed: seed)
    }

    var storeOptions: StoreOptions {
        var options = StoreOptions()
        options.journalMode = journal == "rollback" ? .rollback : .wal
        return options
    }

    mutating func randomPlan() -> KillPlan {
        switch random.int(0...99) {
        case 0..<15:
            return .afterMicroseconds(random.int(0...150_000))
        case 15..<55:
            return .afterAcknowledgements(count: random.int(1...12), delayMicroseconds: random.int(0...4_000))
        default:
            let kind = random.element(["duplicatePolicy", "duplicatePolicy", "importDocument", "batch", "modifyPolicy", "deletePolicy"])
            let recent = (durations[kind] ?? []).sorted()
            let typical = recent.isEmpty ? 3_000 : recent[recent.count * 9 / 10]
            return .duringOperation(kind: kind, delayMicroseconds: random.int(0...max(200, typical * 11 / 10)))
        }
    }

    /// Runs one trial: starts the workload, kills it as planned, checks the file.
    mutating func runTrial(_ number: Int, plan: KillPlan) throws -> Trial {
        if number % trialsPerFile == 0 || path.isEmpty {
            path = directory.path("crash-\(journal)-\(number / trialsPerFile).sqlite")
            _ = try PolicyStore(path: path, options: storeOptions)
            model = StoreModel()
            summary.files += 1
        }
        var arguments = ["crash", "--db", path, "--tag", String(number), "--seed", String(random.next() % 1_000_000_000), "--journal", journal]
        if unsafeDuplicate { arguments.append("--unsafe-duplicate") }
        let process = try Subprocess(try Binaries.storeStress, arguments)
        let started = Date()
        var lines: [String] = []
        var acknowledged = 0
        let deadline = started.addingTimeInterval(10)
        func pause(_ microseconds: Int) { if microseconds > 0 { usleep(UInt32(microseconds)) } }
        switch plan {
        case .afterMicroseconds(let delay):
            pause(delay)
        case .afterAcknowledgements(let count, let delay):
            while acknowledged < count, Date() < deadline, let line = process.nextLine(timeout: deadline.timeIntervalSinceNow) {
                lines.append(line)
                if line.hasPrefix("ack ") { acknowledged += 1 }
            }
            pause(delay)
        case .duringOperation(let kind, let delay):
            while Date() < deadline, let line = process.nextLine(timeout: deadline.timeIntervalSinceNow) {
                lines.append(line)
                if line.hasPrefix("begin "), line.contains("{\"\(kind)\"") { break }
            }
            pause(delay)
        }
        process.send(signal: SIGKILL)
        let ending = try process.wait()
        lines += process.remainingLines()

        var trial = Trial()
        trial.interruptedWrite = Self.writeWasInterrupted(path)
        if ending != .signalled(SIGKILL) {
            trial.problems.append("the workload ended with \(ending), not by the kill: \(lines.suffix(2)) \(process.errorOutput)")
        }
        do {
            try check(lines: lines, into: &trial)
        } catch {
            trial.problems.append("the file could not be checked after the kill: \(error)")
            // Start the next trial on a new file: this one cannot be trusted.
            path = ""
        }
        summary.trials += 1
        summary.acknowledged += trial.acknowledged
        if let kind = trial.inFlight {
            summary.inFlightKinds[kind, default: 0] += 1
            if trial.inFlightApplied { summary.inFlightApplied += 1 } else { summary.inFlightAbsent += 1 }
        } else {
            summary.noneInFlight += 1
        }
        if trial.interruptedWrite { summary.interruptedWrites += 1 }
        if !trial.problems.isEmpty { summary.failedTrials += 1 }
        summary.seconds += Date().timeIntervalSince(started)
        return trial
    }

    /// Replays the printed operations on the model and compares the file with it.
    private mutating func check(lines: [String], into trial: inout Trial) throws {
        var operations: [Int: StressOperation] = [:]
        var acknowledged: [Int] = []
        var begun: [Int] = []
        let decoder = JSONDecoder()
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            switch parts.first {
            case "begin":
                guard parts.count == 3, let sequence = Int(parts[1]) else { trial.problems.append("bad line \(line.prefix(80))"); continue }
                operations[sequence] = try decoder.decode(StressOperation.self, from: Data(parts[2].utf8))
                begun.append(sequence)
            case "ack":
                guard parts.count == 3, let sequence = Int(parts[1]), let micros = Int(parts[2]) else {
                    trial.problems.append("bad line \(line)")
                    continue
                }
                acknowledged.append(sequence)
                if let kind = operations[sequence]?.kind {
                    durations[kind, default: []].append(micros)
                    if durations[kind]!.count > 50 { durations[kind]!.removeFirst() }
                }
            case "fail":
                trial.problems.append("the workload failed: \(line)")
            default:
                break
            }
        }
        // The protocol: begin n, ack n, begin n+1, ...; at most the last one unacknowledged.
        guard begun == Array(0..<begun.count), acknowledged == Array(0..<acknowledged.count),
              begun.count - acknowledged.count <= 1
        else {
            trial.problems.append("out-of-order lines: begun \(begun.suffix(3)), acknowledged \(acknowledged.suffix(3))")
            return
        }
        var before = model
        for sequence in acknowledged {
            do { try before.apply(operations[sequence]!) } catch {
                trial.problems.append("the model refuses acknowledged operation \(sequence): \(error)")
                return
            }
        }
        trial.acknowledged = acknowledged.count
        var after: StoreModel?
        if begun.count > acknowledged.count, let operation = operations[begun.count - 1] {
            trial.inFlight = operation.kind
            var applied = before
            do {
                try applied.apply(operation)
                after = applied
            } catch {
                trial.problems.append("the model refuses the operation in flight: \(error)")
            }
        }

        // 1. The file's structure and links, read by the sqlite3 shell.
        let pragmas = try shell(path, "PRAGMA integrity_check;\nPRAGMA foreign_key_check;\n")
        if pragmas.output != "ok\n" || !pragmas.error.isEmpty {
            trial.problems.append("integrity_check/foreign_key_check: \(pragmas.output.prefix(300)) \(pragmas.error.prefix(300))")
        }
        // 2. policyctl check.
        let check = try Subprocess.run(try Binaries.policyctl, ["--db", path, "check"])
        if check.ending != .exited(0) {
            trial.problems.append("policyctl check: \(check.ending) \(check.output.prefix(300)) \(check.error.prefix(300))")
        }
        // 3. The state.
        let store = try PolicyStore(path: path, options: storeOptions)
        let actual = StoreModel(try store.perform(.exportDocument()))
        if actual == before {
            model = before
        } else if let after, actual == after {
            model = after
            trial.inFlightApplied = true
        } else {
            let versus = after.map { " / with the operation in flight: " + actual.differences(from: $0, limit: 3).joined(separator: "; ") } ?? ""
            trial.problems.append(
                "the file matches neither the acknowledged state nor that state plus the operation in flight (\(trial.inFlight ?? "none")): "
                    + actual.differences(from: before, limit: 3).joined(separator: "; ") + versus)
            model = actual
        }
        // 4. The history.
        trial.problems += try Self.historyProblems(store, actual: actual)
    }

    /// The last recorded change of every object must be its current state (or its deletion).
    static func historyProblems(_ store: PolicyStore, actual: StoreModel) throws -> [String] {
        let rows = try store.withConnection { connection in
            try connection.query(
                """
                SELECT object_kind, object_name, action, after FROM changes AS c
                WHERE sequence = (SELECT max(sequence) FROM changes
                                  WHERE object_kind = c.object_kind AND object_name = c.object_name)
                """) { (kind: $0.text(0), name: $0.text(1), action: $0.text(2), after: $0.optionalText(3)) }
        }
        var problems: [String] = []
        var seen: Set<String> = []
        for row in rows {
            seen.insert(row.kind + ":" + row.name)
            // Read as the library reads its history: both shapes a policy's state has had.
            let content = row.after.flatMap { json in ObjectKind(rawValue: row.kind).flatMap { RecordedState.content($0, json: json) } }
            switch row.kind {
            case "policy":
                guard let current = actual.policies[row.name] else {
                    if row.action != "delete" { problems.append("history: policy \(row.name) is gone but its last change is \(row.action)") }
                    continue
                }
                let recorded = content?.policy.map { policy in
                    StoreModel.PolicyState(description: policy.description, xdr: policy.xdrEnabled, rulesets: Set(policy.rulesets))
                }
                if recorded != current {
                    problems.append("history: the last change of policy \(row.name) (\(row.action)) does not match its state")
                }
            case "ruleset":
                guard let current = actual.rulesets[row.name] else {
                    if row.action != "delete" { problems.append("history: ruleset \(row.name) is gone but its last change is \(row.action)") }
                    continue
                }
                let recorded = content?.ruleset.map { ruleset in
                    StoreModel.RulesetState(
                        description: ruleset.description,
                        rules: Dictionary(ruleset.rules.map { ($0.id, $0.mitigation.rawValue) }, uniquingKeysWith: { first, _ in first }))
                }
                if recorded != current {
                    problems.append("history: the last change of ruleset \(row.name) (\(row.action)) does not match its state")
                }
            default:
                break
            }
        }
        for name in actual.policies.keys where !seen.contains("policy:" + name) {
            problems.append("history: policy \(name) has no recorded change")
        }
        for name in actual.rulesets.keys where !seen.contains("ruleset:" + name) {
            problems.append("history: ruleset \(name) has no recorded change")
        }
        return Array(problems.prefix(5))
    }

    /// Looks at the files as the kill left them, before anything opens them: a hot rollback
    /// journal, or frames in the WAL after its last commit frame, mean a write transaction
    /// was under way.
    static func writeWasInterrupted(_ path: String) -> Bool {
        if let journal = FileManager.default.contents(atPath: path + "-journal"), journal.count >= 8,
           Array(journal.prefix(8)) == [0xD9, 0xD5, 0x05, 0xF9, 0x20, 0xA1, 0x63, 0xD7] {
            return true
        }
        guard let wal = FileManager.default.contents(atPath: path + "-wal"), wal.count > 32 else { return false }
        let bytes = [UInt8](wal)
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        }
        let pageSize = Int(word(8))
        guard pageSize >= 512 else { return false }
        let salts = (word(16), word(20))
        var offset = 32
        var lastIsCommit = true
        while offset + 24 + pageSize <= bytes.count, (word(offset + 8), word(offset + 12)) == salts {
            lastIsCommit = word(offset + 4) != 0
            offset += 24 + pageSize
        }
        return !lastIsCommit
    }
}
