import ContainerPolicyStore
import Foundation
import Testing

/// Only create commands, `import` and `demo` make a database file; the others say it is
/// missing. (`import` is tested with the other interchange commands.)
@Suite struct MissingDatabaseTests {
    static let commandsThatNeedADatabase: [[String]] = [
        ["policy", "list"], ["policy", "list", "--json"], ["policy", "show", "web"],
        ["policy", "modify", "web", "--xdr", "off"], ["policy", "delete", "web"], ["policy", "duplicate", "web"],
        ["ruleset", "list"], ["ruleset", "show", "base"], ["ruleset", "modify", "base", "--description", "d"],
        ["ruleset", "delete", "base"], ["ruleset", "duplicate", "base"], ["check"],
        ["policy", "history", "web"], ["policy", "restore", "web", "--revision", "1"], ["ruleset", "history", "base"],
        ["cluster", "assign", "arn:aws:ecs:us-east-1:123456789012:cluster/web", "--policy", "web"],
        ["cluster", "unassign", "arn:aws:ecs:us-east-1:123456789012:cluster/web"], ["cluster", "list"],
        ["export"], ["export", "--output", "out.json"], ["graph"], ["graph", "--format", "dot", "--policy", "web"],
    ]

    @Test(arguments: commandsThatNeedADatabase)
    func missingDatabaseIsRefusedAndNotCreated(command: [String]) throws {
        let workspace = try Workspace()
        let result = try workspace.run(command)
        #expect(result.status == 1)
        #expect(result.stderr == errorLine(.databaseNotFound(path: "./policies.sqlite")))
        #expect(result.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path).isEmpty)
    }

    @Test func missingDatabaseNamedByDbIsReportedByThatPath() throws {
        let workspace = try Workspace()
        let result = try workspace.run("--db", "elsewhere.sqlite", "policy", "list")
        #expect(result.stderr == errorLine(.databaseNotFound(path: "elsewhere.sqlite")))
        #expect(!workspace.exists("elsewhere.sqlite"))
    }

    @Test(arguments: [["policy", "create", "web"], ["ruleset", "create", "base", "--rule", "TM-00000001"]])
    func createMakesTheDatabase(command: [String]) throws {
        let workspace = try Workspace()
        let result = try workspace.run(command)
        #expect(result.status == 0)
        #expect(workspace.exists("policies.sqlite"))
        #expect(try workspace.succeed("check").hasPrefix("ok: "))
    }

    @Test(arguments: [
        ["policy", "create", "web prod"], ["policy", "create", "web", "--ruleset", "missing"],
        ["ruleset", "create", "base", "--rule", "TM-1"],
    ])
    func aRefusedCreateLeavesNoFileBehind(command: [String]) throws {
        let workspace = try Workspace()
        let result = try workspace.run(command)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path).isEmpty)
    }
}
