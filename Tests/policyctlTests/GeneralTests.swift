import ContainerPolicyStore
import Foundation
import Testing

@Suite struct GeneralTests {
    @Test func versionComesFromTheSingleConstant() throws {
        let result = try Workspace().run("--version")
        #expect(result.status == 0)
        #expect(result.stdout == "0.1.0\n")
    }

    static let commands: [[String]] = [
        [], ["demo"], ["check"],
        ["policy"], ["policy", "create"], ["policy", "duplicate"], ["policy", "modify"],
        ["policy", "delete"], ["policy", "list"], ["policy", "show"],
        ["ruleset"], ["ruleset", "create"], ["ruleset", "duplicate"], ["ruleset", "modify"],
        ["ruleset", "delete"], ["ruleset", "list"], ["ruleset", "show"],
        ["policy", "history"], ["policy", "restore"], ["ruleset", "history"],
        ["cluster"], ["cluster", "assign"], ["cluster", "unassign"], ["cluster", "list"],
        ["export"], ["import"], ["graph"],
    ]

    @Test(arguments: commands)
    func everyCommandHasHelp(command: [String]) throws {
        let result = try Workspace().run(command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: " + (["policyctl"] + command).joined(separator: " ")))
        #expect(result.stdout.contains("OVERVIEW: "))
    }

    @Test(arguments: commands.filter { $0.count == 2 || [["check"], ["export"], ["import"], ["graph"]].contains($0) })
    func everyDatabaseCommandTakesDbAndActor(command: [String]) throws {
        let result = try Workspace().run(command + ["--help"])
        #expect(result.stdout.contains("--db <path>"))
        #expect(result.stdout.contains("$POLICYCTL_DB"))
        #expect(result.stdout.contains("--actor <name>"))
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(shell: String) throws {
        let result = try Workspace().run("--generate-completion-script", shell)
        #expect(result.status == 0)
        #expect(result.stdout.contains("policyctl"))
        #expect(result.stdout.contains("expect-revision"))
    }

    struct UsageError: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let usageErrors = [
        UsageError(arguments: ["policy", "create", "x", "--xdr", "maybe"], message: "Please provide one of 'on' and 'off'"),
        UsageError(arguments: ["policy", "modify", "web", "--xdr", "ON"], message: "Please provide one of 'on' and 'off'"),
        UsageError(
            arguments: ["ruleset", "create", "r", "--rule", "TM-1:explode"],
            message: "'explode' is not a mitigation: use one of log, isolate, terminate"),
        UsageError(
            arguments: ["ruleset", "modify", "base", "--add-rule", "TM-00000002:"],
            message: "'' is not a mitigation: use one of log, isolate, terminate"),
        UsageError(arguments: ["policy", "modify", "web", "--expect-revision", "two"], message: "--expect-revision"),
        UsageError(arguments: ["policy", "create"], message: "Missing expected argument '<name>'"),
        UsageError(arguments: ["policy", "frobnicate"], message: "Unexpected argument 'frobnicate'"),
        UsageError(arguments: ["policy", "list", "--yaml"], message: "Unknown option '--yaml'"),
        UsageError(arguments: ["--db", "other.sqlite", "demo"], message: "--db does not apply"),
        UsageError(arguments: ["policy", "restore", "web"], message: "Missing expected argument '--revision <n>'"),
        UsageError(arguments: ["policy", "restore", "web", "--revision", "latest"], message: "--revision"),
        UsageError(arguments: ["cluster", "assign", "arn:aws:ecs:us-east-1:123456789012:cluster/web"], message: "--policy"),
        UsageError(arguments: ["import"], message: "Missing expected argument '<file>'"),
        UsageError(arguments: ["--actor"], message: "Missing value for '--actor <name>'"),
    ]

    @Test(arguments: usageErrors)
    func usageErrorsExit64AndChangeNothing(error: UsageError) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let before = try workspace.snapshot()
        let result = try workspace.run(error.arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains(error.message))
        #expect(result.stdout.isEmpty)
        #expect(try workspace.snapshot() == before)
        #expect(!workspace.exists("other.sqlite"))
    }

    @Test func databaseIsDbElseEnvironmentElseDefault() throws {
        let workspace = try Workspace()
        try workspace.succeed("policy", "create", "inDefault")
        try workspace.run("policy", "create", "inEnvironment", environment: ["POLICYCTL_DB": "env.sqlite"])
        try workspace.run(
            ["--db", "flag.sqlite", "policy", "create", "inFlag"], environment: ["POLICYCTL_DB": "env.sqlite"])
        try workspace.run(["policy", "create", "afterSubcommand", "--db", "flag.sqlite"])
        try workspace.run("policy", "create", "emptyEnvironment", environment: ["POLICYCTL_DB": ""])

        func names(_ file: String) throws -> [String] {
            try workspace.withStore(file) { try $0.perform(.list(Policy.self)).map(\.name) }
        }
        #expect(try names("policies.sqlite") == ["emptyEnvironment", "inDefault"])
        #expect(try names("env.sqlite") == ["inEnvironment"])
        #expect(try names("flag.sqlite") == ["afterSubcommand", "inFlag"])
    }

    @Test func environmentVariableIsReadByEveryCommand() throws {
        let workspace = try Workspace()
        try workspace.run("ruleset", "create", "base", environment: ["POLICYCTL_DB": "env.sqlite"])
        let listed = try workspace.run("ruleset", "list", environment: ["POLICYCTL_DB": "env.sqlite"])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("base"))
        #expect(!workspace.exists("policies.sqlite"))
    }
}
