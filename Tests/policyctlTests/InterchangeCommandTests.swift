import ContainerPolicyStore
import Foundation
import Testing

/// `export` and `import`: the library's document, plan and refusals, through the CLI.
@Suite struct InterchangeCommandTests {
    /// Writes a document into the workspace and returns its file name.
    @discardableResult
    func writeDocument(_ json: String, to name: String = "doc.json", in workspace: Workspace) throws -> String {
        try Data(json.utf8).write(to: workspace.file(name))
        return name
    }

    @Test func exportIsTheLibrarysExportByteForByteEveryTime() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let libraryExport = try workspace.withStore { try $0.perform(.export()) }

        let first = try workspace.succeed("export")
        #expect(Data(first.utf8) == libraryExport)
        #expect(try workspace.succeed("export") == first)

        #expect(try workspace.succeed("export", "--output", "out.json") == "Exported 2 rulesets and 1 policy to out.json.\n")
        #expect(try Data(contentsOf: workspace.file("out.json")) == libraryExport)
    }

    @Test func exportThenImportIntoANewDatabaseThenExportIsByteIdentical() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "create", "api", "--xdr", "off", "--description", "Tab\there, \"quoted\"", "--ruleset", "spare")
        try workspace.succeed("export", "--output", "exported.json")

        let output = try workspace.succeed("--db", "fresh.sqlite", "import", "exported.json")
        #expect(output == """
            + create ruleset base
            + create ruleset spare
            + create policy api
            + create policy web
            0 unchanged
            Applied to fresh.sqlite.

            """)
        #expect(try workspace.succeed("--db", "fresh.sqlite", "export") == workspace.succeed("export"))

        // Importing an export into its own database changes nothing.
        let before = try workspace.snapshot()
        #expect(try workspace.succeed("import", "exported.json") == "4 unchanged\nApplied to ./policies.sqlite.\n")
        #expect(try workspace.snapshot() == before)
    }

    static let change = """
        {
          "rulesets": [
            { "name": "base", "description": "Base rules, v2", "rules": [ { "id": "TM-00000001", "mitigation": "isolate" } ] },
            { "name": "spare" },
            { "name": "strict", "rules": [ { "id": "TM-00000009" } ] }
          ],
          "policies": [
            { "name": "web", "description": "Front end", "runtime": { "rulesets": [ { "name": "strict" } ] } },
            { "name": "api", "xdrEnabled": false }
          ]
        }
        """

    static let changePlan = """
        ~ modify ruleset base: description, rules ~TM-00000001:isolate
        + create ruleset strict
        ~ modify policy web: rulesets +strict -base
        + create policy api
        1 unchanged
        """

    @Test func dryRunPrintsThePlanAndLeavesTheFileByteForByteUnchanged() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let document = try writeDocument(Self.change, in: workspace)
        let before = try workspace.snapshot()

        let output = try workspace.succeed("import", document, "--dry-run")

        #expect(output == Self.changePlan + "\nDry run: nothing was written to ./policies.sqlite; run without --dry-run to apply this plan.\n")
        #expect(try workspace.snapshot() == before)
    }

    @Test func importAppliesThePlan() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let document = try writeDocument(Self.change, in: workspace)

        #expect(try workspace.succeed("import", document) == Self.changePlan + "\nApplied to ./policies.sqlite.\n")

        let web = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        #expect(web.rulesetNames == ["strict"])
        let api = try workspace.json(PolicyDocument.self, "policy", "show", "api", "--json")
        #expect(!api.xdrEnabled)
        let base = try workspace.json(RulesetDocument.self, "ruleset", "show", "base", "--json")
        #expect(base.description == "Base rules, v2")
        #expect(base.rules == [.init(id: "TM-00000001", mitigation: "isolate")])
        #expect(try workspace.succeed("import", document, "--dry-run").hasPrefix("5 unchanged\n"))
    }

    @Test func pruneDeletesWhatTheDocumentDoesNotHave() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "create", "old")
        let document = try writeDocument(
            #"{ "rulesets": [ { "name": "base", "description": "Base rules", "rules": [ { "id": "TM-00000001", "mitigation": "terminate" } ] } ], "policies": [ { "name": "web", "description": "Front end", "runtime": { "rulesets": [ { "name": "base" } ] } } ] }"#,
            in: workspace)

        // Without --prune the extra objects stay.
        #expect(try workspace.succeed("import", document) == "2 unchanged\nApplied to ./policies.sqlite.\n")
        #expect(try workspace.succeed("import", document, "--prune") == """
            - delete policy old
            - delete ruleset spare
            2 unchanged
            Applied to ./policies.sqlite.

            """)
        #expect(try workspace.json(PolicyList.self, "policy", "list", "--json").policies.map(\.name) == ["web"])
        #expect(try workspace.json(RulesetList.self, "ruleset", "list", "--json").rulesets.map(\.name) == ["base"])
    }

    @Test func aDocumentWithSeveralProblemsIsRefusedListingThemAllWithTheirPaths() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let json = """
            {
              "rulesets": [ { "name": "a b", "rules": [ { "id": "TM-1", "mitigation": "explode" } ] } ],
              "policies": [ { "name": "web", "xdrEnabled": "yes", "colour": "red" } ],
              "extra": true
            }
            """
        let document = try writeDocument(json, in: workspace)
        let before = try workspace.snapshot()

        let result = try workspace.run("import", document)

        let refusal = #expect(throws: PolicyStoreError.self) { try ContainerPolicyStore.PolicyDocument(json: Data(json.utf8)) }
        guard case .invalidDocument(let problems)? = refusal else { return }
        #expect(problems.count >= 5)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == errorLine(.invalidDocument(problems)))
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "error: the document has \(problems.count) problems; fix them and try again:")
        #expect(lines.dropFirst() == problems.map { "  \($0.path): \($0.message)" }[...])
        for path in [
            "rulesets[0].name", "rulesets[0].rules[0].id", "rulesets[0].rules[0].mitigation", "policies[0].xdrEnabled",
            "policies[0].colour", "extra",
        ] {
            #expect(lines.contains { $0.hasPrefix("  \(path): ") }, "\(path)")
        }
        #expect(try workspace.snapshot() == before)
    }

    struct KubernetesOnlyPart: Sendable, CustomTestStringConvertible {
        let json: String
        let path: String
        let part: String
        var testDescription: String { path }
    }

    static let kubernetesOnlyParts = [
        KubernetesOnlyPart(
            json: #"{ "policies": [ { "name": "web", "default": { "rules": [ { "type": "podSecurityContext" } ] } } ] }"#,
            path: "policies[0].default.rules", part: "Deployment policies (default.rules)"),
        KubernetesOnlyPart(
            json: #"{ "policies": [ { "name": "web", "default": { "exceptions": [ { "type": "image" } ] } } ] }"#,
            path: "policies[0].default.exceptions", part: "Continuous policies and their exceptions (default.exceptions)"),
        KubernetesOnlyPart(
            json: #"{ "policies": [ { "name": "web", "namespaced": [ { "name": "ns", "namespaces": ["prod"] } ] } ] }"#,
            path: "policies[0].namespaced", part: "namespaced policy definitions (namespaced)"),
        KubernetesOnlyPart(
            json: #"{ "rulesets": [ { "name": "base", "labels": [ { "key": "app", "value": "web" } ] } ] }"#,
            path: "rulesets[0].labels", part: "labels are only supported on Kubernetes clusters"),
    ]

    @Test(arguments: kubernetesOnlyParts)
    func kubernetesOnlyPartsAreRefusedNamingThePart(part: KubernetesOnlyPart) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let document = try writeDocument(part.json, in: workspace)
        let before = try workspace.snapshot()

        let result = try workspace.run("import", document)

        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: the document has 1 problem; fix it and try again:\n  \(part.path): "))
        #expect(result.stderr.contains(part.part))
        #expect(try workspace.snapshot() == before)
    }

    @Test func aDocumentShapedLikeTheProductsAPIImports() throws {
        let workspace = try Workspace()
        let document = try writeDocument(
            """
            {
              "rulesets": [
                {
                  "id": "rs-4f1c", "name": "baseline", "description": "Every cluster",
                  "rules": [ { "id": "TM-00000001", "mitigation": "terminate" } ],
                  "labels": [], "labelMatchingCondition": "any",
                  "createdDateTime": "2025-01-02T03:04:05Z", "updatedDateTime": "2025-01-02T03:04:05Z"
                }
              ],
              "policies": [
                {
                  "id": "po-9a2b", "name": "web.prod", "description": "Front end", "xdrEnabled": false,
                  "runtime": { "rulesets": [ { "id": "rs-4f1c", "name": "baseline" } ] },
                  "default": { "rules": [], "exceptions": [] }, "namespaced": [],
                  "createdDateTime": "2025-01-02T03:04:05Z", "updatedDateTime": "2025-01-02T03:04:05Z",
                  "rulesetsUpdatedDateTime": "2025-01-02T03:04:05Z"
                }
              ]
            }
            """, in: workspace)

        #expect(try workspace.succeed("import", document) == """
            + create ruleset baseline
            + create policy web.prod
            0 unchanged
            Applied to ./policies.sqlite.

            """)
        let policy = try workspace.json(PolicyDocument.self, "policy", "show", "web.prod", "--json")
        #expect(policy.description == "Front end")
        #expect(!policy.xdrEnabled)
        #expect(policy.rulesetNames == ["baseline"])
    }

    @Test func importReadsStandardInputForADash() throws {
        let workspace = try Workspace()
        let result = try workspace.run(["import", "-"], input: Data(Self.change.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("+ create ruleset base\n"))
        #expect(try workspace.json(PolicyList.self, "policy", "list", "--json").policies.map(\.name) == ["api", "web"])
    }

    @Test func importCreatesAMissingDatabase() throws {
        let workspace = try Workspace()
        let document = try writeDocument(Self.change, in: workspace)
        try workspace.succeed("import", document)
        #expect(try workspace.succeed("check").hasPrefix("ok: "))
    }

    @Test func aRefusedImportLeavesNoNewFileBehind() throws {
        let workspace = try Workspace()
        // Well formed, but the ruleset is neither in the document nor in the (new) database.
        let document = try writeDocument(#"{ "policies": [ { "name": "web", "runtime": { "rulesets": [ { "name": "missing" } ] } } ] }"#, in: workspace)

        let result = try workspace.run("import", document)

        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: the document has 1 problem; fix it and try again:\n  policies[0].runtime.rulesets[0].name: "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path) == [document])
    }

    @Test func aDryRunNeverCreatesTheDatabase() throws {
        let workspace = try Workspace()
        let document = try writeDocument(Self.change, in: workspace)

        let result = try workspace.run("import", document, "--dry-run")

        #expect(result.status == 1)
        #expect(result.stderr == errorLine(.databaseNotFound(path: "./policies.sqlite")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path) == [document])
    }

    @Test func anUnreadableDocumentIsRefused() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let before = try workspace.snapshot()
        let result = try workspace.run("import", "missing.json")
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: cannot read missing.json: "))
        #expect(try workspace.snapshot() == before)
    }
}
