import ContainerPolicyStore
import Foundation

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
            var written: [Implementation: Tally] = [:]
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
                    if workload.writes { written[implementation] = try Self.tallyStore(at: path) }
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
        guard workload.writes else { return workload.template.path }
        let path = workDirectory.appendingPathComponent("run-\(implementation.rawValue).sqlite").path
        removeStore(at: path)
        try FileManager.default.copyItem(atPath: workload.template.path, toPath: path)
        return path
    }

    private func removeStore(at path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Every policy of a store file, read with the library: what a workload wrote.
    private static func tallyStore(at path: String) throws -> Tally {
        let store = try PolicyStore(path: path)
        var tally = Tally()
        var page = try store.perform(.policies(limit: 1_000))
        while let last = page.last {
            page.forEach { tally.add($0) }
            page = try store.perform(.policies(after: last.name, limit: 1_000))
        }
        return tally
    }

    /// The implementations must have returned the same results and left the same data, or
    /// the comparison means nothing.
    private static func checkSameWork(
        _ workload: Workload, outcomes: [Implementation: Outcome], written: [Implementation: Tally]
    ) throws {
        var summaries: [Implementation: String] = [:]
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
            if let tally = written[implementation] { summaries[implementation, default: ""] += "; store: \(tally)" }
        }
        guard Set(summaries.values).count <= 1 else {
            let lines = summaries.map { "  \($0.key.rawValue): \($0.value)" }.sorted().joined(separator: "\n")
            throw BenchmarkFailure("workload \(workload.number) (\(workload.title)): the implementations differ:\n\(lines)")
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
