import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// One test for each rule in shared/reference/product-facts.md, named after it.
@Suite("Product rules") struct ProductRulesTests {
    let store: PolicyStore

    init() throws {
        store = try PolicyStore.inMemory()
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createRuleset(named: "strict", rules: [RuleReference(id: "TM-00000002", mitigation: .isolate)]))
    }

    @Test("A policy holds runtime rulesets only, linked as a set")
    func policyHoldsRuntimeRulesets() throws {
        let policy = try store.perform(.createPolicy(named: "web", rulesets: ["baseline", "strict"]))
        #expect(policy.rulesets == ["baseline", "strict"])
        try expectHealthy(store)
    }

    @Test("xdrEnabled defaults to true")
    func xdrDefaultsToTrue() throws {
        #expect(try store.perform(.createPolicy(named: "web")).xdrEnabled)
        #expect(try store.perform(.createPolicy(named: "api", xdrEnabled: false)).xdrEnabled == false)
        try store.withConnection { connection in
            try connection.run("INSERT INTO policies (name) VALUES ('raw')")
            #expect(try connection.queryFirst("SELECT xdr_enabled FROM policies WHERE name = 'raw'") { $0.int(0) } == 1)
        }
    }

    @Test("The description is optional and stored verbatim")
    func descriptionIsOptional() throws {
        #expect(try store.perform(.createPolicy(named: "web")).description == "")
        let text = "Front end — prod\nline two\t«quoted» 🚀"
        #expect(try store.perform(.createPolicy(named: "api", description: text)).description == text)
        #expect(try store.perform(.fetch(Policy.self, named: "api"))?.description == text)
    }

    @Test("Names are required")
    func namesAreRequired() throws {
        #expect(throws: PolicyStoreError.invalidName(.policy, name: "", .empty)) { try store.perform(.createPolicy(named: "")) }
    }

    @Test("Names contain no spaces")
    func namesContainNoSpaces() throws {
        let error = #expect(throws: PolicyStoreError.invalidName(.policy, name: "web prod", .space(position: 4))) {
            try store.perform(.createPolicy(named: "web prod"))
        }
        #expect(error?.description.contains("contains a space at position 4") == true)
    }

    @Test("Names use only ASCII letters, digits, underscore and period")
    func namesUseOnlyAllowedCharacters() throws {
        #expect(try store.perform(.createPolicy(named: "Web_Prod.v2")).name == "Web_Prod.v2")
        #expect(throws: PolicyStoreError.invalidName(.policy, name: "web-prod", .disallowedCharacter("-", position: 4))) {
            try store.perform(.createPolicy(named: "web-prod"))
        }
        // A Cyrillic 'а' looks like an ASCII 'a' and is refused all the same.
        #expect(throws: PolicyStoreError.invalidName(.policy, name: "w\u{430}b", .disallowedCharacter("\u{430}", position: 2))) {
            try store.perform(.createPolicy(named: "w\u{430}b"))
        }
    }

    @Test("Names are unique among policies, ignoring letter case, and keep their case")
    func namesAreUniqueIgnoringCase() throws {
        #expect(try store.perform(.createPolicy(named: "Prod")).name == "Prod")
        let error = #expect(throws: PolicyStoreError.nameTaken(.policy, name: "prod", existing: "Prod")) {
            try store.perform(.createPolicy(named: "prod"))
        }
        #expect(error?.description.contains("unique ignoring letter case") == true)
        #expect(try store.perform(.fetch(Policy.self, named: "PROD"))?.name == "Prod")
    }

    @Test("Policies and rulesets are separate namespaces")
    func policiesAndRulesetsAreSeparateNamespaces() throws {
        #expect(try store.perform(.createPolicy(named: "baseline")).name == "baseline")
    }

    @Test("Names cannot be changed after creation")
    func namesCannotBeChanged() throws {
        try store.perform(.createPolicy(named: "web"))
        try store.withConnection { connection in
            let error = #expect(throws: SQLiteError.self) {
                try connection.run("UPDATE policies SET name = 'WEB' WHERE name = 'web'")
            }
            #expect(error?.code == .constraintTrigger)
        }
        #expect(try store.perform(.fetch(Policy.self, named: "web"))?.name == "web")
    }

    @Test("Names are 1 to 64 characters, descriptions at most 1,000")
    func lengthLimits() throws {
        let longest = String(repeating: "n", count: 64)
        #expect(try store.perform(.createPolicy(named: longest)).name == longest)
        #expect(throws: PolicyStoreError.invalidName(.policy, name: longest + "n", .tooLong(length: 65))) {
            try store.perform(.createPolicy(named: longest + "n"))
        }
        let fullDescription = String(repeating: "é", count: 1_000)
        #expect(try store.perform(.createPolicy(named: "full", description: fullDescription)).description == fullDescription)
        #expect(throws: PolicyStoreError.invalidDescription(.policy, name: "over", .tooLong(length: 1_001))) {
            try store.perform(.createPolicy(named: "over", description: fullDescription + "x"))
        }
    }

    @Test("Duplicate appends Policy to the name and copies description, XDR and rulesets")
    func duplicateAppendsPolicy() throws {
        let source = try store.perform(.createPolicy(named: "web", description: "Front end", xdrEnabled: false, rulesets: ["baseline", "strict"]))
        let copy = try store.perform(.duplicate(Policy.self, named: "web"))
        #expect(copy.name == "webPolicy")
        #expect(copy.description == source.description)
        #expect(copy.xdrEnabled == false)
        #expect(copy.rulesets == source.rulesets)
        #expect(copy.id != source.id)
        try expectHealthy(store)
    }

    @Test("Duplicated rulesets are referenced, not copied")
    func duplicateReferencesRulesets() throws {
        try store.perform(.createPolicy(named: "web", rulesets: ["baseline"]))
        try store.perform(.duplicate(Policy.self, named: "web"))
        #expect(try store.perform(.count(Ruleset.self)) == 2)
        #expect(try store.perform(.policies(usingRuleset: "baseline")) == ["web", "webPolicy"])
    }

    @Test("A duplicate may be given its own unique name")
    func duplicateWithExplicitName() throws {
        try store.perform(.createPolicy(named: "web"))
        #expect(try store.perform(.duplicate(Policy.self, named: "web", as: "web.staging")).name == "web.staging")
        #expect(throws: PolicyStoreError.nameTaken(.policy, name: "WEB", existing: "web")) {
            try store.perform(.duplicate(Policy.self, named: "web.staging", as: "WEB"))
        }
    }

    @Test("Duplicating fails clearly when the default name is taken or too long, never renaming")
    func duplicateNeverRenames() throws {
        try store.perform(.createPolicy(named: "web"))
        try store.perform(.createPolicy(named: "webPolicy"))
        #expect(throws: PolicyStoreError.nameTaken(.policy, name: "webPolicy", existing: "webPolicy")) {
            try store.perform(.duplicate(Policy.self, named: "web"))
        }
        let long = String(repeating: "x", count: 60)
        try store.perform(.createPolicy(named: long))
        #expect(throws: PolicyStoreError.invalidName(.policy, name: long + "Policy", .tooLong(length: 66))) {
            try store.perform(.duplicate(Policy.self, named: long))
        }
        #expect(try store.perform(.count(Policy.self)) == 3)
    }

    @Test("Adding a ruleset twice is still one link")
    func addingARulesetTwiceIsOneLink() throws {
        #expect(try store.perform(.createPolicy(named: "web", rulesets: ["baseline", "BASELINE", "baseline"])).rulesets == ["baseline"])
        let modified = try store.perform(.modify(Policy.self, named: "web") { $0.addRuleset("Baseline") })
        #expect(modified.rulesets == ["baseline"])
    }

    @Test("Rulesets follow the same name rules")
    func rulesetNameRules() throws {
        #expect(throws: PolicyStoreError.invalidName(.ruleset, name: "my rules", .space(position: 3))) {
            try store.perform(.createRuleset(named: "my rules"))
        }
        #expect(throws: PolicyStoreError.nameTaken(.ruleset, name: "Baseline", existing: "baseline")) {
            try store.perform(.createRuleset(named: "Baseline"))
        }
    }

    @Test("Duplicating a ruleset appends Copy and copies description and rules")
    func rulesetDuplicateAppendsCopy() throws {
        try store.perform(.modify(Ruleset.self, named: "baseline") { $0.description = "The basics" })
        let copy = try store.perform(.duplicate(Ruleset.self, named: "baseline"))
        #expect(copy.name == "baselineCopy")
        #expect(copy.description == "The basics")
        #expect(copy.rules == [RuleReference(id: "TM-00000001", mitigation: .terminate)])
    }

    @Test("A rule ID is TM- followed by 8 digits")
    func ruleIDFormat() throws {
        for bad in ["TM-1", "tm-00000001", "TM-0000000a", "TM-000000001", "XX-00000001", "TM-0000001\u{0}"] {
            #expect(throws: PolicyStoreError.invalidRule(ruleset: "r", ruleID: bad, .malformedID)) {
                try store.perform(.createRuleset(named: "r", rules: [RuleReference(id: bad)]))
            }
        }
        #expect(throws: PolicyStoreError.invalidRule(ruleset: "r", ruleID: "TM-00000009", .duplicate)) {
            try store.perform(.createRuleset(named: "r", rules: [RuleReference(id: "TM-00000009"), RuleReference(id: "TM-00000009", mitigation: .isolate)]))
        }
    }

    @Test("Mitigation is log, isolate or terminate, default log")
    func mitigationDefaultsToLog() throws {
        #expect(Mitigation.allCases.map(\.rawValue) == ["log", "isolate", "terminate"])
        let ruleset = try store.perform(.createRuleset(named: "r", rules: [RuleReference(id: "TM-00000010")]))
        #expect(ruleset.rules.first?.mitigation == .log)
    }

    @Test("Deleting a ruleset that a policy uses is refused, naming the policies")
    func deletingARulesetInUseIsRefused() throws {
        try store.perform(.createPolicy(named: "web", rulesets: ["baseline"]))
        try store.perform(.createPolicy(named: "api", rulesets: ["baseline"]))
        let error = #expect(throws: PolicyStoreError.rulesetInUse(ruleset: "baseline", policies: ["api", "web"])) {
            try store.perform(.delete(Ruleset.self, named: "baseline"))
        }
        #expect(error?.description.contains("\"api\", \"web\"") == true)
        try store.perform(.delete(Ruleset.self, named: "strict"))
        #expect(try store.perform(.fetch(Ruleset.self, named: "strict")) == nil)
    }

    @Test("Amazon ECS policies do not support Deployment, Continuous or namespaced policies, nor labels")
    func unsupportedFeaturesExplainThemselves() {
        for feature in UnsupportedFeature.allCases {
            let text = PolicyStoreError.unsupportedOnAmazonECS(feature, detail: "policies[0]").description
            #expect(text.hasPrefix("policies[0]: "))
            #expect(text.contains("Amazon ECS") && text.contains("remove them"))
        }
    }
}
