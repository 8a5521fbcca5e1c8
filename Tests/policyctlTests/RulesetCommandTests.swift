import ContainerPolicyStore
import Foundation
import Testing

@Suite struct RulesetCommandTests {
    @Test func createWithRulesThenShowAsJSON() throws {
        let workspace = try Workspace()
        let output = try workspace.succeed(
            "ruleset", "create", "escapes", "--description", "Container escapes",
            "--rule", "TM-00000005:isolate", "--rule", "TM-00000001:terminate", "--rule", "TM-00000012")
        #expect(output == "Created ruleset escapes.\n")

        let ruleset = try workspace.json(RulesetDocument.self, "ruleset", "show", "escapes", "--json")
        #expect(ruleset.name == "escapes")
        #expect(ruleset.description == "Container escapes")
        #expect(ruleset.rules == [
            .init(id: "TM-00000001", mitigation: "terminate"),
            .init(id: "TM-00000005", mitigation: "isolate"),
            .init(id: "TM-00000012", mitigation: "log"),
        ])
        #expect(ruleset.revision >= 1)
        #expect(isSchemaTimestamp(ruleset.createdDateTime) && isSchemaTimestamp(ruleset.updatedDateTime))
        #expect(try workspace.jsonKeys("ruleset", "show", "escapes", "--json") == RulesetDocument.keys)

        let stored = try workspace.sqlite3("policies.sqlite", "SELECT created_at, updated_at FROM rulesets")
        #expect(stored == "\(ruleset.createdDateTime)|\(ruleset.updatedDateTime)\n")
    }

    @Test func showAsTextNamesThePoliciesThatUseIt() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "duplicate", "web")
        let ruleset = try workspace.json(RulesetDocument.self, "ruleset", "show", "base", "--json")
        let lines = try workspace.succeed("ruleset", "show", "base").split(separator: "\n").map(String.init)
        #expect(lines == [
            "Ruleset      base",
            "Description  Base rules",
            "Rules        TM-00000001:terminate",
            "Used by      web, webPolicy",
            "Revision     \(ruleset.revision)",
            "Created      \(ruleset.createdDateTime)",
            "Updated      \(ruleset.updatedDateTime)",
        ])
    }

    @Test func listIsATableOfRules() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("ruleset", "create", "mining", "--rule", "TM-00000023:terminate", "--rule", "TM-00000031")
        #expect(try workspace.succeed("ruleset", "list") == """
            NAME    RULES
            base    TM-00000001:terminate
              Base rules
            mining  TM-00000023:terminate, TM-00000031:log
            spare   -

            """)
    }

    @Test func listJSONPagesThroughEveryRuleset() throws {
        let workspace = try Workspace()
        let names = (0..<230).map { "rs" + String(1_000 + $0).dropFirst() }
        try workspace.succeed("ruleset", "create", "seed")
        try workspace.withStore { store in
            try store.write { tx in
                for name in names.reversed() {
                    try tx.createRuleset(named: name, rules: [RuleReference(id: "TM-00000007", mitigation: .isolate)])
                }
            }
        }
        #expect(try workspace.jsonKeys("ruleset", "list", "--json") == ["rulesets"])
        let listed = try workspace.json(RulesetList.self, "ruleset", "list", "--json").rulesets
        #expect(listed.map(\.name) == names + ["seed"])
        #expect(listed.dropLast().allSatisfy { $0.rules == [.init(id: "TM-00000007", mitigation: "isolate")] })
        #expect(listed.last?.rules == [])
    }

    @Test func listOfNoRulesets() throws {
        let workspace = try Workspace()
        try workspace.succeed("policy", "create", "web")
        #expect(try workspace.succeed("ruleset", "list") == "No rulesets.\n")
        #expect(try workspace.succeed("ruleset", "list", "--json") == "{\n  \"rulesets\": []\n}\n")
    }

    @Test func duplicateAppendsCopyOrTakesTheGivenName() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        #expect(try workspace.succeed("ruleset", "duplicate", "base") == "Duplicated ruleset base as baseCopy.\n")
        try workspace.succeed("ruleset", "duplicate", "base", "--as", "strict")
        let source = try workspace.json(RulesetDocument.self, "ruleset", "show", "base", "--json")
        for copyName in ["baseCopy", "strict"] {
            let copy = try workspace.json(RulesetDocument.self, "ruleset", "show", copyName, "--json")
            #expect(copy.description == source.description)
            #expect(copy.rules == source.rules)
        }
    }

    @Test func modifyChangesDescriptionAndRules() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("ruleset", "modify", "base", "--add-rule", "TM-00000002", "--add-rule", "TM-00000003:isolate")
        let before = try workspace.json(RulesetDocument.self, "ruleset", "show", "base", "--json")
        // Removals apply first, so remove-and-add changes a rule's mitigation.
        let output = try workspace.succeed(
            "ruleset", "modify", "base", "--description", "Base rules, v2", "--remove-rule", "TM-00000002",
            "--remove-rule", "TM-00000001", "--add-rule", "TM-00000001:log", "--expect-revision", String(before.revision))
        let after = try workspace.json(RulesetDocument.self, "ruleset", "show", "base", "--json")
        #expect(output == "Modified ruleset base: now at revision \(after.revision).\n")
        #expect(after.revision > before.revision)
        #expect(after.description == "Base rules, v2")
        #expect(after.rules == [
            .init(id: "TM-00000001", mitigation: "log"), .init(id: "TM-00000003", mitigation: "isolate"),
        ])
    }

    @Test func deleteOnceNoPolicyUsesIt() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        #expect(try workspace.succeed("ruleset", "delete", "spare") == "Deleted ruleset spare.\n")
        try workspace.succeed("policy", "modify", "web", "--remove-ruleset", "base")
        try workspace.succeed("ruleset", "delete", "base")
        #expect(try workspace.json(RulesetList.self, "ruleset", "list", "--json").rulesets.isEmpty)
    }
}
