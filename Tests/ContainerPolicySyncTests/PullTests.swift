import ContainerPolicyStore
import ContainerPolicySync
import Foundation
import Testing

/// Pull from the emulator into a real store.
@Suite("Pull from the emulator")
struct PullTests {
    @Test("a dry run plans and writes nothing; the pull then imports and records in one transaction")
    func dryRunThenPull() async throws {
        try await withEmulator { server in
            let baseline = await server.emulator.seedRuleset(name: "baseline", description: "every cluster", rules: [("TM-00000001", "terminate")])
            await server.emulator.seedPolicy(name: "web", xdrEnabled: false, rulesetIDs: [baseline])
            let store = try PolicyStore.inMemory()
            let sync = VisionOneSync(store: store, client: try server.client())

            let preview = try await sync.pull(dryRun: true)
            #expect(!preview.plan.applied)
            #expect(preview.description == "+ create ruleset baseline\n+ create policy web\n0 unchanged")
            #expect(try await store.perform(.count(Ruleset.self)) == 0)
            #expect(try await store.perform(.syncRecords(endpoint: sync.endpoint)).isEmpty)

            let pulled = try await sync.pull()
            #expect(pulled.plan.applied && pulled.plan.steps == preview.plan.steps)
            #expect(try await store.perform(.fetch(Policy.self, named: "web"))?.content == PolicyContent(xdrEnabled: false, rulesets: ["baseline"]))
            let records = try await store.perform(.syncRecords(endpoint: sync.endpoint))
            #expect(records.map(\.name) == ["web", "baseline"])
            #expect(records[1].content == .ruleset(RulesetContent(
                description: "every cluster", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])))
            #expect(try await sync.plan().isEmpty)
            #expect(try await sync.pull().plan.steps.isEmpty)
        }
    }

    @Test("Kubernetes-only parts are reported and not stored; names the store cannot hold are left out")
    func leftOut() async throws {
        try await withEmulator { server in
            let labelled = await server.emulator.seedRuleset(name: "labelled", labels: [["key": "app", "value": "web"]])
            await server.emulator.seedPolicy(name: "k8s", rulesetIDs: [labelled], deploymentRules: [["type": "podSecurityContext"]])
            await server.emulator.seedPolicy(name: "web prod")
            let store = try PolicyStore.inMemory()
            let result = try await VisionOneSync(store: store, client: try server.client()).pull()
            #expect(result.findings.map { "\($0.name) \($0.issue)" } == [
                "k8s kubernetesOnlyParts", "web prod invalidRemoteName", "labelled kubernetesOnlyParts",
            ])
            #expect(result.description.contains("? policy \"k8s\""))
            #expect(try await store.perform(.exportDocument()) == PolicyDocument(
                rulesets: [.init(name: "labelled")], policies: [.init(name: "k8s", rulesets: ["labelled"])]))
        }
    }

    @Test("a pull is refused as an import is, and then writes nothing, not even records")
    func refusedAsImport() async throws {
        try await withEmulator { server in
            await server.emulator.seedPolicy(name: "web")
            await server.emulator.seedRuleset(name: "baseline")
            let store = try PolicyStore.inMemory()
            try await store.perform(.createPolicy(named: "WEB"))
            let sync = VisionOneSync(store: store, client: try server.client())
            await #expect {
                try await sync.pull()
            } throws: { error in
                guard case .pullRefused(let problems)? = error as? SyncError else { return false }
                return problems.map { "\($0.kind.map(String.init(describing:)) ?? "") \($0.name ?? "") \($0.field)" } == ["policy web name"]
                    && problems[0].remoteID?.hasPrefix("pol-") == true && problems[0].message.contains("names cannot change")
            }
            #expect(try await store.perform(.fetch(Ruleset.self, named: "baseline")) == nil)
            #expect(try await store.perform(.syncRecords(endpoint: sync.endpoint)).isEmpty)
        }
    }

    @Test("with prune, a pull deletes what Vision One lacks and forgets its records")
    func pullWithPrune() async throws {
        try await withEmulator { server in
            let store = try PolicyStore.inMemory()
            try await store.perform(.createRuleset(named: "local.only"))
            try await store.perform(.createRuleset(named: "shared"))
            let sync = VisionOneSync(store: store, client: try server.client())
            try await sync.push(try await sync.plan())
            let id = try #require(await server.emulator.ruleset(named: "local.only")?.id)
            _ = try await rawRequest(server, "DELETE", "/v3.0/containerSecurity/rulesets/\(id)")

            #expect(try await sync.pull().plan.steps.isEmpty)
            #expect(try await store.perform(.syncRecords(endpoint: sync.endpoint)).count == 2)
            let pruned = try await sync.pull(prune: true)
            #expect(pruned.plan.steps.map(\.description) == ["- delete ruleset local.only"])
            #expect(try await store.perform(.syncRecords(endpoint: sync.endpoint)).map(\.name) == ["shared"])
        }
    }

    @Test("a change made in Vision One only is reported by a plan, and a pull takes it")
    func remoteChangeIsPulled() async throws {
        try await withEmulator { server in
            let store = try PolicyStore.inMemory()
            try await store.perform(.createPolicy(named: "web", description: "first"))
            let sync = VisionOneSync(store: store, client: try server.client())
            try await sync.push(try await sync.plan())
            await server.emulator.editInConsole(policyNamed: "web", description: "edited in the console")

            let plan = try await sync.plan()
            #expect(plan.steps.isEmpty && plan.conflicts.isEmpty && plan.findings.map(\.issue) == [.changedRemotely])
            let pulled = try await sync.pull()
            #expect(pulled.plan.steps.map(\.description) == ["~ modify policy web: description"])
            #expect(try await store.perform(.fetch(Policy.self, named: "web"))?.description == "edited in the console")
            #expect(try await sync.plan().isEmpty)
        }
    }
}
