import Foundation

/// The results as Markdown tables, ready for Docs/performance.md.
struct Report {
    /// The issue's target against GRDB's fast path: at or below it.
    static let grdbTarget = 1.0
    /// The issue's target for growth: the cost at the largest store within this many times
    /// the cost at the smallest, for get, modify and duplicate.
    static let growthTarget = 1.2

    let measurements: [Measurement]
    let implementations: [Implementation]

    /// µs per operation for each implementation, then ours over each baseline. A ✗ marks a
    /// missed target (ours/lean above the workload's target, ours/GRDB above 1); the raw
    /// copy has no target: it measures the library's Swift code over its own SQL.
    func timingTable() -> String {
        let baselines = [Implementation.lean, .grdb, .raw].filter(implementations.contains)
        let numeric: [String] = implementations.map { "\($0.title) µs/op" } + baselines.map { "ours/\($0.rawValue)" }
        var lines = Self.header(numeric)
        for measurement in measurements {
            let workload = measurement.workload
            let costs = implementations.map { Self.format(measurement.microsecondsPerOperation($0)) }
            let ratios = baselines.map { baseline in
                let target: Double? = switch baseline {
                case .lean: workload.leanTarget
                case .grdb: Self.grdbTarget
                default: nil
                }
                return Self.ratio(measurement.ratio(.ours, to: baseline), target: target)
            }
            lines.append(
                Self.row(workload, cells: costs + ratios))
        }
        return lines.joined(separator: "\n")
    }

    /// Per-operation cost of the workloads that must not grow with the store: the largest
    /// size over the smallest. A ✗ marks ours above the growth target (duplicate, modify, get).
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
                let target = implementation == .ours && number != 6 ? Self.growthTarget : nil
                lines.append(
                    "| \(number) | \(implementation.title) | " + costs.map(Self.format).joined(separator: " | ")
                        + " | \(Self.ratio(costs.last! / costs.first!, target: target)) |")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The header of a table of workloads: their description, then the numeric columns.
    static func header(_ numeric: [String]) -> [String] {
        let titles: [String] = ["#", "workload", "policies in store", "operations"] + numeric
        let alignments: [String] = ["---", "---", "---:", "---:"] + numeric.map { _ in "---:" }
        return ["| " + titles.joined(separator: " | ") + " |", "|" + alignments.joined(separator: "|") + "|"]
    }

    static func row(_ workload: Workload, cells: [String]) -> String {
        let leading: [String] = [
            String(workload.number), workload.title, grouped(workload.storeSize), grouped(workload.operations),
        ]
        return "| " + (leading + cells).joined(separator: " | ") + " |"
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

    private static func ratio(_ value: Double?, target: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        let missed = target.map { value > $0 } ?? false
        return String(format: "%.2f", value) + (missed ? " ✗" : "")
    }

    static func format(_ microseconds: Double) -> String {
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
