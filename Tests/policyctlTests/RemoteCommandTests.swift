import ContainerPolicyStore
import Foundation
import Testing

/// `policyctl remote plan` and `push`, the real binary against the Vision One emulator on
/// 127.0.0.1, which this test process serves.
@Suite struct RemoteCommandTests {
    let remote: RemoteWorkspace
    var workspace: Workspace { remote.workspace }

    init() throws {
        remote = try RemoteWorkspace()
    }

    @Test func aPushOfTheDemoCreatesEverythingInOrderAndASecondPlanIsEmpty() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            let endpoint = server.baseURL.absoluteString
            let before = try workspace.snapshot(RemoteWorkspace.demo)
            let plan = try await remote.remote("plan", server)
            #expect(plan.status == 0 && plan.stderr.isEmpty)
            #expect(plan.stdout == """
                + create ruleset baseline.runtime
                + create ruleset crypto.mining
                + create policy web.prod
                + create policy web.prodPolicy
                0 unchanged
                Plan only: nothing was sent to \(endpoint); 'policyctl remote push' with the same options applies it.

                """)
            #expect(await server.emulator.log.allSatisfy { $0.method == "GET" })
            #expect(try workspace.snapshot(RemoteWorkspace.demo) == before, "a plan wrote to the database")

            let push = try await remote.remote("push", server)
            #expect(push.status == 0 && push.stderr.isEmpty)
            let progress = lines(push.stdout).filter { $0.hasPrefix("[") }
            #expect(progress.map { $0.components(separatedBy: ": created, id ").first } == [
                "[1/4] + create ruleset baseline.runtime", "[2/4] + create ruleset crypto.mining",
                "[3/4] + create policy web.prod", "[4/4] + create policy web.prodPolicy",
            ])
            #expect(lines(push.stdout).last == "Pushed 4 steps to \(endpoint); 0 unchanged.")
            let posts = await server.emulator.log.filter { $0.method == "POST" }.compactMap { $0.json?["name"]?.string }
            #expect(posts == ["baseline.runtime", "crypto.mining", "web.prod", "web.prodPolicy"])
            let copy = try #require(await server.emulator.policy(named: "web.prodPolicy"))
            #expect(!copy.xdrEnabled && copy.rulesetIDs.count == 1)
            #expect(await server.emulator.policy(named: "web.prod")?.rulesetIDs.count == 2)
            // Two lists for each of the two plans (the one above, and the push's own), and for
            // each create a POST and a GET of what was made.
            #expect(await server.emulator.log.count == 2 * 2 + 4 * 2)

            let again = try await remote.remote("plan", server)
            #expect(again.stdout == "4 unchanged\nNo change: \(endpoint) matches the database.\n")
            #expect(try workspace.sqlite3(RemoteWorkspace.demo, "SELECT count(*) FROM sync_state WHERE endpoint = '\(endpoint)';") == "4\n")
        }
    }

    @Test func aChangeIsPushedAsAPatchOfExactlyTheChangedFields() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            #expect(try await remote.remote("push", server, "--policy-platform", "ecs").status == 0)
            let posts = await server.emulator.log.filter { $0.method == "POST" }
            #expect(posts.map { $0.json?["platform"]?.string } == [nil, nil, "ecs", "ecs"])
            try workspace.succeed("--db", RemoteWorkspace.demo, "policy", "modify", "web.prod", "--xdr", "off")
            let plan = try await remote.remote("plan", server)
            #expect(lines(plan.stdout).first == "~ modify policy web.prod: xdrEnabled off")
            await server.emulator.clearLog()
            let push = try await remote.remote("push", server)
            #expect(push.status == 0)
            let writes = await server.emulator.log.filter { $0.method != "GET" }
            #expect(writes.map(\.method) == ["PATCH"])
            #expect(writes.first?.json == ["xdrEnabled": false])
            #expect(try await remote.remote("plan", server).stdout.hasSuffix("No change: \(server.baseURL.absoluteString) matches the database.\n"))
        }
    }

    @Test func driftIsToldAsChangedHereThereOrOnBothSides() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            #expect(try await remote.remote("push", server).status == 0)
            let db = RemoteWorkspace.demo
            try workspace.succeed("--db", db, "policy", "modify", "web.prod", "--description", "changed here")
            await server.emulator.editInConsole(rulesetNamed: "crypto.mining", description: "changed there")
            try workspace.succeed("--db", db, "policy", "modify", "web.prodPolicy", "--description", "changed here too")
            await server.emulator.editInConsole(policyNamed: "web.prodPolicy", description: "and there")

            let plan = try await remote.remote("plan", server)
            #expect(plan.status == 0 && plan.stderr.isEmpty)
            let shown = lines(plan.stdout)
            #expect(shown.first == "~ modify policy web.prod: description")
            #expect(shown.contains { $0.hasPrefix("! conflict policy web.prodPolicy: changed in Vision One since the last sync (synced 2026-") && $0.contains(") and changed in the store; a push would overwrite it: pull it first, or push with force to overwrite it") })
            #expect(shown.contains { $0.hasPrefix("? ruleset \"crypto.mining\" (id rs-") && $0.contains(": changed in Vision One since the last sync (synced 2026-") && $0.hasSuffix("and not in the store: left as it is there; pull to take the change, or push with force to overwrite it") })
            #expect(shown.contains("1 unchanged"))
            #expect(shown.last?.hasPrefix("A push would be refused: pull the conflicting objects, or push with --force") == true)

            let json = try JSONSerialization.jsonObject(with: Data(try await remote.remote("plan", server, "--json").stdout.utf8)) as? [String: Any]
            let object = try #require(json)
            #expect(Set(object.keys) == ["endpoint", "steps", "unchanged", "applied", "conflicts", "findings"])
            let steps = try #require(object["steps"] as? [[String: Any]])
            #expect(steps.map { $0["action"] as? String } == ["modify"] && steps.first?["name"] as? String == "web.prod")
            #expect((steps.first?["remoteId"] as? String)?.hasPrefix("pol-") == true)
            let conflicts = try #require(object["conflicts"] as? [[String: Any]])
            #expect(conflicts.map { $0["reason"] as? String } == ["changedOnBothSides"])
            let findings = try #require(object["findings"] as? [[String: Any]])
            #expect(findings.map { $0["issue"] as? String } == ["changedRemotely"])
        }
    }

    @Test func aRemoteEditAfterTheLastSyncIsAConflictUnlessForced() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            #expect(try await remote.remote("push", server).status == 0)
            await server.emulator.editInConsole(policyNamed: "web.prod", description: "edited in the console")
            try workspace.succeed("--db", RemoteWorkspace.demo, "policy", "modify", "web.prod", "--description", "edited here")

            await server.emulator.clearLog()
            let refused = try await remote.remote("push", server)
            #expect(refused.status == 1)
            #expect(lines(refused.stderr).count == 1)
            #expect(refused.stderr.hasPrefix("error: the push is refused because of a conflict, and nothing was sent: conflict policy web.prod"))
            #expect(refused.stderr.hasSuffix("; see them with 'policyctl remote plan'\n"))
            #expect(await server.emulator.log.allSatisfy { $0.method == "GET" })
            #expect(await server.emulator.policy(named: "web.prod")?.description == "edited in the console")

            let forced = try await remote.remote("push", server, "--force")
            #expect(forced.status == 0 && forced.stdout.contains("~ modify policy web.prod: description (forced)"))
            #expect(await server.emulator.policy(named: "web.prod")?.description == "edited here")
        }
    }

    @Test func remoteOnlyObjectsAreReportedAndWithPruneDeletedPoliciesFirst() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            let ruleset = await server.emulator.seedRuleset(name: "legacy", rules: [("TM-00000009", "log")])
            await server.emulator.seedPolicy(name: "old.test", rulesetIDs: [ruleset])
            await server.emulator.seedPolicy(name: "bad name")
            let plan = lines(try await remote.remote("plan", server).stdout)
            #expect(plan.contains { $0.hasPrefix("? policy \"old.test\" (id pol-") && $0.hasSuffix("only in Vision One: pull to bring it into the store, or push with prune to delete it") })
            #expect(plan.contains { $0.hasPrefix("? policy \"bad name\" (id pol-") && $0.contains("the store cannot hold it, so it is left untouched") })

            let pruned = try await remote.remote("plan", server, "--prune")
            #expect(lines(pruned.stdout).filter { $0.hasPrefix("- ") } == ["- delete policy old.test", "- delete ruleset legacy"])
            let push = try await remote.remote("push", server, "--prune")
            #expect(push.status == 0, "\(push.stderr)")
            #expect(await server.emulator.log.filter { $0.method == "DELETE" }.map { $0.path.contains("/policies/") } == [true, false])
            #expect(await server.emulator.policyCount(named: "old.test") == 0)
            #expect(await server.emulator.rulesetCount(named: "legacy") == 0)
            #expect(await server.emulator.policyCount(named: "bad name") == 1)
        }
    }

    @Test func aFailedStepStopsThePushNamingTheObjectTheStatusAndTheTraceID() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            await server.emulator.inject(.status(403, retryAfter: nil), method: "POST", path: "/v3.0/containerSecurity/rulesets", on: .requests([2]))
            let push = try await remote.remote("push", server)
            #expect(push.status == 1)
            #expect(lines(push.stdout).filter { $0.hasPrefix("[") }.count == 1)
            let error = try #require(lines(push.stderr).first)
            #expect(lines(push.stderr).count == 1)
            #expect(error.hasPrefix("error: cannot create ruleset \"crypto.mining\": POST /v3.0/containerSecurity/rulesets"))
            #expect(error.contains("HTTP 403: AccessDenied: Insufficient permissions: the token's role may not do this"))
            #expect(error.contains("[x-trace-id emu-trace-"))
            #expect(error.hasSuffix("; the 1 step before it is done and recorded; run 'policyctl remote plan' to see what is left"))

            await server.emulator.clearFaults()
            let left = try await remote.remote("plan", server)
            #expect(lines(left.stdout).prefix(4) == [
                "+ create ruleset crypto.mining", "+ create policy web.prod", "+ create policy web.prodPolicy", "1 unchanged",
            ])
        }
    }

    @Test func aPushKilledHalfWayResumesAndCreatesNothingTwice() async throws {
        let document = ContainerPolicyStore.PolicyDocument(
            rulesets: (1...8).map { ContainerPolicyStore.PolicyDocument.RulesetEntry(name: "rs\($0)", rules: [RuleReference(id: String(format: "TM-%08d", $0))]) },
            policies: (1...24).map { ContainerPolicyStore.PolicyDocument.PolicyEntry(name: "policy.\($0)", rulesets: ["rs\($0 % 8 + 1)"]) })
        try await PolicyStore(path: workspace.database.path).perform(.importDocument(document))
        let db = "policies.sqlite"
        try await withEmulator { server in
            let planned = try JSONDecoder().decode(ImportPlan.self, from: Data(try await remote.remote("plan", server, "--json", database: db).stdout.utf8))
            #expect(planned.steps.count == 32)

            // The 12th policy is created, and the push killed before the answer comes back.
            await server.emulator.inject(.holdAfterHandling, method: "POST", path: "/v3.0/containerSecurity/policies", on: .requests([12]))
            let push = try BackgroundRun(
                ["remote", "push", "--endpoint", server.baseURL.absoluteString, "--db", db], in: workspace,
                environment: [RemoteWorkspace.tokenVariable: remote.tokenPath])
            let deadline = ContinuousClock.now + .seconds(60)
            while await server.emulator.heldRequests == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            push.kill()
            let killed = try await push.finish()
            await server.emulator.release()
            #expect(killed.status == SIGKILL)
            // Progress is flushed line by line: what was done is in the log of a killed push.
            #expect(lines(killed.stdout).filter { $0.hasPrefix("[") }.count == 19)
            let held = planned.steps[8 + 11].name
            #expect(await server.emulator.policyCount(named: held) == 1)
            #expect(try workspace.sqlite3(db, "SELECT count(*) FROM sync_state;") == "19\n")

            // The next plan shows only what is left: the held create is found, not made again.
            let left = try JSONDecoder().decode(ImportPlan.self, from: Data(try await remote.remote("plan", server, "--json", database: db).stdout.utf8))
            #expect(left.steps == Array(planned.steps.dropFirst(20)))
            #expect(left.unchanged == 20)
            let resumed = try await remote.remote("push", server, database: db)
            #expect(resumed.status == 0 && lines(resumed.stdout).last == "Pushed 12 steps to \(server.baseURL.absoluteString); 20 unchanged.")
            for step in planned.steps {
                let count = step.kind == .policy ? await server.emulator.policyCount(named: step.name) : await server.emulator.rulesetCount(named: step.name)
                #expect(count == 1, "\(step.name)")
            }
            #expect(try await remote.remote("plan", server, database: db).stdout.hasPrefix("32 unchanged\nNo change"))
        }
    }

    @Test func aStormOf429sEndsWithEveryObjectPresentOnce() async throws {
        try workspace.succeed("demo")
        try await withEmulator { server in
            await server.emulator.inject(.status(429, retryAfter: "0"), on: .cycle([true, false]))
            let push = try await remote.remote("push", server)
            #expect(push.status == 0, "\(push.stderr)")
            #expect(await server.emulator.log.filter { $0.status == 429 }.count >= 10)
            for name in ["baseline.runtime", "crypto.mining"] { #expect(await server.emulator.rulesetCount(named: name) == 1) }
            for name in ["web.prod", "web.prodPolicy"] { #expect(await server.emulator.policyCount(named: name) == 1) }
        }
    }
}
