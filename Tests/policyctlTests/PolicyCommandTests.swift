import ContainerPolicyStore
import Foundation
import Testing

@Suite struct PolicyCommandTests {
    @Test func createThenShowAsJSON() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let output = try workspace.succeed(
            "policy", "create", "api.prod", "--description", "API servers", "--xdr", "off",
            "--ruleset", "base", "--ruleset", "SPARE")
        #expect(output == "Created policy api.prod.\n")

        let policy = try workspace.json(PolicyDocument.self, "policy", "show", "api.prod", "--json")
        #expect(policy.name == "api.prod")
        #expect(policy.description == "API servers")
        #expect(policy.xdrEnabled == false)
        #expect(policy.rulesetNames == ["base", "spare"])
        #expect(policy.revision >= 1)
        for timestamp in [policy.createdDateTime, policy.updatedDateTime, policy.rulesetsUpdatedDateTime] {
            #expect(isSchemaTimestamp(timestamp), "\(timestamp)")
        }
        #expect(policy.clusters == [])
        #expect(try workspace.jsonKeys("policy", "show", "api.prod", "--json") == PolicyDocument.shownKeys)
    }

    @Test func createDefaultsToXDROnNoDescriptionNoRulesets() throws {
        let workspace = try Workspace()
        try workspace.succeed("policy", "create", "plain")
        let policy = try workspace.json(PolicyDocument.self, "policy", "show", "plain", "--json")
        #expect(policy.xdrEnabled)
        #expect(policy.description.isEmpty)
        #expect(policy.rulesetNames.isEmpty)
    }

    @Test func jsonTimestampsAreTheStoredText() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "modify", "web", "--add-ruleset", "spare")
        let policy = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        let stored = try workspace.sqlite3(
            "policies.sqlite", "SELECT created_at, updated_at, rulesets_updated_at FROM policies WHERE name = 'web'")
        #expect(stored == "\(policy.createdDateTime)|\(policy.updatedDateTime)|\(policy.rulesetsUpdatedDateTime)\n")
    }

    @Test func showAsText() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let policy = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        let lines = try workspace.succeed("policy", "show", "WEB").split(separator: "\n").map(String.init)
        #expect(lines == [
            "Policy            web",
            "Description       Front end",
            "XDR Telemetry     on",
            "Rulesets          base",
            "Clusters          -",
            "Revision          \(policy.revision)",
            "Created           \(policy.createdDateTime)",
            "Updated           \(policy.updatedDateTime)",
            "Rulesets updated  \(policy.rulesetsUpdatedDateTime)",
        ])
    }

    @Test func listIsATableWithTheDescriptionUnderTheName() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "create", "api", "--xdr", "off", "--ruleset", "base", "--ruleset", "spare")
        try workspace.succeed("policy", "create", "batch", "--description", "Nightly jobs\nand reports")
        #expect(try workspace.succeed("policy", "list") == """
            NAME   XDR  RULESETS
            api    off  base, spare
            batch  on   -
              Nightly jobs\\nand reports
            web    on   base
              Front end

            """)
    }

    @Test func listOfNoPolicies() throws {
        let workspace = try Workspace()
        try workspace.succeed("ruleset", "create", "base")
        #expect(try workspace.succeed("policy", "list") == "No policies.\n")
        #expect(try workspace.json(PolicyList.self, "policy", "list", "--json").policies.isEmpty)
    }

    @Test func listPagesThroughEveryPolicyInNameOrder() throws {
        let workspace = try Workspace()
        try workspace.succeed("ruleset", "create", "base")
        // More than two pages of the CLI's 100, in mixed letter case: the order ignores case.
        let names = (0..<250).map { ($0.isMultiple(of: 3) ? "P" : "p") + String(1_000 + $0).dropFirst() }
        try workspace.withStore { store in
            try store.write { tx in
                for name in names.shuffled() { try tx.createPolicy(named: name, rulesets: ["base"]) }
            }
        }
        let expected = names.sorted { $0.lowercased() < $1.lowercased() }

        let listed = try workspace.json(PolicyList.self, "policy", "list", "--json").policies
        #expect(listed.map(\.name) == expected)
        #expect(listed.allSatisfy { $0.rulesetNames == ["base"] })

        let rows = try workspace.succeed("policy", "list").split(separator: "\n").dropFirst()
        #expect(rows.map { String($0.prefix(4)) } == expected)
    }

    @Test func listJSONHasTheDocumentedShape() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        #expect(try workspace.jsonKeys("policy", "list", "--json") == ["policies"])
        let output = try workspace.succeed("policy", "list", "--json")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [[String: Any]]])
        let web = try #require(list["policies"]?.first)
        #expect(Set(web.keys) == PolicyDocument.keys)
        #expect(web["runtime"] as? [String: [[String: String]]] == ["rulesets": [["name": "base"]]])
        #expect(web["xdrEnabled"] as? Bool == true)
        #expect(!output.contains(" \n"), "no trailing spaces")
    }

    @Test func duplicateAppendsPolicyOrTakesTheGivenName() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        #expect(try workspace.succeed("policy", "duplicate", "web") == "Duplicated policy web as webPolicy.\n")
        #expect(try workspace.succeed("policy", "duplicate", "web", "--as", "web.staging")
            == "Duplicated policy web as web.staging.\n")

        let source = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        for copyName in ["webPolicy", "web.staging"] {
            let copy = try workspace.json(PolicyDocument.self, "policy", "show", copyName, "--json")
            #expect(copy.description == source.description)
            #expect(copy.xdrEnabled == source.xdrEnabled)
            #expect(copy.rulesetNames == source.rulesetNames)
        }
    }

    @Test func modifyChangesDescriptionXDRAndRulesets() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let before = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        let output = try workspace.succeed(
            "policy", "modify", "web", "--description", "Front end, v2", "--xdr", "off",
            "--remove-ruleset", "base", "--add-ruleset", "spare", "--expect-revision", String(before.revision))
        let after = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        #expect(output == "Modified policy web: now at revision \(after.revision).\n")
        #expect(after.revision > before.revision)
        #expect(after.description == "Front end, v2")
        #expect(after.xdrEnabled == false)
        #expect(after.rulesetNames == ["spare"])
        #expect(after.createdDateTime == before.createdDateTime)
    }

    @Test func modifyLeavesWhatIsNotGiven() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "modify", "web", "--xdr", "off")
        let policy = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        #expect(policy.description == "Front end")
        #expect(policy.rulesetNames == ["base"])
        #expect(policy.xdrEnabled == false)
    }

    @Test func deleteRemovesThePolicyAndKeepsItsRulesets() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        #expect(try workspace.succeed("policy", "delete", "web") == "Deleted policy web.\n")
        #expect(try workspace.json(PolicyList.self, "policy", "list", "--json").policies.isEmpty)
        #expect(try workspace.json(RulesetList.self, "ruleset", "list", "--json").rulesets.map(\.name) == ["base", "spare"])
        #expect(try workspace.run("policy", "show", "web").status == 1)
    }
}
