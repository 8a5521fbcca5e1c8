import Foundation

/// A `policyctl` run that the test does not block on: the test process serves the emulator the
/// command talks to on the threads a blocking wait would hold, so the test suspends until the
/// process ends instead. The command may also be killed half way.
final class BackgroundRun {
    private let process: Process
    private let exited: AsyncStream<Void>
    private let stdoutURL: URL
    private let stderrURL: URL

    /// Starts `policyctl arguments` in the workspace's directory, with `environment` added.
    init(_ arguments: [String], in workspace: Workspace, environment: [String: String] = [:]) throws {
        let name = UUID().uuidString
        stdoutURL = workspace.directory.deletingLastPathComponent().appending(path: "background-\(name).stdout")
        stderrURL = workspace.directory.deletingLastPathComponent().appending(path: "background-\(name).stderr")
        for url in [stdoutURL, stderrURL] { try Data().write(to: url) }
        process = Process()
        process.executableURL = try Workspace.binary()
        process.arguments = arguments
        process.currentDirectoryURL = workspace.directory
        var inherited = ProcessInfo.processInfo.environment
        inherited["POLICYCTL_DB"] = nil
        inherited[RemoteWorkspace.tokenVariable] = nil
        inherited[RemoteWorkspace.endpointVariable] = nil
        process.environment = inherited.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        let (exited, ended) = AsyncStream<Void>.makeStream()
        self.exited = exited
        process.terminationHandler = { _ in ended.finish() }
        try process.run()
    }

    /// Ends the process at once, as a power cut or `kill -9` would.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
    }

    /// Waits for the process to end; its exit status (or signal) and what it printed.
    func finish() async throws -> CommandResult {
        for await _ in exited {}
        return CommandResult(
            status: process.terminationStatus, stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }

    /// Runs a command to its end.
    static func run(_ arguments: [String], in workspace: Workspace, environment: [String: String] = [:]) async throws -> CommandResult {
        try await BackgroundRun(arguments, in: workspace, environment: environment).finish()
    }
}
