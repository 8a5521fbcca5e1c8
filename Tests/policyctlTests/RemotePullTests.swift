import Foundation
import Testing

/// `policyctl remote pull`, the real binary against the Vision One emulator.
@Suite struct RemotePullTests {
    let remote: RemoteWorkspace
    var workspace: Workspace { remote.workspace }

    init() throws {
        remote = try RemoteWorkspace()
    }

    @Test func aPullIntoAMissingDatabaseReproducesTheRemoteStateAndExportsTheSame() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            #expect(try await remote.remote("push", server).status == 0)
            #expect(!workspace.exists("copy.sqlite"))
            let preview = try await remote.remote("pull", server, "--dry-run", database: "copy.sqlite")
            #expect(preview.status == 0)
            #expect(lines(preview.stdout).last == "Dry run: there is no database at copy.sqlite yet, so this is the plan against an empty store; nothing was written. Run without --dry-run to create it and pull.")
            #expect(lines(preview.stdout).count == 6 && !workspace.exists("copy.sqlite"))

            let pull = try await remote.remote("pull", server, database: "copy.sqlite")
            #expect(pull.status == 0 && pull.stderr.isEmpty, "\(pull.stderr)")
            #expect(pull.stdout == """
                + create ruleset baseline.runtime
                + create ruleset crypto.mining
                + create policy web.prod
                + create policy web.prodPolicy
                0 unchanged
                Pulled \(server.baseURL.absoluteString) into copy.sqlite.

                """)
            #expect(await server.emulator.log.allSatisfy { $0.method == "GET" || $0.method == "POST" })
            let original = try workspace.succeed("--db", RemoteWorkspace.demo, "export")
            #expect(try workspace.succeed("--db", "copy.sqlite", "export") == original)

            // The pull recorded what it took: the copy is in step with Vision One.
            let plan = try await remote.remote("plan", server, database: "copy.sqlite")
            #expect(plan.stdout.hasPrefix("4 unchanged\nNo change: "))
        }
    }

    @Test func aDryRunShowsThePlanAndWritesNothing() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            #expect(try await remote.remote("push", server).status == 0)
            await server.emulator.editInConsole(policyNamed: "web.prod", description: "edited in the console")
            await server.emulator.seedRuleset(name: "made.there", rules: [("TM-00000005", "isolate")])
            let before = try workspace.snapshot(RemoteWorkspace.demo)

            let preview = try await remote.remote("pull", server, "--dry-run")
            #expect(preview.status == 0)
            #expect(lines(preview.stdout) == [
                "+ create ruleset made.there", "~ modify policy web.prod: description", "3 unchanged",
                "Dry run: nothing was written to \(RemoteWorkspace.demo); run without --dry-run to apply this plan.",
            ])
            #expect(try workspace.snapshot(RemoteWorkspace.demo) == before)

            let json = try JSONSerialization.jsonObject(with: Data(try await remote.remote("pull", server, "--dry-run", "--json").stdout.utf8))
            let object = try #require(json as? [String: Any])
            #expect(Set(object.keys) == ["endpoint", "steps", "unchanged", "applied", "fingerprint", "findings"])
            #expect(object["applied"] as? Bool == false)
            #expect((object["steps"] as? [[String: Any]])?.map { $0["name"] as? String } == ["made.there", "web.prod"])

            #expect(try await remote.remote("pull", server).status == 0)
            #expect(try workspace.succeed("--db", RemoteWorkspace.demo, "policy", "show", "web.prod").contains("edited in the console"))
            #expect(try await remote.remote("plan", server).stdout.hasPrefix("5 unchanged\nNo change: "))
        }
    }

    @Test func kubernetesOnlyPartsAndNamesTheStoreCannotHoldAreReportedNotStored() async throws {
        try await withEmulator { server in
            let labelled = await server.emulator.seedRuleset(name: "labelled", labels: [["key": "app", "value": "web"]])
            await server.emulator.seedPolicy(name: "k8s", rulesetIDs: [labelled], namespaced: [["name": "default"]])
            await server.emulator.seedPolicy(name: "web-prod")
            let pull = try await remote.remote("pull", server, database: "pulled.sqlite")
            #expect(pull.status == 0, "\(pull.stderr)")
            let shown = lines(pull.stdout)
            #expect(shown.contains { $0.hasPrefix("? policy \"k8s\" (id pol-") && $0.contains("has namespaced (namespaced policy definitions), which only Kubernetes clusters use") })
            #expect(shown.contains { $0.hasPrefix("? ruleset \"labelled\" (id rs-") && $0.contains("has labels") })
            #expect(shown.contains { $0.hasPrefix("? policy \"web-prod\"") && $0.contains("left untouched") })
            let policies = try workspace.succeed("--db", "pulled.sqlite", "policy", "list")
            #expect(policies.contains("k8s") && !policies.contains("web-prod"))
        }
    }

    @Test func aPullIsRefusedAsAnImportIsAndWritesNothing() async throws {
        try await withEmulator { server in
            await server.emulator.seedRuleset(name: "baseline", rules: [("TM-1", "log")])
            await server.emulator.seedPolicy(name: "Web")
            let refused = try await remote.remote("pull", server, database: "new.sqlite")
            #expect(refused.status == 1)
            let problems = lines(refused.stderr)
            #expect(problems.first == "error: the pull is refused as an import would be, and nothing was written: what Vision One holds has 1 problem:")
            #expect(problems.dropFirst().map { $0.replacing(/\(id rs-[0-9a-f-]+\)/, with: "(id …)") } == [
                #"  ruleset "baseline" (id …), rules[0].id "TM-1": is not a managed rule ID: write TM- followed by 8 digits, like TM-00000001"#,
            ])
            #expect(refused.stdout.isEmpty)
            #expect(!workspace.exists("new.sqlite"))

            try workspace.makeSampleDatabaseWithTheLibrary()
            let before = try workspace.snapshot()
            let renamed = try await remote.remote("pull", server, database: "policies.sqlite")
            #expect(renamed.status == 1)
            #expect(lines(renamed.stderr).count == 3)
            #expect(lines(renamed.stderr).last?.hasPrefix(#"  policy "Web" (id pol-"#) == true)
            #expect(renamed.stderr.contains(#"name "Web": the policy exists as "web", and names cannot change"#), "\(renamed.stderr)")
            #expect(try workspace.snapshot() == before)
        }
    }
}
