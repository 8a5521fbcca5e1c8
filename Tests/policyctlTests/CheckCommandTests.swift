import ContainerPolicyStore
import Foundation
import Testing

@Suite struct CheckCommandTests {
    @Test func aHealthyDatabasePasses() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let before = try workspace.snapshot()
        let output = try workspace.succeed("check")
        #expect(output == "ok: ./policies.sqlite passed integrity_check, foreign_key_check and the domain checks.\n")
        #expect(try workspace.snapshot() == before)
    }

    @Test func rowsWrittenPastTheChecksAreReportedAndExit1() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        // The shell can switch CHECK constraints off; the domain re-check still sees the name.
        try workspace.sqlite3(
            "policies.sqlite", "PRAGMA ignore_check_constraints = ON; INSERT INTO policies (name) VALUES ('bad name');")
        let findings = try workspace.withStore { try $0.perform(.checkIntegrity()) }
        #expect(!findings.isEmpty)

        let result = try workspace.run("check")
        #expect(result.status == 1)
        #expect(result.stdout == findings.map { "\($0)\n" }.joined())
        let domain = PolicyStoreError.invalidName(.policy, name: "bad name", .space(position: 4))
        #expect(result.stdout.contains("domain: \(domain)\n"))
        #expect(result.stderr == "error: ./policies.sqlite has \(findings.count) problem\(findings.count == 1 ? "" : "s")\n")
    }
}
