import ContainerPolicyStore
import Foundation
import Testing

/// Every refusal prints the library's error as one `error:` line, exits 1 and leaves the
/// database byte for byte as it was.
@Suite struct RefusalTests {
    struct Refusal: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        /// The library error, given the sample database (for revisions, which it decides).
        let expected: @Sendable (PolicyStore) throws -> PolicyStoreError
        var testDescription: String { arguments.joined(separator: " ") }

        init(_ arguments: String..., expected: @escaping @Sendable (PolicyStore) throws -> PolicyStoreError) {
            self.arguments = arguments
            self.expected = expected
        }

        init(_ arguments: String..., expected: PolicyStoreError) {
            self.arguments = arguments
            self.expected = { _ in expected }
        }
    }

    static let longDescription = String(repeating: "x", count: DescriptionRules.maximumLength + 1)

    static let refusals = [
        // Policies
        Refusal("policy", "create", "web prod", expected: .invalidName(.policy, name: "web prod", .space(position: 4))),
        Refusal(
            "policy", "create", "web-prod",
            expected: .invalidName(.policy, name: "web-prod", .disallowedCharacter("-", position: 4))),
        Refusal("policy", "create", "", expected: .invalidName(.policy, name: "", .empty)),
        Refusal("policy", "create", "WEB", expected: .nameTaken(.policy, name: "WEB", existing: "web")),
        Refusal("policy", "create", "api", "--ruleset", "missing", expected: .notFound(.ruleset, name: "missing")),
        Refusal(
            "policy", "create", "api", "--description", longDescription,
            expected: .invalidDescription(.policy, name: "api", .tooLong(length: DescriptionRules.maximumLength + 1))),
        Refusal("policy", "duplicate", "missing", expected: .notFound(.policy, name: "missing")),
        Refusal("policy", "duplicate", "web", "--as", "Web", expected: .nameTaken(.policy, name: "Web", existing: "web")),
        Refusal(
            "policy", "duplicate", "web", "--as", "web copy",
            expected: .invalidName(.policy, name: "web copy", .space(position: 4))),
        Refusal("policy", "modify", "missing", "--xdr", "off", expected: .notFound(.policy, name: "missing")),
        Refusal("policy", "modify", "web", "--add-ruleset", "missing", expected: .notFound(.ruleset, name: "missing")),
        Refusal("policy", "modify", "web", "--xdr", "off", "--expect-revision", "99") { store in
            let revision = try #require(try store.perform(.fetch(Policy.self, named: "web"))).revision
            return .revisionConflict(.policy, name: "web", expected: 99, actual: revision)
        },
        Refusal("policy", "delete", "missing", expected: .notFound(.policy, name: "missing")),
        Refusal("policy", "show", "missing", expected: .notFound(.policy, name: "missing")),
        Refusal("policy", "show", "missing", "--json", expected: .notFound(.policy, name: "missing")),
        // Rulesets
        Refusal("ruleset", "create", "a b", expected: .invalidName(.ruleset, name: "a b", .space(position: 2))),
        Refusal("ruleset", "create", "BASE", expected: .nameTaken(.ruleset, name: "BASE", existing: "base")),
        Refusal(
            "ruleset", "create", "r", "--rule", "TM-1", expected: .invalidRule(ruleset: "r", ruleID: "TM-1", .malformedID)),
        Refusal(
            "ruleset", "create", "r", "--rule", "TM-00000001", "--rule", "TM-00000001:terminate",
            expected: .invalidRule(ruleset: "r", ruleID: "TM-00000001", .duplicate)),
        Refusal("ruleset", "duplicate", "missing", expected: .notFound(.ruleset, name: "missing")),
        Refusal(
            "ruleset", "duplicate", "base", "--as", "spare",
            expected: .nameTaken(.ruleset, name: "spare", existing: "spare")),
        Refusal("ruleset", "modify", "missing", expected: .notFound(.ruleset, name: "missing")),
        Refusal(
            "ruleset", "modify", "base", "--add-rule", "TM-00000001:isolate",
            expected: .invalidRule(ruleset: "base", ruleID: "TM-00000001", .duplicate)),
        Refusal(
            "ruleset", "modify", "base", "--add-rule", "TM-0000000X",
            expected: .invalidRule(ruleset: "base", ruleID: "TM-0000000X", .malformedID)),
        Refusal(
            "ruleset", "modify", "base", "--description", longDescription,
            expected: .invalidDescription(.ruleset, name: "base", .tooLong(length: DescriptionRules.maximumLength + 1))),
        Refusal("ruleset", "modify", "base", "--description", "new", "--expect-revision", "0") { store in
            let revision = try #require(try store.perform(.fetch(Ruleset.self, named: "base"))).revision
            return .revisionConflict(.ruleset, name: "base", expected: 0, actual: revision)
        },
        Refusal("ruleset", "delete", "base", expected: .rulesetInUse(ruleset: "base", policies: ["web"])),
        Refusal("ruleset", "delete", "missing", expected: .notFound(.ruleset, name: "missing")),
        Refusal("ruleset", "show", "missing", expected: .notFound(.ruleset, name: "missing")),
        Refusal("ruleset", "history", "missing", expected: .notFound(.ruleset, name: "missing")),
        // History and restore
        Refusal("policy", "history", "missing", expected: .notFound(.policy, name: "missing")),
        Refusal("policy", "history", "missing", "--json", expected: .notFound(.policy, name: "missing")),
        Refusal("policy", "restore", "missing", "--revision", "1", expected: .notFound(.policy, name: "missing")),
        Refusal("policy", "restore", "web", "--revision", "99") { store in
            let life = try #require(try store.perform(.history(ofPolicy: "web")).first?.life)
            return .unknownRevision(.policy, name: "web", revision: 99, life: life, livesWithRevision: [])
        },
        // Clusters
        Refusal(
            "cluster", "assign", "arn:aws:ecs:us-east-1:12345678901:cluster/web", "--policy", "web",
            expected: .invalidClusterARN("arn:aws:ecs:us-east-1:12345678901:cluster/web", .malformedAccount)),
        Refusal(
            "cluster", "assign", "arn:aws:ecs:US-east-1:123456789012:cluster/web", "--policy", "web",
            expected: .invalidClusterARN("arn:aws:ecs:US-east-1:123456789012:cluster/web", .malformedRegion)),
        Refusal(
            "cluster", "assign", "arn:aws:ecs:us-east-1:123456789012:cluster/web.prod", "--policy", "web",
            expected: .invalidClusterARN("arn:aws:ecs:us-east-1:123456789012:cluster/web.prod", .malformedClusterName)),
        Refusal(
            "cluster", "assign", "arn:aws:eks:us-east-1:123456789012:cluster/web", "--policy", "web",
            expected: .invalidClusterARN("arn:aws:eks:us-east-1:123456789012:cluster/web", .notAnECSClusterARN)),
        Refusal(
            "cluster", "assign", "arn:aws:ecs:us-east-1:123456789012:cluster/web", "--policy", "missing",
            expected: .notFound(.policy, name: "missing")),
        Refusal(
            "cluster", "unassign", "arn:aws:ecs:us-east-1:123456789012:cluster/web",
            expected: .notFound(.cluster, name: "arn:aws:ecs:us-east-1:123456789012:cluster/web")),
    ]

    @Test(arguments: refusals)
    func refusalPrintsTheLibraryErrorExits1AndChangesNothing(refusal: Refusal) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let expected = try workspace.withStore { try refusal.expected($0) }
        let before = try workspace.snapshot()

        let result = try workspace.run(refusal.arguments)

        #expect(result.status == 1)
        #expect(result.stderr == errorLine(expected))
        #expect(result.stdout.isEmpty)
        #expect(try workspace.snapshot() == before)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedAndLeftAlone() throws {
        let workspace = try Workspace()
        let text = Data("not a database, just notes\n".utf8)
        try text.write(to: workspace.database)
        for arguments in [["policy", "list"], ["policy", "create", "web"], ["check"]] {
            let result = try workspace.run(arguments)
            #expect(result.status == 1)
            #expect(result.stderr == errorLine(.incompatibleDatabase(path: "./policies.sqlite", .notADatabase)))
            #expect(try workspace.snapshot() == ["policies.sqlite": text])
        }
    }
}
