import ArgumentParser
import Foundation

/// What the memory probe does in its own process.
enum MemoryTask: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Every policy with its ruleset names, through the paged listing, one page held at a time.
    case list
    /// The whole store as one JSON document in memory, as `export()` returns it.
    case export
    /// The whole store exported to a file (`export(to:)`, which streams; the others write
    /// the document they made in memory).
    case exportToFile = "export-to-file"
}

/// Peak resident memory of one task, in a child process of its own, so that nothing the
/// benchmark did before counts: the child reads its own `VmHWM` (the high-water mark of its
/// resident set) from /proc/self/status after opening the store and again after the task.
struct PeakMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak-memory",
        abstract: "Print the resident-set high-water mark (KiB) after opening a store and after one task.",
        shouldDisplay: false)

    @Option var implementation: Implementation
    @Option var task: MemoryTask
    @Option var store: String
    @Option var synchronous: Synchronous = .normal

    func run() throws {
        let opened = try implementation.open(path: store, synchronous: synchronous)
        let afterOpen = try Self.residentHighWaterMarkKiB()
        switch task {
        case .list:
            var tally = Tally()
            try opened.forEachPolicy(pageSize: listingPageSize) { tally.add($0) }
            guard tally.policies > 0 else { throw BenchmarkFailure("the store lists no policy") }
        case .export:
            let document = try opened.exportDocument()
            guard !document.isEmpty else { throw BenchmarkFailure("the export is empty") }
        case .exportToFile:
            let file = URL(fileURLWithPath: store + ".export.json")
            defer { try? FileManager.default.removeItem(at: file) }
            try opened.exportDocument(to: file)
            guard try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 0 > 0 else {
                throw BenchmarkFailure("the export is empty")
            }
        }
        print(afterOpen, try Self.residentHighWaterMarkKiB())
    }

    static func residentHighWaterMarkKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Int(line.split(separator: " ")[1])
        else { throw BenchmarkFailure("no VmHWM in /proc/self/status") }
        return kib
    }

    /// Runs the probe in a child process and returns its two readings.
    static func measure(
        _ implementation: Implementation, _ task: MemoryTask, store: String, synchronous: Synchronous
    ) throws -> (afterOpenKiB: Int, peakKiB: Int) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        child.arguments = [
            "peak-memory", "--implementation", implementation.rawValue, "--task", task.rawValue, "--store", store,
            "--synchronous", synchronous.rawValue.lowercased(),
        ]
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        let readings = printed.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard child.terminationStatus == 0, readings.count == 2 else {
            throw BenchmarkFailure("the memory probe failed: \(printed)")
        }
        return (readings[0], readings[1])
    }
}

extension Implementation: ExpressibleByArgument {}
extension Synchronous: ExpressibleByArgument {}
