import Foundation
import Testing

/// What one run of `policyctl` did.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// A temporary directory of a test's own, removed when the test ends, where `policyctl`
/// runs as a subprocess (the directory is its working directory).
final class Workspace {
    let directory: URL
    private let captures: URL
    private var runs = 0

    init() throws {
        let root = FileManager.default.temporaryDirectory.appending(path: "policyctlTests-\(UUID().uuidString)")
        directory = root.appending(path: "work")
        captures = root.appending(path: "captures")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory.deletingLastPathComponent())
    }

    /// The default database, `./policies.sqlite` in the working directory.
    var database: URL { file("policies.sqlite") }

    func file(_ name: String) -> URL { directory.appending(path: name) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    /// Runs `policyctl` with `arguments`. `$POLICYCTL_DB` is unset unless `environment` sets it;
    /// standard input is `input`, else empty, unless `standardInput` is given (a pipe, a
    /// device); standard output and standard error are captured unless `standardOutput` or
    /// `standardError` is given (`/dev/full`).
    @discardableResult
    func run(
        _ arguments: String..., environment: [String: String] = [:], input: Data = Data(),
        standardInput: FileHandle? = nil, standardOutput: FileHandle? = nil, standardError: FileHandle? = nil
    ) throws -> CommandResult {
        try run(
            arguments, environment: environment, input: input, standardInput: standardInput,
            standardOutput: standardOutput, standardError: standardError)
    }

    @discardableResult
    func run(
        _ arguments: [String], environment: [String: String] = [:], input: Data = Data(),
        standardInput: FileHandle? = nil, standardOutput: FileHandle? = nil, standardError: FileHandle? = nil
    ) throws -> CommandResult {
        runs += 1
        // Files, not pipes: a long listing would fill a pipe and block the child.
        let (stdoutURL, stdout) = try captureFile("\(runs).stdout")
        let (stderrURL, stderr) = try captureFile("\(runs).stderr")
        let stdinURL = captures.appending(path: "\(runs).stdin")
        try input.write(to: stdinURL)
        let process = Process()
        process.standardInput = try standardInput ?? FileHandle(forReadingFrom: stdinURL)
        process.executableURL = try Self.binary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var inherited = ProcessInfo.processInfo.environment
        inherited["POLICYCTL_DB"] = nil
        process.environment = inherited.merging(environment) { $1 }
        process.standardOutput = standardOutput ?? stdout
        process.standardError = standardError ?? stderr
        try process.run()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus,
            stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }

    /// Runs `policyctl` and expects it to succeed; returns its standard output.
    @discardableResult
    func succeed(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try succeed(arguments, sourceLocation: sourceLocation)
    }

    @discardableResult
    func succeed(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try run(arguments)
        let command = (["policyctl"] + arguments).joined(separator: " ")
        #expect(result.status == 0, "\(command): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.isEmpty, sourceLocation: sourceLocation)
        return result.stdout
    }

    /// Runs `policyctl` with a terminal for its standard streams (through util-linux's
    /// `script`), as a person at a terminal would; returns all the terminal showed.
    func runOnTerminal(_ arguments: [String]) throws -> String {
        let command = ([try Self.binary().path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["script", "--quiet", "--return", "--command", command.joined(separator: " "), "/dev/null"]
        process.currentDirectoryURL = directory
        runs += 1
        let (output, handle) = try captureFile("\(runs).terminal")
        process.standardOutput = handle
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/null"))
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "policyctl \(arguments.joined(separator: " ")) on a terminal")
        return try String(contentsOf: output, encoding: .utf8)
    }

    /// Runs `sqlite3` on a file of the workspace.
    @discardableResult
    func sqlite3(_ database: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", "-bail", database, sql]
        process.currentDirectoryURL = directory
        runs += 1
        let (output, handle) = try captureFile("\(runs).sqlite3")
        process.standardOutput = handle
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqlite3 \(sql)")
        return try String(contentsOf: output, encoding: .utf8)
    }

    private func captureFile(_ name: String) throws -> (URL, FileHandle) {
        let url = captures.appending(path: name)
        try Data().write(to: url)
        return (url, try FileHandle(forWritingTo: url))
    }

    /// The `policyctl` binary the package built, in the products directory (`debug` under
    /// the scratch path, whatever that is), which also holds the test executable (Linux) or
    /// the `.xctest` bundle (macOS, where the main executable is the test runner).
    static func binary() throws -> URL {
        let starts = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap { $0 }
            + Bundle.allBundles.filter { $0.bundlePath.hasSuffix(".xctest") }.map(\.bundleURL)
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appending(path: "policyctl")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
                   !isDirectory.boolValue, FileManager.default.isExecutableFile(atPath: candidate.path) {
                    return candidate
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw BinaryNotFound(searchedFrom: starts.map(\.path))
    }

    struct BinaryNotFound: Error, CustomStringConvertible {
        let searchedFrom: [String]
        var description: String {
            "no policyctl binary in the directories above \(searchedFrom.joined(separator: ", ")); build it first"
        }
    }
}

extension Workspace {
    /// The bytes of a database file and of each SQLite sidecar file beside it, by file name.
    func snapshot(_ name: String = "policies.sqlite") throws -> [String: Data] {
        var files: [String: Data] = [:]
        for fileName in [name, name + "-wal", name + "-shm", name + "-journal"] where exists(fileName) {
            files[fileName] = try Data(contentsOf: file(fileName))
        }
        return files
    }
}
