import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

@Suite struct InterchangeTests {
    func document(_ json: String) throws(PolicyStoreError) -> PolicyDocument {
        try PolicyDocument(json: Data(json.utf8))
    }

    /// The problems a refused document reports, or a recorded issue when it is accepted.
    func refusal(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> [DocumentProblem] {
        let error = #expect(throws: PolicyStoreError.self, sourceLocation: sourceLocation) { try document(json) }
        guard case .invalidDocument(let problems)? = error else { return [] }
        return problems
    }

    func problems(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        refusal(json, sourceLocation: sourceLocation).map(\.description)
    }

    func populatedStore(policies: Int, rulesets: Int) throws -> PolicyStore {
        let store = try PolicyStore.inMemory()
        try store.write { tx in
            for index in 0..<rulesets {
                try tx.createRuleset(
                    named: "rs\(index)", description: "ruleset \(index)",
                    rules: [RuleReference(id: String(format: "TM-%08d", index), mitigation: Mitigation.allCases[index % 3])])
            }
            for index in 0..<policies {
                try tx.createPolicy(
                    named: "policy\(index)", description: index.isMultiple(of: 7) ? "" : "Policy \(index) «ü»\n\"quoted\"",
                    xdrEnabled: !index.isMultiple(of: 3),
                    rulesets: (0..<5).map { "rs\((index * 5 + $0) % rulesets)" })
            }
        }
        return store
    }

    @Test func aThousandPoliciesRoundTripByteForByte() throws {
        let source = try populatedStore(policies: 1_000, rulesets: 100)
        let exported = try source.perform(.export())
        #expect(try source.perform(.export()) == exported)

        let target = try PolicyStore.inMemory()
        let plan = try target.perform(.importDocument(try PolicyDocument(json: exported)))
        #expect(plan.steps.count == 1_100 && plan.unchanged == 0 && plan.applied)
        #expect(try target.perform(.export()) == exported)
        #expect(try target.perform(.exportDocument()) == source.perform(.exportDocument()))

        // Importing what was exported changes nothing: no revision moves.
        let before = try snapshot(source)
        let again = try source.perform(.importDocument(try PolicyDocument(json: exported)))
        #expect(again.steps.isEmpty)
        #expect(again.unchanged == 1_100)
        #expect(try snapshot(source) == before)
        try expectHealthy(target)
    }

    @Test func exportIsSortedAndLaidOutTheSameEveryTime() throws {
        let store = try PolicyStore.inMemory()
        try store.perform(.createRuleset(named: "zeta", rules: [RuleReference(id: "TM-00000002"), RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createRuleset(named: "Alpha"))
        try store.perform(.createPolicy(named: "web", description: "tab\there", rulesets: ["zeta", "Alpha"]))
        try store.perform(.createPolicy(named: "api", xdrEnabled: false))
        let text = String(decoding: try store.perform(.export()), as: UTF8.self)
        #expect(text == """
            {
              "rulesets": [
                {
                  "name": "Alpha",
                  "description": "",
                  "rules": []
                },
                {
                  "name": "zeta",
                  "description": "",
                  "rules": [
                    {
                      "id": "TM-00000001",
                      "mitigation": "terminate"
                    },
                    {
                      "id": "TM-00000002",
                      "mitigation": "log"
                    }
                  ]
                }
              ],
              "policies": [
                {
                  "name": "api",
                  "description": "",
                  "xdrEnabled": false,
                  "runtime": {
                    "rulesets": []
                  }
                },
                {
                  "name": "web",
                  "description": "tab\\there",
                  "xdrEnabled": true,
                  "runtime": {
                    "rulesets": [
                      {
                        "name": "Alpha"
                      },
                      {
                        "name": "zeta"
                      }
                    ]
                  }
                }
              ]
            }

            """)
        // Foundation's parser reads it back to the same values.
        let parsed = try JSONSerialization.jsonObject(with: try store.perform(.export())) as? [String: Any]
        #expect((parsed?["policies"] as? [[String: Any]])?.first?["name"] as? String == "api")
    }

    @Test func theStreamedExportIsTheSameBytesInPieces() throws {
        let store = try populatedStore(policies: 1_500, rulesets: 60)
        var pieces: [Data] = []
        let summary = try store.read { tx in try tx.export { pieces.append($0) } }
        #expect(summary == ExportSummary(rulesets: 60, policies: 1_500))
        #expect(pieces.count > 2, "a store this size streams in several pieces")
        #expect(pieces.dropLast().allSatisfy { $0.count >= 64 * 1_024 })
        #expect(try pieces.reduce(Data(), +) == store.perform(.exportDocument()).jsonData())

        let directory = try TemporaryDirectory()
        let file = URL(fileURLWithPath: directory.path("policies.json"))
        try Data("an older export".utf8).write(to: file)
        #expect(try store.perform(.export(to: file)) == summary)
        #expect(try Data(contentsOf: file) == (try store.perform(.export())))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["policies.json"])

        let nowhere = URL(fileURLWithPath: directory.path("missing-folder/policies.json"))
        let error = #expect(throws: PolicyStoreError.self) { try store.perform(.export(to: nowhere)) }
        let refusedPath: String? = if case .cannotWriteFile(let path, _)? = error { path } else { nil }
        #expect(refusedPath == nowhere.path, "\(String(describing: error))")
    }

    @Test func anEmptyStoreExportsEmptyLists() throws {
        let store = try PolicyStore.inMemory()
        #expect(String(decoding: try store.perform(.export()), as: UTF8.self) == "{\n  \"rulesets\": [],\n  \"policies\": []\n}\n")
        #expect(try PolicyDocument(json: try store.perform(.export())) == PolicyDocument())
    }

    @Test func aPolicyFetchedFromTheProductImportsAsItIs() throws {
        let fetched = try document("""
            {
              "rulesets": [
                { "id": "ruleset-4f2a", "name": "baseline", "description": "From the console",
                  "labels": [], "labelMatchingCondition": "any",
                  "rules": [ { "id": "TM-00000001", "mitigation": "terminate" }, { "id": "TM-00000005" } ],
                  "createdDateTime": "2025-01-02T03:04:05Z", "updatedDateTime": "2025-01-02T03:04:05Z" }
              ],
              "policies": [
                { "id": "ContainerPolicy-AbCd", "name": "ecs.prod", "description": "Prod clusters",
                  "xdrEnabled": false,
                  "default": { "rules": [], "exceptions": [] }, "namespaced": [],
                  "runtime": { "rulesets": [ { "id": "ruleset-4f2a", "name": "baseline" } ] },
                  "createdDateTime": "2025-01-02T03:04:05Z", "updatedDateTime": "2025-01-03T03:04:05Z",
                  "rulesetsUpdatedDateTime": "2025-01-03T03:04:05Z" }
              ]
            }
            """)
        let store = try PolicyStore.inMemory()
        try store.perform(.importDocument(fetched))
        let policy = try #require(try store.perform(.fetch(Policy.self, named: "ecs.prod")))
        #expect(policy.description == "Prod clusters" && !policy.xdrEnabled && policy.rulesets == ["baseline"])
        #expect(try store.perform(.fetch(Ruleset.self, named: "baseline"))?.rules == [
            RuleReference(id: "TM-00000001", mitigation: .terminate), RuleReference(id: "TM-00000005", mitigation: .log),
        ])
    }

    @Test func kubernetesOnlyPartsAreRefusedByName() throws {
        let json = """
            { "rulesets": [ { "name": "pods", "labels": [ { "key": "app", "value": "web" } ] } ],
              "policies": [
                { "name": "a", "default": { "rules": [ { "type": "podSecurityContext" } ] } },
                { "name": "b", "default": { "exceptions": [ { "type": "imagePath" } ] } },
                { "name": "c", "namespaced": [ { "name": "ns", "namespaces": ["default"] } ] }
              ] }
            """
        do {
            let problems = refusal(json)
            #expect(problems.map(\.path) == ["rulesets[0].labels", "policies[0].default.rules", "policies[1].default.exceptions", "policies[2].namespaced"])
            #expect(problems.map(\.unsupportedFeature) == [.rulesetLabels, .deploymentRules, .exceptions, .namespacedPolicies])
            #expect(problems.allSatisfy { $0.message.contains("Amazon ECS") })
        }
    }

    @Test func everyProblemIsReportedAtOnceWithItsPath() throws {
        let found = problems("""
            { "rulesets": [ { "name": "base line", "rules": [ { "id": "TM-1" }, { "id": "TM-00000001", "mitigation": "block" } ] } ],
              "policies": [
                { "name": "ok" }, { "name": "fine" }, { "name": "good" },
                { "name": "web prod", "xdrEnabled": "yes", "color": "blue" },
                { "name": "OK" },
                { "description": 7 }
              ],
              "version": 2 }
            """)
        // In the document's order, each with the value at fault.
        #expect(found == [
            "rulesets[0].name \"base line\": contains a space at position 5: names cannot contain spaces; use '_' or '.' instead",
            "rulesets[0].rules[0].id \"TM-1\": is not a managed rule ID: write TM- followed by 8 digits, like TM-00000001",
            "rulesets[0].rules[1].mitigation \"block\": is not a mitigation: use log, isolate or terminate",
            "policies[3].name \"web prod\": contains a space at position 4: names cannot contain spaces; use '_' or '.' instead",
            "policies[3].xdrEnabled \"yes\": expected true or false, found a string",
            "policies[3].color: unknown field; a policy has name, description, xdrEnabled and runtime",
            "policies[4].name \"OK\": the policy is already listed at policies[0].name (names are unique ignoring letter case); list it once",
            "policies[5].name: missing: every policy needs a name",
            "policies[5].name \"\": is empty: give a name of 1 to 64 letters, digits, '_' or '.'",
            "policies[5].description 7: expected a string, found a number",
            "version: unknown field; a document has only \"rulesets\" and \"policies\"",
        ])
    }

    @Test func malformedJSONIsRefusedClearly() throws {
        #expect(problems("{\"policies\": [\n  {\"name\": \"a\",}\n]}") == [
            "$: not valid JSON at line 2, column 16: expected a field name in double quotes",
        ])
        #expect(problems("{\"policies\": [") == ["$: not valid JSON at line 1, column 15: the document ends too early"])
        #expect(problems("[]") == ["$: expected an object, found an array"])
        let long = problems("{\"policies\": [{\"name\": \"x\", \"description\": \"\(String(repeating: "d", count: 5_000))\"}]}")
        #expect(long.count == 1 && long[0].hasPrefix("policies[0].description \"\(String(repeating: "d", count: 59))\"…: "), "\(long)")
        #expect(problems("{\"policies\": {}}") == ["policies: expected an array, found an object"])
        #expect(problems("{\"policies\": [], \"policies\": []}") == ["policies: the field appears twice; keep one"])
        #expect(problems("{\"policies\": [{\"name\": \"\\ud800\"}]}").first?.contains("surrogate") == true)
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(problems("{\"policies\": \(deep)}").first?.contains("nested deeper than 64 levels") == true)
        #expect(problems("{\"policies\": [1, 2] } trailing") == ["$: not valid JSON at line 1, column 23: unexpected text after the end of the document"])
        let huge = Data(count: PolicyDocument.maximumSize + 1)
        #expect(throws: PolicyStoreError.self) { try PolicyDocument(json: huge) }
    }

    @Test func hugeArraysOfTheWrongThingAreRefusedWithoutWriting() throws {
        let elements = Array(repeating: "1", count: 200_000).joined(separator: ",")
        let found = problems("{\"policies\": [\(elements)]}")
        #expect(found.count == 101, "100 problems and a line that counts the rest")
        #expect(found.first == "policies[0] 1: expected an object, found a number")
        #expect(found.last == "$: and 199900 more problems not listed")
    }

    @Test func namesThatDifferOnlyInCaseFromTheStoreAreErrors() throws {
        let store = try PolicyStore.inMemory()
        try store.perform(.createRuleset(named: "baseline"))
        try store.perform(.createPolicy(named: "web"))
        let before = try snapshot(store)
        let error = #expect(throws: PolicyStoreError.self) {
            try store.perform(.importDocument(try document("""
                { "rulesets": [ { "name": "Baseline" } ], "policies": [ { "name": "WEB", "runtime": { "rulesets": [ { "name": "missing" } ] } } ] }
                """)))
        }
        let found = try #require(error?.documentProblems)
        #expect(found.map(\.description) == [
            "rulesets[0].name \"Baseline\": the ruleset exists as \"baseline\", and names cannot change, not even in letter case; write \"baseline\"",
            "policies[0].name \"WEB\": the policy exists as \"web\", and names cannot change, not even in letter case; write \"web\"",
            "policies[0].runtime.rulesets[0].name \"missing\": there is no ruleset of that name in the document or the store; add it to the document's rulesets",
        ])
        #expect(try snapshot(store) == before)
    }

    @Test func theDryRunPlansAndLeavesTheFileByteForByte() throws {
        let directory = try TemporaryDirectory()
        let (store, path) = try makeStore(in: directory)
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001")]))
        try store.perform(.createRuleset(named: "legacy"))
        try store.perform(.createRuleset(named: "old"))
        try store.perform(.createPolicy(named: "api", description: "API", rulesets: ["legacy"]))
        try store.perform(.createPolicy(named: "same"))
        try store.perform(.createPolicy(named: "gone"))
        let update = try document("""
            { "rulesets": [
                { "name": "baseline", "rules": [ { "id": "TM-00000001", "mitigation": "terminate" }, { "id": "TM-00000002" } ] },
                { "name": "legacy" }, { "name": "new" } ],
              "policies": [
                { "name": "web.prod", "runtime": { "rulesets": [ { "name": "new" } ] } },
                { "name": "api", "description": "The API", "runtime": { "rulesets": [ { "name": "baseline" } ] } },
                { "name": "same" } ] }
            """)
        let fileBefore = try fileBytes(path)
        let plan = try store.perform(.importDocument(update, prune: true, dryRun: true))
        #expect(!plan.applied)
        #expect(plan.description == """
            ~ modify ruleset baseline: rules +TM-00000002:log ~TM-00000001:terminate
            + create ruleset new
            + create policy web.prod
            ~ modify policy api: description, rulesets +baseline -legacy
            - delete policy gone
            - delete ruleset old
            2 unchanged
            """)
        #expect(try fileBytes(path) == fileBefore)

        let applied = try store.perform(.importDocument(update, prune: true))
        #expect(applied.steps == plan.steps && applied.applied)
        #expect(try store.perform(.exportDocument()) == PolicyDocument(
            rulesets: [
                .init(name: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate), RuleReference(id: "TM-00000002")]),
                .init(name: "legacy"), .init(name: "new"),
            ],
            policies: [
                .init(name: "api", description: "The API", rulesets: ["baseline"]),
                .init(name: "same"),
                .init(name: "web.prod", rulesets: ["new"]),
            ]))
        try expectHealthy(store)
    }

    @Test func pruneRefusesToLeaveAPolicyPointingAtADeletedRuleset() throws {
        let store = try PolicyStore.inMemory()
        try store.perform(.createRuleset(named: "kept.outside"))
        #expect(throws: PolicyStoreError.invalidDocument([DocumentProblem(
            path: "policies[0].runtime.rulesets[0].name", offendingText: "kept.outside",
            message: "the ruleset is not in the document, and pruning would delete it; add it to the document's rulesets")])) {
            try store.perform(.importDocument(try document("""
                { "policies": [ { "name": "web", "runtime": { "rulesets": [ { "name": "kept.outside" } ] } } ] }
                """), prune: true))
        }
    }

    @Test func aFailureInTheMiddleOfAnImportLeavesNothing() throws {
        let source = try populatedStore(policies: 300, rulesets: 20)
        let exported = try PolicyDocument(json: try source.perform(.export()))
        let directory = try TemporaryDirectory()
        let (target, _) = try makeStore(in: directory)
        try target.perform(.createPolicy(named: "existing"))
        let before = try snapshot(target)
        try target.withConnection { connection in
            try connection.execute("""
                CREATE TEMP TRIGGER fail_midway AFTER INSERT ON main.policies
                WHEN (SELECT count(*) FROM main.policies) = 150
                BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;
                """)
        }
        #expect(throws: PolicyStoreError.sqlite(SQLiteError(code: .constraintTrigger, message: "disk on fire",
                                                             sql: PolicySQL.insert.sql))) {
            try target.perform(.importDocument(exported))
        }
        #expect(try snapshot(target) == before)
        try expectHealthy(target)
    }
}
