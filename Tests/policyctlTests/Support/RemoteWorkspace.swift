import Foundation
import Testing

/// A workspace with a token file for the Vision One emulator, and `policyctl remote ...` run
/// against an emulator this test process serves.
struct RemoteWorkspace {
    static let tokenVariable = "VISION_ONE_TOKEN_FILE"
    static let endpointVariable = "VISION_ONE_ENDPOINT"
    /// The database `policyctl demo` builds.
    static let demo = "policyctl-demo.sqlite"

    let workspace: Workspace
    let tokenPath: String

    init() throws {
        workspace = try Workspace()
        tokenPath = workspace.file("token").path
        try Data((EmulatorServer.token + "\n").utf8).write(to: URL(fileURLWithPath: tokenPath))
        chmod(tokenPath, 0o600)
    }

    /// `policyctl remote <command> --endpoint <emulator> --token-file token --db <database> ...`,
    /// checking that nothing it printed holds the token.
    func remote(
        _ command: String, _ server: EmulatorServer, _ options: String..., database: String = Self.demo,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CommandResult {
        try await run(
            ["remote", command, "--endpoint", server.baseURL.absoluteString, "--token-file", tokenPath, "--db", database] + options,
            sourceLocation: sourceLocation)
    }

    /// `policyctl arguments`, run without blocking the emulator, checking that nothing it
    /// printed holds the token.
    func run(
        _ arguments: [String], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CommandResult {
        let result = try await BackgroundRun.run(arguments, in: workspace, environment: environment)
        #expect(!(result.stdout + result.stderr).contains(EmulatorServer.token), "the token was printed", sourceLocation: sourceLocation)
        return result
    }
}

/// The lines of a command's output.
func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init)
}
