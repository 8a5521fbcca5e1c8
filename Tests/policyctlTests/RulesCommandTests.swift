import ContainerPolicyStore
import Foundation
import Testing

/// The API's answer to `GET /v3.0/containerSecurity/managedRules`, two pages one after the
/// other, as Docs/cli.md's examples use it.
let managedRulePagesFile = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appending(path: "Docs/examples/managed-rules-pages.json")

/// The documented `--json` shape of a managed rule.
struct ManagedRuleRecord: Decodable, Equatable {
    let id: String
    let name: String
    let description: String
    let techniques: [String]
    let importedDateTime: String

    static let keys: Set = ["id", "name", "description", "techniques", "otherFields", "importedDateTime"]
}

struct ManagedRuleList: Decodable {
    let managedRules: [ManagedRuleRecord]
}

@Suite struct RulesCommandTests {
    /// A workspace whose database holds the catalogue of the API's two pages.
    func workspaceWithCatalogue() throws -> Workspace {
        let workspace = try Workspace()
        let output = try workspace.succeed("rules", "import", managedRulePagesFile.path)
        #expect(output == "Imported 10 managed rules into ./policies.sqlite: 10 added, 0 changed, 0 removed, 0 unchanged.\n")
        return workspace
    }

    @Test func importCreatesTheDatabaseThenListAndShowTheRules() throws {
        let workspace = try workspaceWithCatalogue()
        let listed = try workspace.succeed("rules", "list").split(separator: "\n").map(String.init)
        #expect(listed.count == 11)
        #expect(listed.prefix(3) == [
            "ID           TECHNIQUES  NAME",
            "TM-00000001  T1611       (T1611)Switch Linux namespace",
            "TM-00000005  T1609       (T1609) Docker or Kubernetes client executed in container",
        ])
        let rules = try workspace.json(ManagedRuleList.self, "rules", "list", "--json").managedRules
        #expect(rules.map(\.id) == ["01", "05", "12", "23", "31", "32", "40", "41", "47", "50"].map { "TM-000000" + $0 })
        #expect(rules.allSatisfy { isSchemaTimestamp($0.importedDateTime) })
        #expect(try workspace.jsonKeys("rules", "show", "TM-00000040", "--json") == ManagedRuleRecord.keys)

        try workspace.succeed("ruleset", "create", "base", "--rule", "TM-00000040:terminate")
        let shown = try workspace.succeed("rules", "show", "TM-00000040").split(separator: "\n").map(String.init)
        let rule = try workspace.json(ManagedRuleRecord.self, "rules", "show", "TM-00000040", "--json")
        #expect(shown.prefix(6) == [
            "Rule          TM-00000040",
            "Name          (T1055.008) PTRACE attached to process",
            "Description   A process attached to another with ptrace.",
            "Techniques    T1055.008",
            "Used by       base",
            "Imported      \(rule.importedDateTime)",
        ])
        #expect(shown.last?.hasPrefix(#"Other fields  {"mitre":[{"tacticId":"TA0004""#) == true)
    }

    @Test func theListMayComeOnStandardInputAndAReimportSaysWhatChanged() throws {
        let workspace = try workspaceWithCatalogue()
        let pages = try String(contentsOf: managedRulePagesFile, encoding: .utf8)
        let changed = pages.replacingOccurrences(of: "(T1611)Switch Linux namespace", with: "(T1611) Switch Linux namespace")
        let result = try workspace.run("rules", "import", "-", input: Data(changed.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Imported 10 managed rules into ./policies.sqlite: 0 added, 1 changed, 0 removed, 9 unchanged.\n")
        #expect(try workspace.json(ManagedRuleRecord.self, "rules", "show", "TM-00000001", "--json").name == "(T1611) Switch Linux namespace")
    }

    @Test func aBadListIsRefusedWithEveryProblemAndNothingIsWritten() throws {
        let workspace = try workspaceWithCatalogue()
        let before = try workspace.snapshot()
        let bad = #"""
            {"items": [{"id": "TM-1", "name": "short"}, {"id": "TM-00000002"}], "nextLink": "https://example.invalid/2"}
            """#
        try Data(bad.utf8).write(to: workspace.file("bad.json"))
        let result = try workspace.run("rules", "import", "bad.json")
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == """
            error: the managed-rule list has 3 problems; fix them and try again:
              pages[0].items[0].id: "TM-1" is not a managed rule ID: TM- followed by 8 digits, like TM-00000001
              pages[0].items[1].name: missing: every managed rule has a name
              pages[0].nextLink: the last page links to a next one, so the list is incomplete: fetch every nextLink until a page has none, and give all the pages in one file

            """)
        #expect(try workspace.snapshot() == before)
    }

    @Test func aRefusedImportLeavesNoNewFileBehind() throws {
        let workspace = try Workspace()
        let result = try workspace.run("rules", "import", "-", input: Data(#"{"items": [{"id": "TM-00000001"}]}"#.utf8))
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: the managed-rule list has 1 problem;"))
        #expect(!workspace.exists("policies.sqlite"))
    }

    @Test func aListThatLacksARuleInUseIsRefusedNamingTheRulesets() throws {
        let workspace = try Workspace()
        try workspace.succeed("ruleset", "create", "base", "--rule", "TM-00000077")
        try workspace.succeed("ruleset", "create", "strict", "--rule", "TM-00000077:terminate")
        let before = try workspace.snapshot()
        let result = try workspace.run("rules", "import", managedRulePagesFile.path)
        #expect(result.status == 1)
        #expect(result.stderr == errorLine(.catalogueLacksRulesInUse([RuleUsage(ruleID: "TM-00000077", rulesets: ["base", "strict"])])))
        #expect(result.stderr.contains(#"TM-00000077 (rulesets "base", "strict")"#))
        #expect(try workspace.snapshot() == before)
    }

    @Test func aRulesetMayApplyOnlyTheCataloguesRules() throws {
        let workspace = try workspaceWithCatalogue()
        let created = try workspace.run("ruleset", "create", "base", "--rule", "TM-00000021")
        #expect(created.status == 1)
        #expect(created.stderr == """
            error: the rule "TM-00000021" in ruleset "base" is not in the managed-rule catalogue: use an ID it lists; the closest are \
            TM-00000023, TM-00000012, TM-00000031; see 'policyctl rules list'

            """)
        try workspace.succeed("ruleset", "create", "base", "--rule", "TM-00000023")
        let before = try workspace.snapshot()
        let modified = try workspace.run("ruleset", "modify", "base", "--add-rule", "TM-00000042:isolate")
        #expect(modified.status == 1)
        #expect(modified.stderr.contains("the closest are TM-00000041, TM-00000040, TM-00000047"))
        #expect(try workspace.snapshot() == before)
    }

    @Test func rulesetShowAndPolicyShowNameEachRule() throws {
        let workspace = try workspaceWithCatalogue()
        try workspace.succeed("ruleset", "create", "base", "--rule", "TM-00000001:terminate", "--rule", "TM-00000031")
        try workspace.succeed("ruleset", "create", "net", "--rule", "TM-00000012:isolate")
        try workspace.succeed("policy", "create", "web", "--ruleset", "base", "--ruleset", "net")

        let ruleset = try workspace.succeed("ruleset", "show", "base").split(separator: "\n").map(String.init)
        #expect(ruleset[2...3] == [
            "Rules        TM-00000001:terminate  (T1611)Switch Linux namespace",
            "             TM-00000031:log        (T1021.004)Lateral Movement using SSH",
        ])
        #expect(try workspace.jsonKeys("ruleset", "show", "base", "--json") == RulesetDocument.keys.union(["ruleNames"]))
        let rulesetJSON = try #require(
            try JSONSerialization.jsonObject(with: Data(try workspace.succeed("ruleset", "show", "base", "--json").utf8)) as? [String: Any])
        #expect(rulesetJSON["ruleNames"] as? [String: String] == [
            "TM-00000001": "(T1611)Switch Linux namespace", "TM-00000031": "(T1021.004)Lateral Movement using SSH",
        ])
        #expect(try workspace.json(RulesetDocument.self, "ruleset", "show", "base", "--json").rules.count == 2)

        let policy = try workspace.succeed("policy", "show", "web").split(separator: "\n").map(String.init)
        #expect(policy[3...6] == [
            "Rulesets          base, net",
            "Rules             TM-00000001  (T1611)Switch Linux namespace",
            "                  TM-00000012  (T1552.005) Contact EC2 Instance Metadata Service From Container",
            "                  TM-00000031  (T1021.004)Lateral Movement using SSH",
        ])
        #expect(try workspace.jsonKeys("policy", "show", "web", "--json") == PolicyDocument.shownKeys.union(["ruleNames"]))
        let policyJSON = try #require(
            try JSONSerialization.jsonObject(with: Data(try workspace.succeed("policy", "show", "web", "--json").utf8)) as? [String: Any])
        #expect((policyJSON["ruleNames"] as? [String: String])?.keys.sorted() == ["TM-00000001", "TM-00000012", "TM-00000031"])
    }

    @Test func withoutACatalogueRulesSaySoAndShowIsAsBefore() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        #expect(try workspace.succeed("rules", "list") == "No managed rules: no catalogue was imported (see 'policyctl rules import').\n")
        #expect(try workspace.succeed("rules", "list", "--json") == "{\n  \"managedRules\": []\n}\n")
        let missing = try workspace.run("rules", "show", "TM-00000001")
        #expect(missing.status == 1)
        #expect(missing.stderr == errorLine(.managedRuleNotFound(id: "TM-00000001", closest: [])))
        #expect(missing.stderr.contains("import the catalogue with 'policyctl rules import FILE'"))
        #expect(try workspace.jsonKeys("ruleset", "show", "base", "--json") == RulesetDocument.keys)
        #expect(try workspace.jsonKeys("policy", "show", "web", "--json") == PolicyDocument.shownKeys)
    }

    @Test func anUnknownIDIsRefusedWithTheClosest() throws {
        let workspace = try workspaceWithCatalogue()
        let result = try workspace.run("rules", "show", "TM-00000044")
        #expect(result.status == 1)
        #expect(result.stderr == errorLine(.managedRuleNotFound(id: "TM-00000044", closest: ["TM-00000041", "TM-00000047", "TM-00000040"])))
    }

    @Test func textFromTheListIsSafeForATerminal() throws {
        let workspace = try Workspace()
        let list = #"{"items": [{"id": "TM-00000001", "name": "evil\u202Eeman", "note": "x\u202Ey"}]}"#
        let imported = try workspace.run("rules", "import", "-", input: Data(list.utf8))
        #expect(imported.status == 0, "\(imported.stderr)")
        let listed = try workspace.succeed("rules", "list")
        #expect(listed.contains(#"evil\u{202E}eman"#) && !listed.unicodeScalars.contains("\u{202E}"))
        let shown = try workspace.succeed("rules", "show", "TM-00000001")
        #expect(shown.contains(#"Other fields  {"note":"x\u{202E}y"}"#) && !shown.unicodeScalars.contains("\u{202E}"))
        let json = try workspace.succeed("rules", "show", "TM-00000001", "--json")
        #expect(json.contains(#""note": "x\u202ey""#))
    }

    @Test func anEndlessListStopsAtTheLimit() throws {
        let workspace = try Workspace()
        let result = try workspace.run(
            "rules", "import", "-", input: Data(repeating: 0x20, count: ManagedRuleCatalogue.maximumSize + 1))
        #expect(result.status == 1)
        #expect(result.stderr == """
            error: cannot read standard input: the document is larger than 16777216 bytes (16 MiB), the limit of a managed-rule list

            """)
        #expect(!workspace.exists("policies.sqlite"))
    }

    @Test func checkReportsARulesetRuleThatTheCatalogueLacks() throws {
        let workspace = try Workspace()
        try workspace.succeed("ruleset", "create", "early", "--rule", "TM-00000007")
        // A first catalogue typed in the shell may lack a rule already in use.
        try workspace.sqlite3("policies.sqlite", "INSERT INTO managed_rules (id, name) VALUES ('TM-00000001', 'one');")
        let result = try workspace.run("check")
        #expect(result.status == 1)
        #expect(result.stdout == """
            domain: the ruleset "early" applies TM-00000007, which the managed-rule catalogue does not hold: remove the rule from the ruleset, or import a list that holds it

            """)
        #expect(result.stderr == "error: ./policies.sqlite has 1 problem\n")
    }
}
