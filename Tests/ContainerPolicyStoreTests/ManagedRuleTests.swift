import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// The API's answer to `GET /v3.0/containerSecurity/managedRules` in two pages, one after the
/// other, shaped as Docs/examples/managed-rules-pages.json says (the reference's page shape;
/// the MITRE field's name is a guess, as the product publishes none).
func managedRulePages() throws -> Data {
    try Data(contentsOf: packageRoot.appendingPathComponent("Docs/examples/managed-rules-pages.json"))
}

/// One page of the API's listing holding `items`, the last unless `nextLink` is given.
func managedRulePage(_ items: [String], totalCount: Int? = nil, nextLink: String? = nil) -> String {
    var fields = [#""items": [\#(items.joined(separator: ", "))]"#, #""count": \#(items.count)"#]
    if let totalCount { fields.append(#""totalCount": \#(totalCount)"#) }
    if let nextLink { fields.append(#""nextLink": "\#(nextLink)""#) }
    return "{" + fields.joined(separator: ", ") + "}"
}

func managedRuleItem(_ id: String, _ name: String, extra: String = "") -> String {
    #"{"id": "\#(id)", "name": "\#(name)", "description": "About \#(name)"\#(extra)}"#
}

@Suite struct ManagedRuleTests {
    let store: PolicyStore

    init() throws {
        store = try PolicyStore.inMemory()
    }

    func importFixture() throws -> ManagedRuleImport {
        try store.perform(.importManagedRules(try ManagedRuleCatalogue(json: try managedRulePages())))
    }

    // MARK: Reading the API's pages

    @Test func theAPIsPagesReadAsTheyCameEveryFieldKept() throws {
        let catalogue = try ManagedRuleCatalogue(json: try managedRulePages())
        #expect(catalogue.rules.count == 10)
        #expect(catalogue.rules.map(\.id) == catalogue.rules.map(\.id).sorted())
        let ptrace = try #require(catalogue.rules.first { $0.id == "TM-00000040" })
        #expect(ptrace.name == "(T1055.008) PTRACE attached to process")
        #expect(ptrace.description == "A process attached to another with ptrace.")
        #expect(ptrace.techniques == ["T1055.008"])
        #expect(ptrace.importedAt == nil)
        let others = try #require(try JSONSerialization.jsonObject(with: Data(ptrace.otherFields.utf8)) as? [String: Any])
        #expect(Set(others.keys) == ["mitre", "createdDateTime", "updatedDateTime"])
        #expect((others["mitre"] as? [[String: String]])?.map { $0["tacticId"] } == ["TA0004", "TA0005"])
        #expect(ptrace.otherFields.hasPrefix(#"{"mitre":[{"tacticId":"TA0004","#), "kept in the order it came, compact")
    }

    @Test func pagesMayFollowEachOtherWithoutSpaceOrStandAlone() throws {
        let first = managedRulePage([managedRuleItem("TM-00000002", "two")], totalCount: 2, nextLink: "https://example.invalid/next")
        let last = managedRulePage([managedRuleItem("TM-00000001", "one")], totalCount: 2)
        let joined = try ManagedRuleCatalogue(json: Data((first + last).utf8))
        #expect(joined.rules.map(\.id) == ["TM-00000001", "TM-00000002"])
        let alone = managedRulePage([managedRuleItem("TM-00000001", "one")], totalCount: 1)
        let single = try ManagedRuleCatalogue(json: Data(("\n" + alone + "\n").utf8))
        #expect(single.rules.map(\.name) == ["one"])
    }

    @Test(arguments: [
        #""mitre": [{"techniqueId": "T1609"}]"#,
        #""mitreTechniques": ["T1609"]"#,
        #""attackTechnique": "T1609 Container Administration Command""#,
        #""mitreMapping": {"tactics": [{"id": "TA0002", "techniques": [{"id": "T1609"}]}]}"#,
    ])
    func theMITREMappingIsReadWhateverItIsCalled(mapping: String) throws {
        let page = managedRulePage([managedRuleItem("TM-00000005", "docker", extra: ", " + mapping + #", "notes": "not T1611""#)])
        let rule = try #require(try ManagedRuleCatalogue(json: Data(page.utf8)).rules.first)
        #expect(rule.techniques == ["T1609"], "only fields named for the mapping are read for techniques")
        #expect(rule.otherFields.contains("T1611"), "the other fields are kept all the same")
    }

    @Test func techniqueIDsStandApartFromOtherText() {
        let value = JSONValue.array([
            .string("T1552.005, T1059"), .string("XT1234"), .string("T12345"), .string("T1070.0021"), .string("(T1611)Switch"),
        ])
        #expect(ManagedRuleRules.techniques(in: value) == ["T1059", "T1070", "T1552.005", "T1611"])
    }

    @Test func everyProblemOfTheListIsReportedWithItsPath() throws {
        let first = managedRulePage(
            [
                managedRuleItem("TM-00000001", "one"), #"{"id": "TM-1", "name": "short id"}"#, #"{"id": "TM-00000003"}"#,
                #""not an object""#, #"{"id": "TM-00000004", "name": "line\nbreak", "description": 7}"#,
            ],
            nextLink: "https://example.invalid/2")
        let last = managedRulePage([managedRuleItem("TM-00000001", "again")], nextLink: "https://example.invalid/3")
        #expect(throws: PolicyStoreError.invalidCatalogue([
            DocumentProblem(path: "pages[0].items[1].id", message: #""TM-1" is not a managed rule ID: TM- followed by 8 digits, like TM-00000001"#),
            DocumentProblem(path: "pages[0].items[2].name", message: "missing: every managed rule has a name"),
            DocumentProblem(path: "pages[0].items[3]", message: "expected an object, found a string"),
            DocumentProblem(path: "pages[0].items[4].description", message: "expected a string, found a number"),
            DocumentProblem(
                path: "pages[0].items[4].name",
                message: "has a control character at position 5: a name is one line without control characters"),
            DocumentProblem(
                path: "pages[1].items[0].id",
                message: #""TM-00000001" is listed already at pages[0].items[0].id: a page is given twice, or the list changed while it was fetched"#),
            DocumentProblem(
                path: "pages[1].nextLink",
                message: "the last page links to a next one, so the list is incomplete: fetch every nextLink until a page has none, and give all the pages in one file"),
        ])) {
            try ManagedRuleCatalogue(json: Data((first + "\n" + last).utf8))
        }
    }

    @Test func aMissingPageIsSeenInTheCounts() throws {
        let short = managedRulePage([managedRuleItem("TM-00000001", "one")], totalCount: 3)
        #expect(throws: PolicyStoreError.invalidCatalogue([DocumentProblem(
            path: "pages[0].totalCount",
            message: "says 3 managed rules, but the pages hold 1: a page is missing or given twice; fetch the list again")])) {
            try ManagedRuleCatalogue(json: Data(short.utf8))
        }
        let miscounted = #"{"items": [], "count": 2}"#
        #expect(throws: PolicyStoreError.invalidCatalogue([DocumentProblem(
            path: "pages[0].count", message: "says 2 items, but the page holds 0: fetch the page again")])) {
            try ManagedRuleCatalogue(json: Data(miscounted.utf8))
        }
    }

    @Test(arguments: [
        ("", "$", "the file holds no JSON: give the API's answer to GET /v3.0/containerSecurity/managedRules, every page of it"),
        (#"{"items": [}"#, "$", "not valid JSON at line 1, column 12: unexpected character"),
        (#"{"rulesets": [], "policies": []}"#, "pages[0]", "has no items: it is not a page of the managedRules API (give its answer as it came)"),
        (#"{"items": {}}"#, "pages[0].items", "expected an array, found an object"),
        ("[]", "pages[0]", "expected an object, found an array"),
    ])
    func whatIsNotAListOfManagedRulesIsRefused(text: String, path: String, message: String) throws {
        #expect(throws: PolicyStoreError.invalidCatalogue([DocumentProblem(path: path, message: message)])) {
            try ManagedRuleCatalogue(json: Data(text.utf8))
        }
    }

    @Test func aFileLargerThanTheLimitIsNotParsed() throws {
        let huge = Data(repeating: 0x20, count: ManagedRuleCatalogue.maximumSize + 1)
        #expect(throws: PolicyStoreError.invalidCatalogue([DocumentProblem(
            path: "$", message: "the file is \(huge.count) bytes; the limit is \(ManagedRuleCatalogue.maximumSize)")])) {
            try ManagedRuleCatalogue(json: huge)
        }
    }

    // MARK: Importing

    @Test func importReplacesTheWholeCatalogueInPlace() throws {
        #expect(try importFixture() == ManagedRuleImport(
            added: try ManagedRuleCatalogue(json: try managedRulePages()).rules.map(\.id), changed: [], removed: [], unchanged: 0))
        #expect(try store.perform(.managedRuleCount()) == 10)
        let first = try #require(try store.perform(.managedRule(id: "TM-00000001")))
        #expect(first.importedAt != nil && first.damage.isEmpty && first.techniques == ["T1611"])

        var rules = try ManagedRuleCatalogue(json: try managedRulePages()).rules.filter { $0.id != "TM-00000050" }
        rules[0].name = "(T1611) Switch Linux namespace"
        rules[1].techniques = ["T1609", "T1610"]
        rules.append(ManagedRule(id: "TM-00000060", name: "new rule"))
        let result = try store.perform(.importManagedRules(ManagedRuleCatalogue(rules: rules)))
        #expect(result == ManagedRuleImport(
            added: ["TM-00000060"], changed: ["TM-00000001", "TM-00000005"], removed: ["TM-00000050"], unchanged: 7))
        #expect(result.description == "10 managed rules: 1 added, 2 changed, 1 removed, 7 unchanged")
        #expect(try store.perform(.managedRule(id: "TM-00000050")) == nil)
        #expect(try store.perform(.managedRule(id: "TM-00000001"))?.name == "(T1611) Switch Linux namespace")
        #expect(try store.perform(.managedRule(id: "TM-00000005"))?.techniques == ["T1609", "T1610"])
        let again = try store.perform(.importManagedRules(ManagedRuleCatalogue(rules: rules)))
        #expect(again.unchanged == 10 && again.added.isEmpty && again.changed.isEmpty && again.removed.isEmpty)
        try expectHealthy(store)
    }

    @Test func aListThatLacksRulesInUseIsRefusedAndNothingIsWritten() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try makeStore(in: directory)
        try store.perform(.importManagedRules(ManagedRuleCatalogue(rules: [
            ManagedRule(id: "TM-00000001", name: "one"), ManagedRule(id: "TM-00000002", name: "two"),
            ManagedRule(id: "TM-00000003", name: "three"),
        ])))
        try store.perform(.createRuleset(named: "base", rules: [RuleReference(id: "TM-00000001"), RuleReference(id: "TM-00000002")]))
        try store.perform(.createRuleset(named: "strict", rules: [RuleReference(id: "TM-00000002", mitigation: .terminate)]))
        let before = try snapshot(store)
        let error = PolicyStoreError.catalogueLacksRulesInUse([
            RuleUsage(ruleID: "TM-00000001", rulesets: ["base"]), RuleUsage(ruleID: "TM-00000002", rulesets: ["base", "strict"]),
        ])
        #expect(throws: error) {
            try store.perform(.importManagedRules(ManagedRuleCatalogue(rules: [ManagedRule(id: "TM-00000003", name: "three, renamed")])))
        }
        #expect(error.description.contains(#"TM-00000002 (rulesets "base", "strict")"#))
        #expect(try snapshot(store) == before)
    }

    @Test func anEmptyListRemovesTheCatalogueAndItsCheck() throws {
        _ = try importFixture()
        #expect(throws: PolicyStoreError.self) { try store.perform(.createRuleset(named: "odd", rules: [RuleReference(id: "TM-00000099")])) }
        #expect(try store.perform(.importManagedRules(ManagedRuleCatalogue(json: Data(#"{"items": []}"#.utf8)))).removed.count == 10)
        #expect(try store.perform(.managedRuleCount()) == 0)
        #expect(try store.perform(.createRuleset(named: "odd", rules: [RuleReference(id: "TM-00000099")])).rules.count == 1)
    }

    @Test func aCatalogueMadeInCodeIsCheckedAsTheFileIs() throws {
        let catalogue = ManagedRuleCatalogue(rules: [
            ManagedRule(id: "TM-00000001", name: ""), ManagedRule(id: "TM-00000001", name: "twice", techniques: ["T99"]),
        ])
        #expect(throws: PolicyStoreError.invalidCatalogue([
            DocumentProblem(path: "rules[0].name", message: "is empty: every managed rule needs a name"),
            DocumentProblem(path: "rules[1].techniques", message: #""T99" is not an ATT&CK technique ID like T1609 or T1552.005"#),
            DocumentProblem(path: "rules[1].id", message: #""TM-00000001" is listed already at rules[0].id: list each rule once"#),
        ])) {
            try store.perform(.importManagedRules(catalogue))
        }
        #expect(try store.perform(.managedRuleCount()) == 0)
    }

    // MARK: Rulesets and the catalogue

    @Test func withoutACatalogueAnyWellFormedRuleIDIsAcceptedAsBefore() throws {
        try store.perform(.createRuleset(named: "base", rules: [RuleReference(id: "TM-12345678")]))
        try store.perform(.modify(Ruleset.self, named: "base") { $0.rules.append(RuleReference(id: "TM-87654321")) })
        #expect(try store.perform(.ruleNames(forRuleset: "base")) == nil)
        #expect(try store.perform(.fetch(Ruleset.self, named: "base"))?.rules.count == 2)
    }

    @Test func aRuleTheCatalogueLacksIsRefusedWithTheClosestIDs() throws {
        _ = try importFixture()
        try store.perform(.createRuleset(named: "base", rules: [RuleReference(id: "TM-00000001")]))
        let refusal = PolicyStoreError.unknownManagedRule(
            ruleset: "base", ruleID: "TM-00000042", closest: ["TM-00000041", "TM-00000040", "TM-00000047"])
        #expect(throws: refusal) { try store.perform(.modify(Ruleset.self, named: "base") { $0.rules.append(RuleReference(id: "TM-00000042")) }) }
        #expect(refusal.description == #"the rule "TM-00000042" in ruleset "base" is not in the managed-rule catalogue: use an ID it lists; the closest are TM-00000041, TM-00000040, TM-00000047"#)
        #expect(throws: PolicyStoreError.unknownManagedRule(
            ruleset: "new", ruleID: "TM-00000021", closest: ["TM-00000023", "TM-00000012", "TM-00000031"])) {
            try store.perform(.createRuleset(named: "new", rules: [RuleReference(id: "TM-00000021")]))
        }
        let document = PolicyDocument(rulesets: [PolicyDocument.RulesetEntry(name: "doc", content: RulesetContent(rules: [RuleReference(id: "TM-00000099")]))])
        #expect(throws: PolicyStoreError.unknownManagedRule(
            ruleset: "doc", ruleID: "TM-00000099", closest: ["TM-00000050", "TM-00000047", "TM-00000041"])) {
            try store.perform(.importDocument(document))
        }
        #expect(try store.perform(.count(Ruleset.self)) == 1)
        #expect(try store.perform(.fetch(Ruleset.self, named: "base"))?.rules == [RuleReference(id: "TM-00000001")])
    }

    @Test func closestIDsCountASwapOfDigitsAsOneEdit() {
        #expect(ManagedRuleRules.editDistance(Array("00000021".utf8), Array("00000012".utf8)) == 1)
        #expect(ManagedRuleRules.editDistance(Array("00000021".utf8), Array("00000121".utf8)) == 1)
        #expect(ManagedRuleRules.editDistance(Array("00000021".utf8), Array("00009921".utf8)) == 2)
        let ids = ["TM-00000100", "TM-00000012", "TM-00009921", "TM-00000020"]
        #expect(ManagedRuleRules.closest(to: "TM-00000021", among: ids) == ["TM-00000020", "TM-00000012", "TM-00009921"])
        #expect(ManagedRuleRules.closest(to: "TM-00000021", among: []) == [])
    }

    @Test func namesForShowingARulesetOrAPolicy() throws {
        _ = try importFixture()
        try store.perform(.createRuleset(named: "base", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createRuleset(named: "net", rules: [RuleReference(id: "TM-00000031"), RuleReference(id: "TM-00000001")]))
        try store.perform(.createPolicy(named: "web", rulesets: ["base", "net"]))
        #expect(try store.perform(.ruleNames(forRuleset: "base")) == ["TM-00000001": "(T1611)Switch Linux namespace"])
        #expect(try store.perform(.ruleNames(forPolicy: "web")) == [
            "TM-00000001": "(T1611)Switch Linux namespace", "TM-00000031": "(T1021.004)Lateral Movement using SSH",
        ])
        #expect(try store.perform(.rulesets(applyingRule: "TM-00000001")) == ["base", "net"])
        #expect(throws: PolicyStoreError.notFound(.policy, name: "api")) { try store.perform(.ruleNames(forPolicy: "api")) }
        #expect(throws: PolicyStoreError.notFound(.ruleset, name: "none")) { try store.perform(.ruleNames(forRuleset: "none")) }
    }

    @Test func theCatalogueIsReadInPagesByID() throws {
        _ = try importFixture()
        let first = try store.perform(.managedRules(limit: 4))
        #expect(first.map(\.id) == ["TM-00000001", "TM-00000005", "TM-00000012", "TM-00000023"])
        let rest = try store.perform(.managedRules(after: first.last?.id, limit: 100))
        #expect(rest.count == 6 && rest.first?.id == "TM-00000031")
        #expect(try store.perform(.managedRuleIDs(closestTo: "TM-00000013", limit: 1)) == ["TM-00000012"])
        #expect(throws: PolicyStoreError.invalidPageSize(0)) { try store.perform(.managedRules(limit: 0)) }
    }

    @Test func aManagedRuleEncodesItsOtherFieldsAsTheObjectTheyAre() throws {
        _ = try importFixture()
        let rule = try #require(try store.perform(.managedRule(id: "TM-00000005")))
        let json = try #require(try JSONSerialization.jsonObject(with: ProductJSON.data(rule)) as? [String: Any])
        #expect(Set(json.keys) == ["id", "name", "description", "techniques", "otherFields", "importedDateTime"])
        #expect(((json["otherFields"] as? [String: Any])?["mitre"] as? [Any])?.count == 1)
        let decoded = try JSONDecoder().decode(ManagedRule.self, from: JSONEncoder().encode(rule))
        #expect(decoded.id == rule.id && decoded.name == rule.name && decoded.techniques == rule.techniques)
        #expect(decoded.importedAt == rule.importedAt)
        func sortedJSON(_ text: String) throws -> Data {
            try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Data(text.utf8)), options: [.sortedKeys])
        }
        #expect(try sortedJSON(decoded.otherFields) == sortedJSON(rule.otherFields))
    }
}
