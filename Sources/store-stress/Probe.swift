import ContainerPolicyStore
import Foundation

/// `store-stress probe --db PATH [--read-only] [--no-create] [--timeout-ms N] ACTION...`
///
/// Opens the store and runs each action, printing one JSON line per step (`ProbeStep`):
/// whether it worked, and if not, the `PolicyStoreError` case, SQLite code and message. Used
/// by the tests that must run as another user (file permissions mean nothing to root) and by
/// those that check what a separate process sees.
///
/// Actions: `read` (count and list policies and rulesets), `write` (create a policy and a
/// ruleset), `check` (`checkIntegrity`), `export`, `modes` (the permissions of the database
/// and its -wal, -shm and -journal files during a write).
enum Probe {
    static func run(_ arguments: Arguments) throws -> Int32 {
        let path = try arguments.string("db")
        let options = try StressStore.options(arguments)
        let store: PolicyStore
        do {
            store = try StressStore.open(path: path, options: options)
            emit(ProbeStep(action: "open", ok: true))
        } catch {
            emit(ProbeStep(action: "open", ok: false, error: ErrorReport(error)))
            return 0
        }
        for action in arguments.positional {
            do {
                switch action {
                case "read":
                    let count = try store.perform(.count(Policy.self)) + store.perform(.count(Ruleset.self))
                    _ = try store.perform(.list(Policy.self, limit: 1_000))
                    _ = try store.perform(.list(Ruleset.self, limit: 1_000))
                    emit(ProbeStep(action: action, ok: true, detail: "\(count) objects"))
                case "write":
                    let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
                    try store.write { tx in
                        try tx.createRuleset(named: "probe_r_" + suffix)
                        try tx.createPolicy(named: "probe_p_" + suffix, rulesets: ["probe_r_" + suffix])
                    }
                    emit(ProbeStep(action: action, ok: true))
                case "check":
                    let findings = try store.perform(.checkIntegrity())
                    emit(ProbeStep(action: action, ok: findings.isEmpty, detail: findings.map(\.description).joined(separator: "; ")))
                case "modes":
                    // The permissions of the database and of its -wal, -shm and -journal files
                    // as they exist in the middle of a write transaction ("-" when absent).
                    let modes = try store.write { _ in
                        ["", "-wal", "-shm", "-journal"].map { suffix in
                            let mode = (try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.posixPermissions] as? NSNumber
                            return "db\(suffix)=" + (mode.map { String($0.intValue & 0o777, radix: 8) } ?? "-")
                        }.joined(separator: " ")
                    }
                    emit(ProbeStep(action: action, ok: true, detail: modes))
                case "export":
                    let data = try store.perform(.export())
                    emit(ProbeStep(action: action, ok: true, detail: "\(data.count) bytes"))
                default:
                    throw UsageError("unknown probe action \(action)")
                }
            } catch let error as UsageError {
                throw error
            } catch {
                emit(ProbeStep(action: action, ok: false, error: ErrorReport(error)))
            }
        }
        return 0
    }

    static func emit(_ step: ProbeStep) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        Output.line(String(decoding: (try? encoder.encode(step)) ?? Data(), as: UTF8.self))
    }
}

struct ProbeStep: Codable, Hashable, Sendable {
    var action: String
    var ok: Bool
    var error: ErrorReport?
    var detail: String?

    init(action: String, ok: Bool, error: ErrorReport? = nil, detail: String? = nil) {
        self.action = action
        self.ok = ok
        self.error = error
        self.detail = detail
    }
}

/// `store-stress import-json --db PATH FILE [--dry-run]`: reads a policy document and imports
/// it, then prints one JSON line (`ImportOutcome`) with the outcome and the process's peak
/// resident memory, so a test can bound what a hostile document costs.
enum ImportJSON {
    static func run(_ arguments: Arguments) throws -> Int32 {
        guard let file = arguments.positional.first else { throw UsageError("import-json needs a FILE") }
        let path = try arguments.string("db")
        let baseline = peakResidentKilobytes()
        var outcome = ImportOutcome(ok: false, baselineKilobytes: baseline)
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            outcome.documentBytes = data.count
            let started = DispatchTime.now().uptimeNanoseconds
            defer { outcome.milliseconds = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) }
            let document: PolicyDocument
            do {
                document = try PolicyDocument(json: data)
            } catch {
                // The library's cost: measured before any message is made from the error.
                outcome.peakAfterReadingKilobytes = peakResidentKilobytes()
                throw error
            }
            outcome.peakAfterReadingKilobytes = peakResidentKilobytes()
            let store = try StressStore.open(path: path, options: StressStore.options(arguments))
            let plan = try store.perform(.importDocument(document, dryRun: arguments.has("dry-run")))
            outcome.ok = true
            outcome.steps = plan.steps.count
        } catch let error as PolicyStoreError {
            if case .invalidDocument(let problems) = error {
                outcome.problems = problems.count
                outcome.firstProblem = problems.first?.description
                outcome.error = ErrorReport(kind: ErrorReport.caseName(error), code: nil, message: "")
                // The message a person would read (policyctl prints all of it), unless it is
                // too big to make here.
                if problems.count <= 200_000 {
                    let message = String(describing: error)
                    outcome.messageBytes = message.utf8.count
                    outcome.error?.message = String(message.prefix(2_000))
                }
            } else {
                outcome.error = ErrorReport(error)
            }
        }
        outcome.peakKilobytes = peakResidentKilobytes()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        Output.line(String(decoding: try encoder.encode(outcome), as: UTF8.self))
        return 0
    }

    /// The peak resident size of this process: `VmHWM` of /proc/self/status on Linux, where
    /// `getrusage`'s `ru_maxrss` would include the parent's size from before `exec` when the
    /// process was started by `posix_spawn`.
    static func peakResidentKilobytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
            return kilobytes
        }
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Int(usage.ru_maxrss)
    }
}

struct ImportOutcome: Codable, Sendable {
    var ok: Bool
    var error: ErrorReport?
    var problems: Int?
    var firstProblem: String?
    var messageBytes: Int?
    var steps: Int?
    var milliseconds = 0
    var peakAfterReadingKilobytes = 0
    var documentBytes = 0
    var baselineKilobytes = 0
    var peakKilobytes = 0

    init(ok: Bool, baselineKilobytes: Int) {
        self.ok = ok
        self.baselineKilobytes = baselineKilobytes
    }
}
