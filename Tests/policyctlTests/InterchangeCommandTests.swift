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

        let fingerprint = try workspace.withStore { store in
            try store.perform(.importDocument(try ContainerPolicyStore.PolicyDocument(json: Data(Self.change.utf8)), dryRun: true)).fingerprint
        }
        #expect(output == Self.changePlan + """

            Plan fingerprint: \(fingerprint)
            Dry run: nothing was written to ./policies.sqlite; run without --dry-run to apply this plan, or with --expect-plan \(fingerprint) to apply only this plan.

            """)
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
        let problems = try #require(refusal?.documentProblems)
        #expect(problems.count >= 5)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == errorLine(.invalidDocument(problems)))
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "error: the document has \(problems.count) problems; fix them and try again:")
        // In document order, each with its path and the value at fault.
        #expect(Array(lines.dropFirst()) == [
            #"  rulesets[0].name "a b": contains a space at position 2: names cannot contain spaces; use '_' or '.' instead"#,
            #"  rulesets[0].rules[0].id "TM-1": is not a managed rule ID: write TM- followed by 8 digits, like TM-00000001"#,
            #"  rulesets[0].rules[0].mitigation "explode": is not a mitigation: use log, isolate or terminate"#,
            #"  policies[0].xdrEnabled "yes": expected true or false, found a string"#,
            #"  policies[0].colour: unknown field; a policy has name, description, xdrEnabled and runtime"#,
            #"  extra: unknown field; a document has only "rulesets" and "policies""#,
        ])
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
        #expect(result.stderr.hasPrefix("error: the document has 1 problem; fix it and try again:\n  policies[0].runtime.rulesets[0].name \"missing\": "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path) == [document])
    }

    /// A first user's dry run: the plan against an empty store, and no file created (nor an
    /// empty one written).
    @Test func aDryRunWithoutADatabasePlansAgainstAnEmptyStoreAndCreatesNothing() throws {
        let workspace = try Workspace()
        let json = #"{ "rulesets": [ { "name": "base" } ], "policies": [ { "name": "web", "runtime": { "rulesets": [ { "name": "base" } ] } } ] }"#
        let document = try writeDocument(json, in: workspace)

        let output = try workspace.succeed("import", document, "--dry-run")

        let lines = output.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(3)) == ["+ create ruleset base", "+ create policy web", "0 unchanged"])
        #expect(lines.last?.hasPrefix("Dry run: there is no database at ./policies.sqlite yet, so this is the plan against an empty store") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path) == [document])

        #expect(FileManager.default.createFile(atPath: workspace.file("empty.sqlite").path, contents: Data()))
        #expect(try workspace.succeed("--db", "empty.sqlite", "import", document, "--dry-run") == output.replacingOccurrences(
            of: "./policies.sqlite", with: "empty.sqlite"))
        #expect(try Data(contentsOf: workspace.file("empty.sqlite")).isEmpty)

        // The plan a first run would apply is the one the dry run showed.
        let fingerprint = try #require(lines.first { $0.hasPrefix("Plan fingerprint: ") }?.dropFirst("Plan fingerprint: ".count))
        try workspace.succeed("import", document, "--expect-plan", String(fingerprint))
        #expect(try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json").rulesetNames == ["base"])
    }

    @Test func anApprovedPlanIsAppliedOnlyWhileItIsStillThePlan() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let document = try writeDocument(Self.change, in: workspace)
        let reviewed = try workspace.succeed("import", document, "--dry-run").split(separator: "\n")
        let fingerprint = try #require(reviewed.first { $0.hasPrefix("Plan fingerprint: ") }?.split(separator: " ").last.map(String.init))

        // Someone changes a policy the plan touches, after the review.
        try workspace.succeed("policy", "modify", "web", "--description", "Changed after the review")
        let before = try workspace.snapshot()
        let refused = try workspace.run("import", document, "--expect-plan", fingerprint)
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.hasPrefix("error: the plan is no longer the approved one (\(fingerprint))"), "\(refused.stderr)")
        #expect(refused.stderr.contains("\n  ~ modify policy web: description, rulesets +strict -base\n"))
        #expect(try workspace.snapshot() == before)

        // The new plan, once approved, applies.
        let now = try #require(refused.stderr.firstMatch(of: /The plan is now ([0-9a-f]{64})/)?.1)
        #expect(now != fingerprint)
        #expect(try workspace.succeed("import", document, "--expect-plan", String(now)).hasSuffix("Applied to ./policies.sqlite.\n"))
        #expect(try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json").description == "Front end")
    }

    /// On a terminal a long import shows how far it is on stderr, and clears the line; off a
    /// terminal it prints nothing there.
    @Test func aLongImportShowsProgressOnlyOnATerminal() throws {
        let workspace = try Workspace()
        let count = 2_500  // over policyctl's threshold of 2,000 objects
        let policies = (0..<count).map { #"{ "name": "p\#($0)" }"# }.joined(separator: ", ")
        let document = try writeDocument(#"{ "policies": [ \#(policies) ] }"#, in: workspace)

        let plain = try workspace.run("import", document)
        #expect(plain.status == 0 && plain.stderr.isEmpty)

        // `script` gives the command a terminal; what it printed there is in its output.
        try FileManager.default.removeItem(at: workspace.database)
        let onTerminal = try workspace.runOnTerminal(["import", document])
        #expect(onTerminal.contains("import: "), "\(onTerminal.suffix(300))")
        #expect(onTerminal.contains(" of \(count) objects"))
        #expect(onTerminal.contains("\r\u{1B}[K+ create policy p0\r\n"), "the line is cleared before the plan")
        #expect(try workspace.withStore { try $0.perform(.count(Policy.self)) } == count)
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
