import Foundation
import Testing

/// Short mode (the default, every CI run) or long mode (`RELIABILITY_LONG=1`, release checks).
/// Every count of the suites comes from here, so Docs/reliability.md can list them.
enum Mode {
    static let isLong = ProcessInfo.processInfo.environment["RELIABILITY_LONG"] == "1"
    /// A fixed seed per run, printed by each suite; `RELIABILITY_SEED=n` replays one.
    static let seed: UInt64 = ProcessInfo.processInfo.environment["RELIABILITY_SEED"].flatMap(UInt64.init)
        ?? UInt64(Date().timeIntervalSince1970)

    static func pick<T>(short: T, long: T) -> T { isLong ? long : short }

    static var name: String { isLong ? "long" : "short" }
}

/// The executables this package builds, found next to the test bundle in the products
/// folder of whatever scratch path is in use.
enum Binaries {
    static func path(_ name: String) throws -> String {
        let starts = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap { $0 }
            + Bundle.allBundles.filter { $0.bundlePath.hasSuffix(".xctest") }.map(\.bundleURL)
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                   FileManager.default.isExecutableFile(atPath: candidate.path) {
                    return candidate.path
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw SubprocessError("no \(name) binary near \(starts.map(\.path)); build the package first")
    }

    static var storeStress: String { get throws { try path("store-stress") } }
    static var policyctl: String { get throws { try path("policyctl") } }
    static let sqlite3 = "/usr/bin/sqlite3"
}

/// A folder of a test's own, removed when the test ends. Made with mode 0755 so that a
/// process run as `nobody` can reach what the test puts in it.
final class Scratch {
    let url: URL

    init(_ label: String = "rel") throws {
        url = URL(fileURLWithPath: "/tmp").appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    deinit {
        // Undo what a test did to the permissions before removing, in case it stopped early.
        if let contents = FileManager.default.enumerator(atPath: url.path) {
            for case let item as String in contents {
                chmod(url.appendingPathComponent(item).path, 0o755)
            }
        }
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Runs the `sqlite3` shell on a file, statements on standard input, and returns what it
/// printed. `-bail` stops at the first error.
@discardableResult
func shell(_ database: String, _ sql: String, options: [String] = []) throws -> (output: String, error: String, ok: Bool) {
    let result = try Subprocess.run(Binaries.sqlite3, ["-bail"] + options + [database], input: sql)
    return (result.output, result.error, result.ending == .exited(0) && result.error.isEmpty)
}

/// The bytes of a database file and of each SQLite file beside it, by suffix: equal
/// snapshots mean nothing on disk changed.
struct FileSnapshot: Equatable, CustomStringConvertible {
    var files: [String: Data] = [:]

    init(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if let data = FileManager.default.contents(atPath: path + suffix) { files[suffix.isEmpty ? "db" : suffix] = data }
        }
    }

    /// The database file alone (the -shm index is rebuilt by any reader; see Docs/reliability.md).
    var database: Data? { files["db"] }

    var description: String {
        files.keys.sorted().map { "\($0): \(files[$0]!.count) bytes" }.joined(separator: ", ")
    }
}

/// Whether a text carries a character that a terminal could act on: C0 controls, DEL, C1
/// controls. Error messages must not pass these on from hostile input.
func containsTerminalControl(_ text: String, allowingLineFeeds: Bool = false) -> Bool {
    text.unicodeScalars.contains { scalar in
        if allowingLineFeeds && scalar == "\n" { return false }
        return scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
