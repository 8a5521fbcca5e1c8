import Foundation

/// The results as Markdown tables, ready for Docs/performance.md.
struct Report {
    /// The issue's targets: within 1.3x of the raw C API, faster than GRDB.
    static let rawTarget = 1.3
    static let grdbTarget = 1.0

    let measurements: [Measurement]
    let implementations: [Implementation]

    func timingTable() -> String {
        var lines = [
            "| # | workload | policies in store | operations | "
                + implementations.map { "\($0.title) µs/op" }.joined(separator: " | ") + " | ours/raw | ours/GRDB |",
            "|---|---|---:|---:|" + String(repeating: "---:|", count: implementations.count + 2),
        ]
        for measurement in measurements {
            let workload = measurement.workload
            let costs = implementations.map { Self.format(measurement.microsecondsPerOperation($0)) }
            lines.append(
                "| \(workload.number) | \(workload.title) | \(Self.grouped(workload.storeSize)) | "
                    + "\(Self.grouped(workload.operations)) | \(costs.joined(separator: " | ")) | "
                    + "\(Self.ratio(measurement.ratio(.ours, to: .raw), target: Self.rawTarget, inclusive: true)) | "
                    + "\(Self.ratio(measurement.ratio(.ours, to: .grdb), target: Self.grdbTarget, inclusive: false)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Per-operation cost of the workloads that must not grow with the store: the largest
    /// size over the smallest.
    func growthTable() -> String {
        let scaled = Dictionary(grouping: measurements.filter { [3, 4, 5, 6].contains($0.workload.number) }) {
            $0.workload.number
        }
        guard let sizes = scaled.values.first?.map(\.workload.storeSize), sizes.count > 1 else { return "" }
        var lines = [
            "| # | implementation | " + sizes.map { "µs/op at \(Self.grouped($0))" }.joined(separator: " | ")
                + " | largest / smallest |",
            "|---|---|" + String(repeating: "---:|", count: sizes.count + 1),
        ]
        for number in scaled.keys.sorted() {
            let bySize = scaled[number]!
            for implementation in implementations {
                let costs = bySize.map { $0.microsecondsPerOperation(implementation) }
                lines.append(
                    "| \(number) | \(implementation.title) | " + costs.map(Self.format).joined(separator: " | ")
                        + " | \(String(format: "%.2f", costs.last! / costs.first!)) |")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func memoryTable(_ readings: [(task: MemoryTask, implementation: Implementation, afterOpenKiB: Int, peakKiB: Int)], storeSize: Int) -> String {
        var lines = [
            "| task, \(grouped(storeSize)) policies | implementation | VmHWM after open (MiB) | VmHWM after the task (MiB) | under 64 MiB |",
            "|---|---|---:|---:|---|",
        ]
        for reading in readings {
            let peak = Double(reading.peakKiB) / 1_024
            lines.append(
                "| \(reading.task.rawValue) | \(reading.implementation.title) | "
                    + "\(String(format: "%.1f", Double(reading.afterOpenKiB) / 1_024)) | \(String(format: "%.1f", peak)) | "
                    + "\(peak < 64 ? "yes" : "**no**") |")
        }
        return lines.joined(separator: "\n")
    }

    private static func ratio(_ value: Double?, target: Double, inclusive: Bool) -> String {
        guard let value else { return "–" }
        let met = inclusive ? value <= target : value < target
        return String(format: "%.2f", value) + (met ? "" : " ✗")
    }

    private static func format(_ microseconds: Double) -> String {
        guard microseconds.isFinite else { return "–" }
        return String(format: microseconds < 10 ? "%.2f" : "%.1f", microseconds)
    }

    static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        return stride(from: digits.count, to: 0, by: -3).reversed().map { end in
            String(digits[max(0, end - 3)..<end])
        }.joined(separator: ",")
    }
}
