import Foundation
import Testing

/// `demo` replaces only a file that holds nothing but what an earlier demo made: its
/// objects as the demo left them, no clusters, and a history of the demo's own changes.
/// Anything else is refused, and the file left byte for byte (issue 12).
@Suite struct DemoFileTests {
    static let demoFile = "policyctl-demo.sqlite"
    static let advice = "so demo leaves the file alone: move or rename it, or run demo in another directory"

    /// Runs `changes` on an earlier demo file, then the demo again, which must refuse with
    /// `reason` and leave every byte as it was.
    func expectRefusal(_ reason: String, after changes: [[String]]) throws {
        let workspace = try Workspace()
        try workspace.succeed("demo")
        for change in changes { try workspace.succeed(["--db", Self.demoFile] + change) }
        let before = try workspace.snapshot(Self.demoFile)

        let result = try workspace.run("demo")

        #expect(result.status == 1)
        #expect(result.stderr == "error: \(Self.demoFile) holds \(reason), \(Self.advice)\n")
        #expect(result.stdout.isEmpty)
        #expect(try workspace.snapshot(Self.demoFile) == before)
    }

    @Test func aDemoFileWithAClusterIsRefused() throws {
        let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
        try expectRefusal(
            "the cluster \(arn), which the demo does not make", after: [["cluster", "assign", arn, "--policy", "web.prod"]])
    }

    @Test func aDemoFileWithAManagedRuleCatalogueIsRefused() throws {
        try expectRefusal(
            "a managed-rule catalogue, which the demo does not make", after: [["rules", "import", managedRulePagesFile.path]])
    }

    @Test func aDemoFileWhosePolicyWasChangedIsRefused() throws {
        try expectRefusal(
            "changes to the policy web.prod that the demo did not make",
            after: [["policy", "modify", "web.prod", "--description", "mine now"]])
    }

    @Test func aDemoFileWhoseRulesetWasChangedIsRefused() throws {
        try expectRefusal(
            "changes to the ruleset crypto.mining that the demo did not make",
            after: [["ruleset", "modify", "crypto.mining", "--add-rule", "TM-00000099"]])
    }

    /// Changed and changed back: the objects are the demo's, the history is not.
    @Test func aDemoFileWithAHistoryOfOtherChangesIsRefused() throws {
        try expectRefusal(
            "changes to the policy web.prodPolicy that the demo did not make",
            after: [["policy", "modify", "web.prodPolicy", "--xdr", "on"], ["policy", "modify", "web.prodPolicy", "--xdr", "off"]])
    }

    @Test func aDemoFileWithADeletedDemoObjectIsRefused() throws {
        try expectRefusal(
            "changes to the policy web.prodPolicy that the demo did not make", after: [["policy", "delete", "web.prodPolicy"]])
    }
}
