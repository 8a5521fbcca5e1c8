import ArgumentParser
import ContainerPolicyStore
import Foundation

/// What opening a store costs: the first open in a process (which also builds, once, the
/// schema the migrations make, to compare the file's with), and each open after it (which
/// reads the file's schema and compares it), each followed by one read and a close.
struct OpenCost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open-cost", abstract: "The time to open a store, read one count and close it.")

    @Option(help: "How many opens after the first.")
    var opens = 500

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("open-cost-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("open.sqlite").path
        let first = ContinuousClock.now
        let store = try PolicyStore(path: path)
        try store.perform(.createPolicy(named: "web"))
        store.close()
        let firstOpen = (ContinuousClock.now - first).seconds * 1_000
        var milliseconds: [Double] = []
        for _ in 0..<opens {
            let started = ContinuousClock.now
            let store = try PolicyStore(path: path)
            _ = try store.perform(.count(Policy.self))
            store.close()
            milliseconds.append((ContinuousClock.now - started).seconds * 1_000)
        }
        milliseconds.sort()
        print(String(
            format: "first open (creates the file and a policy): %.2f ms; later opens + count + close: median %.3f ms, p90 %.3f ms (%d opens)",
            firstOpen, milliseconds[opens / 2], milliseconds[opens * 9 / 10], opens))
    }
}
