import Foundation

/// Instructions per operation, counted by valgrind's callgrind: the same count on every run
/// whatever else the machine does, so it measures each implementation's own code where the
/// clock is too noisy. Each implementation and workload runs once in a child process of its
/// own under `valgrind --tool=callgrind --toggle-collect='*timedRun*'`, so only the timed
/// section of that one implementation is counted (not building templates, not the checks).
struct InstructionCounter {
    let smoke: Bool
    let synchronous: Synchronous
    let implementations: [Implementation]
    let directory: URL

    func table(for workloads: [Workload], log: (String) -> Void) throws -> String {
        var perOperation: [[Implementation: Double]] = []
        for (index, workload) in workloads.enumerated() {
            var counts: [Implementation: Double] = [:]
            for implementation in implementations {
                let instructions = try count(workload, position: position(of: index, in: workloads), implementation)
                counts[implementation] = Double(instructions) / Double(workload.operations)
                log("callgrind: workload \(workload.number) \(workload.title), \(workload.storeSize) policies, "
                    + "\(implementation.rawValue): \(instructions) instructions, "
                    + String(format: "%.0f", counts[implementation]!) + " per operation")
            }
            perOperation.append(counts)
        }
        let baselines = [Implementation.lean, .grdb, .raw].filter(implementations.contains)
        var lines = [
            "Instructions per operation (valgrind --tool=callgrind, the timed section only, synchronous="
                + "\(synchronous.rawValue)).\n",
        ] + Report.header(implementations.map(\.title) + baselines.map { "ours/\($0.rawValue)" })
        for (workload, counts) in zip(workloads, perOperation) {
            let cells = implementations.map { Self.thousands(counts[$0]!) }
            let ratios = baselines.map { baseline in
                counts[.ours].map { String(format: "%.2f", $0 / counts[baseline]!) } ?? "–"
            }
            lines.append(Report.row(workload, cells: cells + ratios))
        }
        return lines.joined(separator: "\n")
    }

    /// The child's selection: the workload's number at its store size, and its place among
    /// the workloads of that selection (workload 7 is an export and an import).
    private func position(of index: Int, in workloads: [Workload]) -> Int {
        let workload = workloads[index]
        return workloads[..<index].filter { $0.number == workload.number && sameStoreSelection($0, workload) }.count
    }

    private func sameStoreSelection(_ left: Workload, _ right: Workload) -> Bool {
        !(3...6).contains(left.number) || left.storeSize == right.storeSize
    }

    private func count(_ workload: Workload, position: Int, _ implementation: Implementation) throws -> Int {
        let output = directory.appendingPathComponent("callgrind-\(implementation.rawValue)-\(workload.number)-\(position).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let scale = smoke ? Scale.smoke : Scale.full
        let storeSize = (3...6).contains(workload.number) ? workload.storeSize : scale.storeSizes[0]
        var arguments = [
            "--tool=callgrind", "--toggle-collect=*timedRun*", "--callgrind-out-file=\(output.path)",
            try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            "--workload", String(workload.number), "--store-size", String(storeSize),
            "--only-workload-index", String(position), "--implementation", implementation.rawValue,
            "--synchronous", synchronous.rawValue.lowercased(), "--runs", "1", "--large-runs", "1", "--no-memory",
        ]
        if smoke { arguments.append("--smoke") }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        child.arguments = ["valgrind"] + arguments
        let errors = Pipe()
        child.standardOutput = FileHandle.nullDevice
        child.standardError = errors
        try child.run()
        let printed = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        guard child.terminationStatus == 0 else {
            throw BenchmarkFailure("valgrind failed (is it installed?):\n\(printed.suffix(2_000))")
        }
        let profile = try String(contentsOf: output, encoding: .utf8)
        guard let line = profile.split(separator: "\n").first(where: { $0.hasPrefix("totals:") }),
            let total = Int(line.dropFirst("totals:".count).trimmingCharacters(in: .whitespaces))
        else { throw BenchmarkFailure("no totals in \(output.path)") }
        return total
    }

    private static func thousands(_ value: Double) -> String {
        value >= 1_000_000 ? String(format: "%.2f M", value / 1_000_000) : String(format: "%.1f k", value / 1_000)
    }
}
