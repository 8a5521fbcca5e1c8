import ContainerPolicyStore
import Foundation
import SystemSQLite

/// The timings of one workload: seconds per run, for each implementation, by round.
struct Measurement {
    let workload: Workload
    /// `seconds[round][implementation]`.
    var seconds: [[Implementation: Double]] = []

    func median(_ implementation: Implementation) -> Double {
        Statistics.median(seconds.compactMap { $0[implementation] })
    }

    func microsecondsPerOperation(_ implementation: Implementation) -> Double {
        median(implementation) / Double(workload.operations) * 1_000_000
    }

    /// The median of the per-round ratios: the two ran side by side in each round, so a slow
    /// moment of the machine touches both.
    func ratio(_ numerator: Implementation, to denominator: Implementation) -> Double? {
        let ratios = seconds.compactMap { round in
            round[numerator].flatMap { top in round[denominator].map { top / $0 } }
        }
        return ratios.isEmpty ? nil : Statistics.median(ratios)
    }
}

enum Statistics {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }
}

/// Runs each workload round-robin: in every round each implementation runs once, in an order
/// that rotates from round to round, so none always goes first or last.
struct Runner {
    let implementations: [Implementation]
    let synchronous: Synchronous
    let workDirectory: URL

    func measure(_ workload: Workload, runs: Int) throws -> Measurement {
        var measurement = Measurement(workload: workload)
        for round in 0..<runs {
            var timings: [Implementation: Double] = [:]
            var outcomes: [Implementation: Outcome] = [:]
            var written: [Implementation: StoreContents] = [:]
            for offset in implementations.indices {
                let implementation = implementations[(round + offset) % implementations.count]
                let path = try prepareFile(for: workload, implementation)
                defer { if workload.writes { removeStore(at: path) } }
                let store = try implementation.open(path: path, synchronous: synchronous)
                // The store stays open until the clock stops: closing it (a WAL checkpoint) is
                // not part of the work measured.
                let (seconds, outcome) = try withExtendedLifetime(store) { try Self.timedRun(workload, store) }
                timings[implementation] = seconds
                if round == 0 {
                    outcomes[implementation] = outcome
                    if workload.writes { written[implementation] = try StoreContents(path: path, implementation) }
                }
            }
            if round == 0 {
                try Self.checkSameWork(workload, outcomes: outcomes, written: written)
            }
            measurement.seconds.append(timings)
        }
        return measurement
    }

    /// The measured part. Never inlined, so that `valgrind --tool=callgrind
    /// --toggle-collect='*timedRun*'` counts the instructions of the workloads alone.
    @inline(never)
    private static func timedRun(_ workload: Workload, _ store: any StoreUnderTest) throws -> (Double, Outcome) {
        let start = ContinuousClock.now
        let outcome = try workload.body(store)
        return ((ContinuousClock.now - start).seconds, outcome)
    }

    private func prepareFile(for workload: Workload, _ implementation: Implementation) throws -> String {
        let template = workload.template.path(for: implementation)
        guard workload.writes else { return template }
        let path = workDirectory.appendingPathComponent("run-\(implementation.rawValue).sqlite").path
        removeStore(at: path)
        try FileManager.default.copyItem(atPath: template, toPath: path)
        return path
    }

    private func removeStore(at path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// The implementations must have returned the same results and left the same data, or
    /// the comparison means nothing.
    private static func checkSameWork(
        _ workload: Workload, outcomes: [Implementation: Outcome], written: [Implementation: StoreContents]
    ) throws {
        var summaries: [Implementation: String] = [:]
        var histories: [Implementation: String] = [:]
        for (implementation, outcome) in outcomes {
            switch outcome {
            case .tally(let tally):
                summaries[implementation] = tally.description
            case .document(let json):
                let document = try PolicyDocument(json: json)
                summaries[implementation] = "\(document.rulesets.count) rulesets, \(document.rulesets.map(\.rules.count).reduce(0, +)) rules, "
                    + "\(document.policies.count) policies, \(document.policies.map(\.rulesets.count).reduce(0, +)) links, "
                    + "hash \(document.hashValue)"
            }
            if let contents = written[implementation] {
                summaries[implementation, default: ""] += "; store: \(contents.tally), content hash \(contents.contentHash)"
                if let history = contents.history { histories[implementation] = history }
            }
        }
        for (what, answers) in [("the implementations differ", summaries), ("the histories differ", histories)]
        where Set(answers.values).count > 1 {
            let lines = answers.map { "  \($0.key.rawValue): \($0.value)" }.sorted().joined(separator: "\n")
            throw BenchmarkFailure("workload \(workload.number) (\(workload.title)): \(what):\n\(lines)")
        }
    }
}

/// What a workload left in a store file, read with SQL that both schemas answer (they share
/// table and column names): counts, and a hash of the product's content (names,
/// descriptions, XDR, links, rules; not ids, revisions or timestamps, which the tally and the
/// history cover). Strict on content, so a store that skipped or mangled work is caught.
struct StoreContents {
    var tally = Tally()
    var contentHash = 0
    /// The rows of the history (`changes`), for the implementations that keep one.
    var history: String?

    init(path: String, _ implementation: Implementation) throws {
        let connection = try RawConnection(path: path, synchronous: .normal)
        var hasher = Hasher()
        let policies = try connection.prepare("""
            SELECT p.name, p.description, p.xdr_enabled, p.revision,
                   (SELECT group_concat(r.name, ',') FROM policy_rulesets AS pr
                    JOIN rulesets AS r ON r.id = pr.ruleset_id WHERE pr.policy_id = p.id)
            FROM policies AS p ORDER BY p.name
            """)
        defer { sqlite3_finalize(policies) }
        while try connection.step(policies) {
            let names = NameOrder.sorted(connection.list(policies, 4))
            let xdrEnabled = sqlite3_column_int64(policies, 2) != 0
            tally.policies += 1
            tally.revisions += Int(sqlite3_column_int64(policies, 3))
            tally.links += names.count
            if xdrEnabled { tally.xdrEnabled += 1 }
            hasher.combine(connection.text(policies, 0))
            hasher.combine(connection.text(policies, 1))
            hasher.combine(xdrEnabled)
            hasher.combine(names)
        }
        let rulesets = try connection.prepare("""
            SELECT s.name, s.description,
                   (SELECT group_concat(rule_id || ':' || mitigation, ',') FROM ruleset_rules WHERE ruleset_id = s.id)
            FROM rulesets AS s ORDER BY s.name
            """)
        defer { sqlite3_finalize(rulesets) }
        while try connection.step(rulesets) {
            hasher.combine(connection.text(rulesets, 0))
            hasher.combine(connection.text(rulesets, 1))
            hasher.combine(connection.list(rulesets, 2).sorted())
        }
        contentHash = hasher.finalize()
        if implementation.usesLibrarySchema {
            history = try connection.queryText(
                "SELECT count(*) || ' changes, revisions ' || coalesce(sum(revision), 0) || ', actions ' || "
                    + "coalesce((SELECT group_concat(action || ' ' || n) FROM "
                    + "(SELECT action, count(*) AS n FROM changes GROUP BY action ORDER BY action)), '') FROM changes")
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
