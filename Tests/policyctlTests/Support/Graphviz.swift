import Foundation

/// The real Graphviz `dot`, for the tests that draw what `policyctl graph` prints. When it is
/// missing, those tests fail and say how to install it; they never pass without it.
enum Graphviz {
    struct Missing: Error, CustomStringConvertible {
        let searched: String
        var description: String {
            "Graphviz's dot is not installed (searched PATH \(searched)): install it with 'apt-get install graphviz' (.ci/run installs it when it is missing)"
        }
    }

    struct Run {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    /// `dot` on the search path (`$PATH` unless told).
    static func executable(searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "") throws -> URL {
        for folder in searchPath.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appending(path: "dot")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw Missing(searched: searchPath)
    }

    static func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        let scratch = FileManager.default.temporaryDirectory.appending(path: "graphviz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Files, not pipes: the JSON of a large graph would fill a pipe.
        let stdoutURL = scratch.appending(path: "stdout")
        let stderrURL = scratch.appending(path: "stderr")
        try Data().write(to: stdoutURL)
        try Data().write(to: stderrURL)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: try Data(contentsOf: stdoutURL),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }

    /// A graph as Graphviz read it: each node's label lines by node name, and the edges.
    struct Drawing {
        var nodes: [String: [String]] = [:]
        var edges: [(from: String, to: String, label: String?)] = []
    }

    /// What Graphviz read of a DOT file (`dot -Tjson`), its labels unescaped the way Graphviz
    /// draws them: `\n` (and `\l`, `\r`) ends a line, `\\` is a backslash.
    static func json(of file: URL) throws -> Drawing {
        let run = try run(["-Tjson", file.path])
        guard run.status == 0 else { throw GraphvizFailed(stderr: run.stderr) }
        let object = try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any] ?? [:]
        let objects = object["objects"] as? [[String: Any]] ?? []
        var drawing = Drawing()
        for node in objects {
            drawing.nodes[node["name"] as? String ?? ""] = drawnLines(node["label"] as? String ?? "")
        }
        for edge in object["edges"] as? [[String: Any]] ?? [] {
            let name = { (key: String) -> String in
                guard let index = edge[key] as? Int, objects.indices.contains(index) else { return "" }
                return objects[index]["name"] as? String ?? ""
            }
            let label = (edge["label"] as? String).flatMap { $0.isEmpty ? nil : drawnLines($0).joined(separator: "\n") }
            drawing.edges.append((name("tail"), name("head"), label))
        }
        return drawing
    }

    struct GraphvizFailed: Error, CustomStringConvertible {
        let stderr: String
        var description: String { "dot failed: \(stderr)" }
    }

    private static func drawnLines(_ label: String) -> [String] {
        var lines = [""]
        var escaping = false
        for character in label {
            if escaping {
                if "nlr".contains(character) { lines.append("") } else { lines[lines.count - 1].append(character) }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                lines[lines.count - 1].append(character)
            }
        }
        return lines
    }
}
