import ContainerPolicyStore
import Foundation
import Testing

/// `policyctl history` (every object) and `history --follow`, which prints each change as it
/// is committed, by any program, until it is interrupted.
@Suite struct FollowCommandTests {
    let workspace: Workspace

    /// The sample database: changes 1 and 2 create the rulesets `base` and `spare`, 3 the
    /// policy `web`.
    init() throws {
        workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary(actor: "setup")
    }

    /// Edits `web` in the sqlite3 shell until the follower prints a line, and returns it. (A
    /// follower starts at the end of the history, which it reads as it starts: an edit made
    /// before that is not one it prints.)
    func shellEditUntilALine(_ follower: FollowingRun) throws -> String {
        for _ in 0..<40 {
            try workspace.sqlite3("policies.sqlite", "UPDATE policies SET xdr_enabled = 1 - xdr_enabled WHERE name = 'web';")
            if let line = follower.nextLine(timeout: 0.5) { return line }
        }
        throw FollowerSilent()
    }

    struct FollowerSilent: Error {}

    @Test func followPrintsAShellEditMadeWhileItRunsAndEndsOnSIGINT() throws {
        let follower = try FollowingRun(["history", "--follow"], in: workspace)
        let line = try shellEditUntilALine(follower)
        let fields = line.components(separatedBy: "  ")
        #expect(fields.count == 7, "\(line)")
        let sequence = try #require(Int(fields[0]))
        #expect(sequence > 3)
        let change = try #require(try workspace.withStore { try $0.perform(.changes(after: sequence - 1, limit: 1)) }.first)
        #expect(fields[1] == Timestamp.text(from: change.changedAt))
        let xdr = change.after?.policy?.xdrEnabled == true ? "on" : "off"
        #expect(Array(fields.dropFirst(2)) == ["policy web", "modify", "revision \(change.revision)", "by -", "xdrEnabled \(xdr)"])

        follower.send(SIGINT)
        #expect(follower.ending() == .exited(0))
        #expect(follower.errorOutput.isEmpty)
        let rest = follower.rest()
        #expect(rest.isEmpty || rest.hasSuffix("\n"), "an unfinished line: \(rest)")
    }

    @Test func followOfOnePolicyPrintsItsChangesAsJSONLinesFromASequence() throws {
        let follower = try FollowingRun(["policy", "history", "WEB", "--follow", "--json", "--from", "2"], in: workspace)
        try workspace.succeed("ruleset", "modify", "spare", "--description", "not web", "--actor", "alice")
        try workspace.succeed("policy", "modify", "web", "--xdr", "off", "--actor", "alice")
        try workspace.sqlite3("policies.sqlite", "UPDATE policies SET description = 'from the shell' WHERE name = 'web';")
        let lines = (0..<3).compactMap { _ in follower.nextLine() }
        let changes = try lines.map { try JSONDecoder().decode(Change.self, from: Data($0.utf8)) }
        #expect(changes.map(\.sequence) == [3, 5, 6])
        #expect(changes.allSatisfy { $0.kind == .policy && $0.name == "web" })
        #expect(changes.map(\.actor) == ["setup", "alice", ""])
        #expect(changes.last?.after?.policy?.description == "from the shell")
        #expect(lines.allSatisfy { !$0.contains("\n") && $0.hasPrefix("{\"sequence\":") })

        follower.send(SIGTERM)
        #expect(follower.ending() == .exited(0))
        #expect(follower.errorOutput.isEmpty)
    }

    /// A reader that goes away (`| head -1`) ends the follower as it ends any command: with
    /// SIGPIPE at its next line, and nothing on stderr.
    @Test func aReaderThatGoesAwayEndsTheFollowerQuietly() throws {
        let follower = try FollowingRun(["history", "--follow", "--from", "1"], in: workspace)
        #expect(follower.nextLine()?.hasPrefix("1  ") == true)
        follower.closeOutput()
        try workspace.succeed("policy", "modify", "web", "--xdr", "off")
        #expect(follower.ending() == .signalled(SIGPIPE))
        #expect(follower.errorOutput.isEmpty)
    }

