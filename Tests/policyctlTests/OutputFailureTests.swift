import Foundation
import Testing

/// Output that cannot be written is an `error:` line and exit code 1: never a crash, never
/// success (issue 12).
@Suite struct OutputFailureTests {
    /// Every command that prints, with what it needs of the sample database.
    static let printingCommands: [[String]] = [
        ["export"], ["policy", "list"], ["policy", "list", "--json"], ["policy", "show", "web"],
        ["policy", "show", "web", "--json"], ["policy", "history", "web"], ["policy", "history", "web", "--json"],
        ["ruleset", "list"], ["ruleset", "list", "--json"], ["ruleset", "show", "base"], ["ruleset", "show", "base", "--json"],
        ["ruleset", "history", "base"], ["cluster", "list"], ["cluster", "list", "--json"], ["check"],
        ["history"], ["history", "--json"], ["history", "--follow", "--from", "1"],
        ["policy", "create", "api"], ["policy", "modify", "web", "--xdr", "off"], ["policy", "restore", "web", "--revision", "1"],
        ["ruleset", "duplicate", "base"], ["import", "doc.json", "--dry-run"], ["import", "doc.json"],
        ["export", "--output", "out.json"], ["graph"], ["graph", "--format", "dot", "--rules"], ["demo"], ["--help"], ["policy", "modify", "--help"], ["--version"],
    ]

    @Test(arguments: printingCommands)
    func aFullStandardOutputIsAnErrorLineAndExitCode1(command: [String]) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try Data(#"{"rulesets": [{"name": "extra"}]}"#.utf8).write(to: workspace.file("doc.json"))

        let result = try workspace.run(command, standardOutput: try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full")))

        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: cannot write to standard output: No space left on device"))
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    @Test func aLongListingStopsAtTheFirstLostWrite() throws {
        let workspace = try Workspace()
        let names = (1...3_000).map { "p\($0)" }
        try workspace.makeSampleDatabaseWithTheLibrary()
        try workspace.withStore { store in
            try store.write { tx in
                for name in names { try tx.createPolicy(named: name, description: String(repeating: "x", count: 200)) }
            }
        }
        let result = try workspace.run(
            ["policy", "list"], standardOutput: try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full")))
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    /// Nothing is left to report a lost error line on, but the command neither crashes nor
    /// succeeds.
    @Test func aFullStandardErrorDoesNotCrashARefusal() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        #expect(try workspace.run(["policy", "show", "missing"], standardError: full).status == 1)
        #expect(try workspace.run(["import", "missing.json"], standardError: full).status == 1)
        #expect(try workspace.run(["export"], standardOutput: full, standardError: full).status == 1)
    }
}
