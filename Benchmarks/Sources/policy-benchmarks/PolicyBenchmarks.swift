import ArgumentParser
import Foundation
import SystemSQLite

@main
struct PolicyBenchmarks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy-benchmarks",
        abstract: "ContainerPolicyStore side by side with a lean SQLite C API store, GRDB.swift, and its own SQL through the C API.",
        subcommands: [Run.self, PeakMemory.self, ReaderLatency.self, OpenCost.self, ChangeFeedLatency.self, ChangeFeedWriter.self],
        defaultSubcommand: Run.self)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the workloads round-robin and print medians and ratios as Markdown.")

    @Flag(help: "A few hundred operations per workload, one round: proves that it builds and runs.")
    var smoke = false

    @Option(help: "Rounds per workload; each round runs every implementation once.")
    var runs = 5

    @Option(help: "Rounds for the long workloads: 10,000 policies written, or a store of 100,000.")
    var largeRuns = 5

    @Option(help: "PRAGMA synchronous (normal or full); repeat for several. Default: full (the library's default), then normal.")
    var synchronous: [Synchronous] = [.full, .normal]

    @Option(name: .customLong("workload"), help: "Run only this workload (1 to 7); repeat for several.")
    var workloads: [Int] = Array(1...7)

    @Option(name: .customLong("implementation"), help: "Run only this implementation (ours, lean, grdb, raw); repeat for several.")
    var implementations: [Implementation] = Implementation.allCases

    @Option(name: .customLong("store-size"), help: "Store sizes for workloads 3 to 6; repeat for several.")
    var storeSizes: [Int] = []

    @Flag(help: "Skip the peak-memory probe.")
    var noMemory = false

    @Flag(help: "Count instructions per operation with valgrind's callgrind instead of timing: one child process per implementation and workload, one round, the first --synchronous level.")
    var callgrind = false

    @Option(help: ArgumentHelp("Run only the workload at this position of the selection (for --callgrind's children).", visibility: .hidden))
    var onlyWorkloadIndex: Int?

    @Option(help: "Where the database files go (default: a new folder in the temporary directory).")
    var directory: String?

    func run() throws {
        var scale = smoke ? Scale.smoke : Scale.full
        if !storeSizes.isEmpty { scale.storeSizes = storeSizes.sorted() }
        let rounds = smoke ? 1 : runs
        let largeRounds = smoke ? 1 : largeRuns
        let workDirectory = try makeWorkDirectory()
        defer { try? FileManager.default.removeItem(at: workDirectory) }

        let log = { (line: String) in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        log("policy-benchmarks: SQLite \(String(cString: sqlite3_libversion())), WAL, synchronous="
            + synchronous.map(\.rawValue).joined(separator: " then ")
            + ", \(ProcessInfo.processInfo.activeProcessorCount) cores, files in \(workDirectory.path)")
        // Templates are the same bytes whatever the level: it only sets when they reach the disk.
        let templates = TemplateBuilder(directory: workDirectory, synchronous: .normal)
        log(try Checks.schemaMatchesMigrations(library: try templates.empty(), in: workDirectory))
        let checkTemplate = try templates.store(policies: scale.storeSizes[0])
        try Checks.implementationsAgree(on: checkTemplate, implementations, synchronous: synchronous[0])
        log("the implementations read the same policies back; the raw stores' exports are the library's, byte for byte")

        var selected = try makeWorkloads(scale, numbers: Set(workloads), templates: templates)
        if let onlyWorkloadIndex { selected = [selected[onlyWorkloadIndex]] }
        if callgrind {
            let counter = InstructionCounter(
                smoke: smoke, synchronous: synchronous[0], implementations: implementations, directory: workDirectory)
            print(try counter.table(for: selected, log: log))
            return
        }

        for level in synchronous {
            let runner = Runner(implementations: implementations, synchronous: level, workDirectory: workDirectory)
            var measurements: [Measurement] = []
            for workload in selected {
                let started = ContinuousClock.now
                let measurement = try runner.measure(workload, runs: workload.isLarge ? largeRounds : rounds)
                measurements.append(measurement)
                let costs = implementations.map {
                    "\($0.rawValue) \(String(format: "%.2f", measurement.microsecondsPerOperation($0))) µs/op"
                }
                log("synchronous=\(level.rawValue) workload \(workload.number) \(workload.title), \(workload.storeSize) policies: "
                    + costs.joined(separator: ", ") + " (\(String(format: "%.1f", (ContinuousClock.now - started).seconds)) s)")
            }

            let report = Report(measurements: measurements, implementations: implementations)
            print("## WAL, synchronous=\(level.rawValue)\n")
            print("Medians of \(rounds) rounds (\(largeRounds) for the workloads that write 10,000 policies or run on "
                + "100,000); ratios are medians of the per-round ratios.")
            print("A ✗ marks a missed target: ours/lean above the workload's target (1.2 for create, duplicate and get; "
                + "1.3 for bulk create, modify, list and import), ours/grdb above \(Report.grdbTarget); "
                + "ours/raw has no target.\n")
            print(report.timingTable())
            let growth = report.growthTable()
            if !growth.isEmpty { print("\n" + growth) }
            print("")
        }

        if !noMemory {
            let store = try templates.store(policies: scale.memorySize)
            var readings: [(task: MemoryTask, implementation: Implementation, afterOpenKiB: Int, peakKiB: Int)] = []
            for task in MemoryTask.allCases {
                for implementation in implementations {
                    let reading = try PeakMemory.measure(
                        implementation, task, store: store.path(for: implementation), synchronous: synchronous[0])
                    readings.append((task, implementation, reading.afterOpenKiB, reading.peakKiB))
                }
            }
            print("## Peak memory\n")
            print(Report.memoryTable(readings, storeSize: scale.memorySize))
        }
    }

    private func makeWorkDirectory() throws -> URL {
        let parent = directory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        let folder = parent.appendingPathComponent("policy-benchmarks-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