    @Test func followOfAMissingPolicyIsRefused() throws {
        let result = try workspace.run("policy", "history", "nope", "--follow")
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: there is no policy named \"nope\""))
    }

    /// A cluster's assigns and unassigns are in its history and in its policy's, so both
    /// follows print them: one line each, with the policy instead of a revision.
    @Test func followOfAClusterAndOfItsPolicyPrintTheClustersChanges() throws {
        let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
        try workspace.succeed("cluster", "assign", arn, "--policy", "web", "--actor", "alice")
        let ofCluster = try FollowingRun(["cluster", "history", arn, "--follow", "--from", "4"], in: workspace)
        let ofPolicy = try FollowingRun(["policy", "history", "web", "--follow", "--from", "4"], in: workspace)
        try workspace.succeed("policy", "modify", "web", "--xdr", "off", "--actor", "alice")
        try workspace.succeed("cluster", "unassign", arn, "--actor", "bob")

        func fields(_ line: String?) -> [String] { Array((line ?? "").components(separatedBy: "  ").dropFirst(2)) }
        let assigned = ["cluster \(arn)", "assign", "policy web", "by alice"]
        let unassigned = ["cluster \(arn)", "unassign", "policy web", "by bob"]
        #expect(fields(ofCluster.nextLine()) == assigned)
        #expect(fields(ofCluster.nextLine()) == unassigned)
        #expect(fields(ofPolicy.nextLine()) == assigned)
        #expect(fields(ofPolicy.nextLine()) == ["policy web", "modify", "revision 2", "by alice", "xdrEnabled off"])
        #expect(fields(ofPolicy.nextLine()) == unassigned)
        for follower in [ofCluster, ofPolicy] {
            follower.send(SIGINT)
            #expect(follower.ending() == .exited(0))
            #expect(follower.errorOutput.isEmpty)
        }

        let missing = try workspace.run("cluster", "history", "arn:aws:ecs:us-east-1:123456789012:cluster/nope", "--follow")
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: there is no cluster"))
    }

    @Test func historyListsEveryObjectsChangesInSequenceOrder() throws {
        let table = try workspace.succeed("history").split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(table.first == ["SEQUENCE", "TIME", "KIND", "NAME", "ACTION", "REVISION", "ACTOR", "CHANGES"])
        #expect(table.dropFirst().map { [$0[0], $0[2], $0[3], $0[4], $0[6]] } == [
            ["1", "ruleset", "base", "create", "setup"], ["2", "ruleset", "spare", "create", "setup"],
            ["3", "policy", "web", "create", "setup"],
        ])

        struct Listing: Decodable { let changes: [Change] }
        let listing = try workspace.json(Listing.self, "history", "--json")
        #expect(listing.changes.map(\.sequence) == [1, 2, 3])
        #expect(listing.changes == (try workspace.withStore { try $0.perform(.changes(after: 0, limit: 10)) }))
        #expect(try workspace.json(Listing.self, "history", "--json", "--from", "3").changes.map(\.name) == ["web"])
        #expect(try workspace.succeed("policy", "history", "web", "--from", "4").hasPrefix("No recorded changes"))

        let usage = try workspace.run("history", "--from", "0")
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("--from takes the sequence of a change, 1 or more, not 0"))
    }

    @Test func historyOfADatabaseWithoutChangesSaysSo() throws {
        try PolicyStore(path: workspace.file("empty.sqlite").path).close()
        #expect(try workspace.succeed("history", "--db", "empty.sqlite") == "No recorded changes.\n")
        #expect(try workspace.succeed("history", "--db", "empty.sqlite", "--json") == "{\n  \"changes\": []\n}\n")
    }
}
