import ContainerPolicyStore
import Foundation
import Testing

/// A removal of something that is not there is refused, like the additions of something
/// that does not exist; a modify that changes nothing says so and writes nothing (issue 12).
@Suite struct NoChangeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let expected: String
        var testDescription: String { arguments.joined(separator: " ") }

        init(_ arguments: String..., expected: String) {
            self.arguments = arguments
            self.expected = expected
        }
    }

    static let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"

    /// The sample database, with `web` at revision 1 and the cluster `arn` using it.
    func sample() throws -> Workspace {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try workspace.withStore { store in
            try store.write { tx in
                try tx.assignPolicy(named: "web", toCluster: Self.arn)
                try tx.assignPolicy(named: "web", toCluster: Self.arn + "2")
                try tx.unassignCluster(arn: Self.arn + "2")
            }
        }
        return workspace
    }

    static let refusedRemovals = [
        Case(
            "policy", "modify", "web", "--remove-ruleset", "basline",
            expected: #"error: the policy "web" has no ruleset "basline" to remove: its rulesets are "base""#),
        Case(
            "policy", "modify", "web", "--xdr", "off", "--remove-ruleset", "spare",
            expected: #"error: the policy "web" has no ruleset "spare" to remove: its rulesets are "base""#),
        Case(
            "policy", "modify", "web", "--remove-ruleset", "base", "--remove-ruleset", "gone", "--remove-ruleset", "other",
            expected: #"error: the policy "web" has no rulesets "gone", "other" to remove: its rulesets are "base""#),
        Case(
            "ruleset", "modify", "base", "--remove-rule", "TM-1",
            expected: #"error: the ruleset "base" has no rule "TM-1" to remove: its rules are TM-00000001"#),
        Case(
            "ruleset", "modify", "base", "--description", "new", "--remove-rule", "TM-00000002",
            expected: #"error: the ruleset "base" has no rule "TM-00000002" to remove: its rules are TM-00000001"#),
        Case(
            "ruleset", "modify", "spare", "--remove-rule", "TM-00000001",
            expected: #"error: the ruleset "spare" has no rule "TM-00000001" to remove: it has no rules"#),
    ]

    @Test(arguments: refusedRemovals)
    func aRemovalOfWhatIsNotThereIsRefused(refusal: Case) throws {
        let workspace = try sample()
        let before = try workspace.snapshot()
        let result = try workspace.run(refusal.arguments)
        #expect(result.status == 1)
        #expect(result.stderr == refusal.expected + "\n")
        #expect(result.stdout.isEmpty)
        #expect(try workspace.snapshot() == before)
    }

    static let unchanged = [
        Case("policy", "modify", "web", expected: "No change: policy web is already as asked; it stays at revision 1."),
        Case("policy", "modify", "web", "--xdr", "on", expected: "No change: policy web is already as asked; it stays at revision 1."),
        Case(
            "policy", "modify", "web", "--description", "Front end", "--add-ruleset", "BASE",
            expected: "No change: policy web is already as asked; it stays at revision 1."),
        Case(
            "policy", "modify", "web", "--remove-ruleset", "base", "--add-ruleset", "base", "--expect-revision", "1",
            expected: "No change: policy web is already as asked; it stays at revision 1."),
        Case(
            "ruleset", "modify", "base", "--description", "Base rules",
            expected: "No change: ruleset base is already as asked; it stays at revision 1."),
        Case(
            "ruleset", "modify", "base", "--remove-rule", "TM-00000001", "--add-rule", "TM-00000001:terminate",
            expected: "No change: ruleset base is already as asked; it stays at revision 1."),
        Case(
            "policy", "restore", "web", "--revision", "1",
            expected: "No change: policy web is already as it was at revision 1; it stays at revision 1."),
        Case("cluster", "assign", arn, "--policy", "WEB", expected: "No change: cluster \(arn) already uses policy web."),
        Case("cluster", "unassign", arn + "2", expected: "No change: cluster \(arn)2 has no policy already."),
    ]

    @Test(arguments: unchanged)
    func aModifyThatChangesNothingSaysSoAndWritesNothing(change: Case) throws {
        let workspace = try sample()
        let before = try workspace.snapshot()
        let output = try workspace.succeed(change.arguments)
        #expect(output.hasPrefix(change.expected + "\n"), "\(output)")
        #expect(try workspace.snapshot() == before)
    }

    /// The twins that do change something still report it.
    @Test func aRealChangeIsStillReported() throws {
        let workspace = try sample()
        #expect(try workspace.succeed("policy", "modify", "web", "--remove-ruleset", "BASE") == "Modified policy web: now at revision 2.\n")
        #expect(try workspace.succeed("ruleset", "modify", "base", "--remove-rule", "TM-00000001") == "Modified ruleset base: now at revision 2.\n")
        #expect(try workspace.succeed("cluster", "unassign", Self.arn) == "Cluster \(Self.arn) has no policy now.\n")
    }
}
