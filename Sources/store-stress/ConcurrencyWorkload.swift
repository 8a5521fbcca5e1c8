import ContainerPolicyStore
import Foundation

/// `store-stress concurrency --db PATH --worker W --threads T --ops N --increments C --seed S [--stores K]`
///
/// One of several processes working on one file at once. Each of its `T` threads runs `N`
/// operations chosen at random (creates, duplicates, modifies with an expected revision,
/// deletes, reads) and `C` increments of a shared counter kept in the description of the
/// policy `counter` (read, add one, modify with the revision read, and on a revision
/// conflict read again). Threads share `K` `PolicyStore`s (default 2), so both the store's
/// own lock and SQLite's locking between connections are exercised.
///
/// The only refusals allowed are those the design expects under contention: a name taken, a
/// revision conflict, a policy not found. Anything else is reported as unexpected, a busy
/// error above all; one that came only after the whole busy timeout (a write starved of the
/// lock by the others) is reported apart, as `starved`. The process prints one JSON line, a `ConcurrencyReport`, and exits 0 when
/// nothing unexpected happened.
///
/// The test prepares the file first (`ConcurrencyWorkload.prepare`): rulesets, the templates
/// `tmplA` and `tmplB`, whose copies are named `dupA_...`/`dupB_...` and never changed, and
/// the counter.
enum ConcurrencyWorkload {
    static let templates = ["A": (name: "tmplA", rulesets: 25), "B": (name: "tmplB", rulesets: 12)]
    static let rulesetCount = 30
    static let churnNames = (0..<12).map { "churn\($0)" }

    static func rulesetName(_ index: Int) -> String { "cr\(index)" }

    /// The rulesets a template links, sorted by name.
    static func templateRulesets(_ letter: String) -> [String] {
        (0..<templates[letter]!.rulesets).map(rulesetName).sorted()
    }

    static func prepare(_ store: PolicyStore) throws {
        try store.write { tx in
            for index in 0..<rulesetCount {
                try tx.createRuleset(named: rulesetName(index), rules: [RuleReference(id: String(format: "TM-%08d", index + 1))])
            }
            for (letter, template) in templates.sorted(by: { $0.key < $1.key }) {
                try tx.createPolicy(named: template.name, description: "template \(letter)", rulesets: templateRulesets(letter))
            }
            try tx.createPolicy(named: "counter", description: "0")
            for name in churnNames.prefix(6) { try tx.createPolicy(named: name, rulesets: [rulesetName(0)]) }
        }
    }

