import ContainerPolicyStore
import Foundation
import Testing

@Suite struct DemoCommandTests {
    static let demoFile = "policyctl-demo.sqlite"

    @Test func demoBuildsTheSampleDatabaseAndShowsEachStep() throws {
        let workspace = try Workspace()
        let output = try workspace.succeed("demo")

        for step in 1...7 { #expect(output.contains("\nStep \(step). ")) }
        #expect(output.contains("$ policyctl ruleset create baseline.runtime"))
        #expect(output.contains("--rule TM-00000001:terminate"))
        #expect(output.contains("$ policyctl policy duplicate web.prod\nDuplicated policy web.prod as web.prodPolicy.\n"))
        #expect(output.contains("$ policyctl policy list\nNAME "))
        let refusal = PolicyStoreError.invalidName(.policy, name: "web staging", .space(position: 4))
        #expect(output.contains("$ policyctl policy create 'web staging'\n\(errorLine(refusal))"))
        #expect(output.contains("sqlite3 -cmd 'PRAGMA foreign_keys=ON' -cmd '.timeout 5000' policyctl-demo.sqlite\n"))
        #expect(output.contains("SELECT * FROM policy_overview;"))
        #expect(!output.contains("Replaced"))

        try expectDemoContents(workspace)
        #expect(try workspace.succeed("--db", Self.demoFile, "check").hasPrefix("ok: "))
        let overview = try workspace.sqlite3(Self.demoFile, "SELECT name, xdr_enabled FROM policy_overview;")
        #expect(overview == "web.prod|1\nweb.prodPolicy|0\n")
    }

    @Test func runningTheDemoAgainReplacesTheEarlierDemo() throws {
        let workspace = try Workspace()
        // Who ran the earlier demo does not matter.
        try workspace.succeed("--actor", "someone else", "demo")
        let second = try workspace.succeed("demo")
        #expect(second.contains("Replaced the earlier demo database ./\(Self.demoFile)."))
        try expectDemoContents(workspace)
        #expect(try workspace.succeed("--db", Self.demoFile, "check").hasPrefix("ok: "))
    }

    @Test func aForeignFileOfThatNameIsRefusedAndLeftAlone() throws {
        let workspace = try Workspace()
        let notes = Data("my notes\n".utf8)
        try notes.write(to: workspace.file(Self.demoFile))

        let result = try workspace.run("demo")

        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: \(Self.demoFile) exists and is not an earlier demo database"))
        #expect(result.stderr.contains("move or rename it, or run demo in another directory"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stdout.isEmpty)
        #expect(try workspace.snapshot(Self.demoFile) == [Self.demoFile: notes])
    }

    @Test func aPolicyDatabaseWithObjectsOfItsOwnIsRefusedAndLeftAlone() throws {
        let workspace = try Workspace()
        try workspace.succeed("demo")
        try workspace.succeed("--db", Self.demoFile, "ruleset", "create", "mine")
        let before = try workspace.snapshot(Self.demoFile)

        let result = try workspace.run("demo")

        #expect(result.status == 1)
        #expect(result.stderr == """
            error: \(Self.demoFile) holds the ruleset mine, which the demo does not make, so demo leaves the file \
            alone: move or rename it, or run demo in another directory

            """)
        #expect(try workspace.snapshot(Self.demoFile) == before)
    }

    @Test func aLeftoverWriteAheadLogWithoutItsDatabaseIsRefused() throws {
        let workspace = try Workspace()
        let log = Data("stale".utf8)
        try log.write(to: workspace.file(Self.demoFile + "-wal"))

        let result = try workspace.run("demo")

        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: found \(Self.demoFile)-wal but no \(Self.demoFile)"))
        #expect(!workspace.exists(Self.demoFile))
        #expect(try Data(contentsOf: workspace.file(Self.demoFile + "-wal")) == log)
    }

    @Test func theDemoIgnoresTheDatabaseSetting() throws {
        let workspace = try Workspace()
        try workspace.run(["demo"], environment: ["POLICYCTL_DB": "other.sqlite"])
        #expect(workspace.exists(Self.demoFile))
        #expect(!workspace.exists("other.sqlite"))
        #expect(!workspace.exists("policies.sqlite"))
    }

    private func expectDemoContents(_ workspace: Workspace, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (policies, rulesets) = try workspace.withStore(Self.demoFile) { store in
            (try store.perform(.list(Policy.self)), try store.perform(.list(Ruleset.self)))
        }
        #expect(policies.map(\.name) == ["web.prod", "web.prodPolicy"], sourceLocation: sourceLocation)
        #expect(rulesets.map(\.name) == ["baseline.runtime", "crypto.mining"], sourceLocation: sourceLocation)
        #expect(rulesets.allSatisfy { !$0.rules.isEmpty && !$0.description.isEmpty }, sourceLocation: sourceLocation)
        #expect(Set(rulesets.flatMap(\.rules).map(\.mitigation)).count > 1, sourceLocation: sourceLocation)
        try #require(policies.count == 2, sourceLocation: sourceLocation)
        let (original, copy) = (policies[0], policies[1])
        #expect(original.xdrEnabled && !original.description.isEmpty, sourceLocation: sourceLocation)
        #expect(original.rulesets == ["baseline.runtime", "crypto.mining"], sourceLocation: sourceLocation)
        #expect(!copy.xdrEnabled, sourceLocation: sourceLocation)
        #expect(copy.description != original.description, sourceLocation: sourceLocation)
        #expect(copy.rulesets == ["baseline.runtime"], sourceLocation: sourceLocation)
    }
}