    static func run(_ arguments: Arguments) throws -> Int32 {
        let path = try arguments.string("db")
        let worker = try arguments.int("worker", default: 0)
        let threads = try arguments.int("threads", default: 3)
        let operations = try arguments.int("ops", default: 100)
        let increments = try arguments.int("increments", default: 10)
        let seed = try arguments.int("seed", default: 1)
        let options = try StressStore.options(arguments)
        // Threads share these stores round robin: with fewer stores than threads, both the
        // store's own lock and SQLite's locking between connections are exercised.
        let storeCount = max(1, try arguments.int("stores", default: 2))
        // Every other store records no actor: the library then begins a write with reads rather
        // than with the insert of the actor, which is the path where a write transaction that
        // did not take the lock first (BEGIN DEFERRED) would fail at once with SQLITE_BUSY.
        let stores = try (0..<storeCount).map { index in
            var storeOptions = options
            if index % 2 == 1 { storeOptions.actor = "" }
            return try StressStore.open(path: path, options: storeOptions)
        }
        let reports = LockedArray<ThreadReport>()
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            let thread = Thread {
                var runner = ThreadRunner(
                    store: stores[thread % stores.count], worker: worker, thread: thread,
                    random: SeededRandom(seed: UInt64(seed &* 1_000 &+ worker &* 10 &+ thread)),
                    starvationMilliseconds: Self.milliseconds(options.busyTimeout) * 9 / 10)
                reports.append(runner.run(operations: operations, increments: increments))
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let report = ConcurrencyReport(worker: worker, threads: reports.values.sorted { $0.thread < $1.thread })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        Output.line(String(decoding: try encoder.encode(report), as: UTF8.self))
        return report.threads.allSatisfy(\.unexpected.isEmpty) ? 0 : 1
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1_000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    struct ThreadRunner {
        let store: PolicyStore
        let worker: Int
        let thread: Int
        var random: SeededRandom
        var report: ThreadReport
        /// A busy error after at least this long is a write that waited out the whole busy
        /// timeout (starvation), reported apart from busy errors that come early.
        let starvationMilliseconds: Int

        init(store: PolicyStore, worker: Int, thread: Int, random: SeededRandom, starvationMilliseconds: Int) {
            self.store = store
            self.worker = worker
            self.thread = thread
            self.random = random
            self.starvationMilliseconds = starvationMilliseconds
            report = ThreadReport(thread: thread)
        }

        var prefix: String { "w\(worker)t\(thread)" }

        mutating func run(operations: Int, increments: Int) -> ThreadReport {
            let every = max(1, operations / max(1, increments))
            var incremented = 0
            for index in 0..<operations {
                step(index)
                if index % every == every - 1, incremented < increments {
                    increment()
                    incremented += 1
                }
            }
            while incremented < increments {
                increment()
                incremented += 1
            }
            report.ownPolicies.sort()
            return report
        }

        /// Runs one operation and counts its outcome; `allowed` are the refusals this
        /// operation may meet when other threads and processes race it. True when it
        /// succeeded.
        @discardableResult
        private mutating func attempt(_ kind: String, allowed: Set<String>, _ body: () throws -> Void) -> Bool {
            let started = DispatchTime.now().uptimeNanoseconds
            var failure: (any Error)?
            do { try body() } catch { failure = error }
            let elapsed = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
            report.slowestMilliseconds = max(report.slowestMilliseconds, elapsed)
            guard let failure else {
                report.count(kind, "ok")
                return true
            }
            let refusal = ErrorReport(failure)
            if allowed.contains(refusal.kind) {
                report.count(kind, refusal.kind)
            } else if refusal.kind == "busy", elapsed >= starvationMilliseconds {
                report.count(kind, "busyAfterTimeout")
                report.starved.append("\(kind) after \(elapsed) ms")
            } else {
                report.count(kind, "UNEXPECTED")
                report.unexpected.append("\(kind): \(refusal.kind) after \(elapsed) ms: \(refusal.message)")
            }
            return false
        }

        private mutating func step(_ index: Int) {
            let store = self.store
            let churn = random.element(ConcurrencyWorkload.churnNames)
            let choice = random.int(0...99)
            let listAfter: String? = random.chance(0.5) ? "d" : nil
            let someRulesets = (0..<random.int(0...5)).map { _ in
                ConcurrencyWorkload.rulesetName(random.int(0...ConcurrencyWorkload.rulesetCount - 1))
            }
            let oneRuleset = ConcurrencyWorkload.rulesetName(random.int(0...9))
            let letter = random.element(["A", "B"])
            let target = random.element(ConcurrencyWorkload.churnNames)
            switch choice {
            case 0..<20:
                attempt("read", allowed: []) {
                    _ = try store.perform(.fetch(Policy.self, named: churn))
                    _ = try store.perform(.list(Policy.self, after: listAfter, limit: 20))
                    _ = try store.perform(.count(Policy.self))
                }
            case 20..<30:
                let name = "u_\(prefix)_\(index)"
                if attempt("createOwn", allowed: [], { try store.perform(.createPolicy(named: name, description: "own", rulesets: someRulesets)) }) {
                    report.ownPolicies.append(name)
                }
            case 30..<35:
                guard let victim = report.ownPolicies.randomElement(using: &random) else { return }
                if attempt("deleteOwn", allowed: [], { try store.perform(.delete(Policy.self, named: victim)) }) {
                    report.ownPolicies.removeAll { $0 == victim }
                }
            case 35..<45:
                attempt("createChurn", allowed: ["nameTaken"]) {
                    try store.perform(.createPolicy(named: churn, rulesets: [oneRuleset]))
                }
            case 45..<53:
                attempt("deleteChurn", allowed: ["notFound"]) { try store.perform(.delete(Policy.self, named: churn)) }
            case 53..<70:
                let text = "edit \(prefix) \(index)"
                attempt("modifyChurn", allowed: ["revisionConflict", "notFound"]) {
                    guard let current = try store.perform(.fetch(Policy.self, named: churn)) else { throw PolicyStoreError.notFound(.policy, name: churn) }
                    try store.perform(.modify(Policy.self, named: churn, expectedRevision: current.revision) {
                        $0.description = text
                        $0.xdrEnabled.toggle()
                        if $0.rulesets.contains(oneRuleset) { $0.removeRuleset(oneRuleset) } else { $0.addRuleset(oneRuleset) }
                    })
                }
            case 70..<80:
                let copy = "dup\(letter)_\(prefix)_\(index)"
                let template = ConcurrencyWorkload.templates[letter]!.name
                if attempt("duplicateTemplate", allowed: [], { try store.perform(.duplicate(Policy.self, named: template, as: copy)) }) {
                    report.duplicates.append(copy)
                }
            case 80..<88:
                attempt("duplicateChurn", allowed: ["nameTaken", "notFound"]) {
                    try store.perform(.duplicate(Policy.self, named: churn, as: target))
                }
            default:
                // Several operations in one transaction racing the others.
                let name = "tx_\(prefix)_\(index)"
                let linked = ConcurrencyWorkload.rulesetName(1)
                attempt("writeTransaction", allowed: ["nameTaken", "notFound"]) {
                    try store.write { tx in
                        try tx.createPolicy(named: name, rulesets: [linked])
                        try tx.duplicate(Policy.self, named: name, as: churn)
                        try tx.delete(Policy.self, named: name)
                    }
                }
            }
        }

        /// Read, add one, write back with the revision read; on a conflict read again (and
        /// after a busy error that waited out the timeout, as an application would).
        private mutating func increment() {
            while true {
                let started = DispatchTime.now().uptimeNanoseconds
                do {
                    guard let counter = try store.perform(.fetch(Policy.self, named: "counter")), let value = Int(counter.description) else {
                        report.unexpected.append("increment: the counter is missing or not a number")
                        return
                    }
                    try store.perform(.modify(Policy.self, named: "counter", expectedRevision: counter.revision) { $0.description = String(value + 1) })
                    report.increments += 1
                    return
                } catch .revisionConflict {
                    report.conflictRetries += 1
                } catch .busy where Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) >= starvationMilliseconds {
                    report.starved.append("increment after \((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) ms")
                } catch {
                    report.unexpected.append("increment: \(ErrorReport(error).kind): \(error)")
                    return
                }
            }
        }
    }
}

struct ThreadReport: Codable, Sendable {
    var thread: Int
    /// Operation kind to outcome (`ok`, or the refusal's case) to count.
    var outcomes: [String: [String: Int]] = [:]
    var unexpected: [String] = []
    /// Busy errors that came after the whole busy timeout: writes starved of the lock.
    var starved: [String] = []
    /// The policies this thread created under its own names and did not delete.
    var ownPolicies: [String] = []
    /// The copies of templates this thread made.
    var duplicates: [String] = []
    var increments = 0
    var conflictRetries = 0
    var slowestMilliseconds = 0

    init(thread: Int) { self.thread = thread }

    mutating func count(_ kind: String, _ outcome: String) {
        outcomes[kind, default: [:]][outcome, default: 0] += 1
    }
}

struct ConcurrencyReport: Codable, Sendable {
    var worker: Int
    var threads: [ThreadReport]
}

/// An array appended to from several threads.
final class LockedArray<Element>: @unchecked Sendable {
    private var storage: [Element] = []
    private let lock = NSLock()

    func append(_ element: Element) { lock.withLock { storage.append(element) } }
    var values: [Element] { lock.withLock { storage } }
}
