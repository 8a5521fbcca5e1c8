import ContainerPolicyStore
import ContainerPolicySync
import Foundation
import Testing

/// The planner alone: local documents and remote objects made by hand, no network.
@Suite("SyncPlanner")
struct PlannerTests {
    typealias RulesetEntry = PolicyDocument.RulesetEntry
    typealias PolicyEntry = PolicyDocument.PolicyEntry

    let baseline = RulesetEntry(name: "baseline", description: "every cluster", rules: [
        RuleReference(id: "TM-00000001", mitigation: .terminate), RuleReference(id: "TM-00000002"),
    ])

    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    /// State that says both objects were synced as they are now.
    func synced(_ policies: [RemotePolicy], _ rulesets: [RemoteRuleset]) -> SyncState {
        SyncPull(remotePolicies: policies, remoteRulesets: rulesets).state
    }

    @Test("server defaults are filled and list order is ignored before comparing")
    func defaultsAndOrder() throws {
        // No mitigation (log), no description, no xdrEnabled (true), rules in another order.
        let remoteRuleset = try decode(RemoteRuleset.self, """
            {"id": "rs-1", "name": "baseline", "description": "every cluster",
             "rules": [{"id": "TM-00000002"}, {"id": "TM-00000001", "mitigation": "terminate"}],
             "updatedDateTime": "2026-01-01T00:00:01Z"}
            """)
        let remotePolicy = try decode(RemotePolicy.self, """
            {"id": "p-1", "name": "web", "runtime": {"rulesets": [{"id": "rs-1"}]}, "updatedDateTime": "2026-01-01T00:00:02Z"}
            """)
        let local = PolicyDocument(rulesets: [baseline], policies: [PolicyEntry(name: "web", rulesets: ["baseline"])])
        let plan = try SyncPlanner.plan(
            local: local, remotePolicies: [remotePolicy], remoteRulesets: [remoteRuleset],
            state: synced([remotePolicy], [remoteRuleset]))
        #expect(plan.steps.isEmpty)
        #expect(plan.conflicts.isEmpty && plan.findings.isEmpty)
        #expect(plan.unchanged == 2)
        #expect(plan.stateUpdates.isEmpty)
        #expect(plan.isEmpty)
    }

    @Test("objects equal on both sides but not yet recorded are recorded, not pushed")
    func adoptsEqualObjects() throws {
        let remote = RemoteRuleset(id: "rs-9", name: "baseline", description: "every cluster",
                                   rules: baseline.rules.map { RemoteRule(id: $0.id, mitigation: $0.mitigation) },
                                   updatedDateTime: "T1")
        let plan = try SyncPlanner.plan(
            local: PolicyDocument(rulesets: [baseline]), remotePolicies: [], remoteRulesets: [remote], state: SyncState())
        #expect(plan.isEmpty)
        #expect(plan.stateUpdates == [SyncPlan.StateUpdate(kind: .ruleset, name: "baseline", action: .record, remoteID: "rs-9", updatedDateTime: "T1")])
        var state = SyncState()
        state.apply(plan.stateUpdates)
        #expect(state[.ruleset, "BASELINE"]?.remoteID == "rs-9")
    }

    @Test("a name on one side only is a create, or with prune a delete, never a rename")
    func neverARename() throws {
        let remote = RemotePolicy(id: "p-2", name: "web2", updatedDateTime: "T1")
        let local = PolicyDocument(policies: [PolicyEntry(name: "web")])
        let plan = try SyncPlanner.plan(local: local, remotePolicies: [remote], remoteRulesets: [], state: SyncState())
        #expect(plan.steps.map(\.description) == ["+ create policy web"])
        #expect(plan.findings.map(\.issue) == [.remoteOnly])

        let pruned = try SyncPlanner.plan(local: local, remotePolicies: [remote], remoteRulesets: [], state: SyncState(), prune: true)
        #expect(pruned.steps.map(\.description) == ["+ create policy web", "- delete policy web2"])
        #expect(pruned.steps.allSatisfy { $0.action != .modify })
    }

    @Test("names that differ only in letter case, or that several remote objects share, are reported and left alone")
    func letterCaseAndAmbiguity() throws {
        let plan = try SyncPlanner.plan(
            local: PolicyDocument(
                rulesets: [RulesetEntry(name: "Baseline")],
                policies: [PolicyEntry(name: "web", rulesets: ["Baseline"]), PolicyEntry(name: "api")]),
            remotePolicies: [RemotePolicy(id: "p-1", name: "api"), RemotePolicy(id: "p-2", name: "API")],
            remoteRulesets: [RemoteRuleset(id: "rs-1", name: "baseline")],
            state: SyncState(), prune: true)
        #expect(plan.steps.isEmpty)
        #expect(plan.findings.map(\.issue) == [.ambiguousRemoteName, .linkUnavailable, .letterCaseDiffers])
        #expect(plan.findings.map(\.name) == ["api", "web", "Baseline"])
    }

    @Test("a remote object whose name breaks the rules is reported and never touched, even with prune")
    func invalidRemoteName() throws {
        let shared = RemoteRuleset(id: "rs-1", name: "shared", updatedDateTime: "T1")
        let plan = try SyncPlanner.plan(
            local: PolicyDocument(),
            remotePolicies: [RemotePolicy(id: "p-1", name: "web prod", rulesets: [RemoteRulesetReference(id: "rs-1")])],
            remoteRulesets: [shared, RemoteRuleset(id: "rs-2", name: "bad-name")],
            state: SyncState(), prune: true)
        #expect(plan.steps.isEmpty)
        let issues = plan.findings.map { "\($0.kind) \($0.name) \($0.issue)" }
        #expect(issues == [
            "policy web prod invalidRemoteName", "ruleset bad-name invalidRemoteName", "ruleset shared deletionBlocked",
        ])
        #expect(plan.findings[0].detail.contains("space at position 4"))
        #expect(plan.findings[2].detail.contains("\"web prod\""))
    }

    @Test("Kubernetes-only parts present remotely are reported and not compared")
    func kubernetesParts() throws {
        let remote = try decode(RemotePolicy.self, """
            {"id": "p-1", "name": "web", "xdrEnabled": true, "default": {"rules": [{"type": "podSecurityContext"}], "exceptions": []},
             "namespaced": [{"name": "ns", "namespaces": ["a"]}], "runtime": {"rulesets": []}, "updatedDateTime": "T1"}
            """)
        let labelled = try decode(RemoteRuleset.self, """
            {"id": "rs-1", "name": "baseline", "labels": [{"key": "app", "value": "web"}], "updatedDateTime": "T1"}
            """)
        let plan = try SyncPlanner.plan(
            local: PolicyDocument(rulesets: [RulesetEntry(name: "baseline")], policies: [PolicyEntry(name: "web")]),
            remotePolicies: [remote], remoteRulesets: [labelled], state: synced([remote], [labelled]))
        #expect(plan.steps.isEmpty)
        #expect(plan.findings.map(\.issue) == [.kubernetesOnlyParts, .kubernetesOnlyParts])
        #expect(plan.findings[0].detail.contains("default.rules") && plan.findings[0].detail.contains("namespaced"))
        #expect(plan.findings[1].detail.contains("labels"))
    }

    @Test("a modify carries exactly the changed fields; rules keep what the server sent with them")
    func exactChanges() throws {
        let remoteRuleset = try decode(RemoteRuleset.self, """
            {"id": "rs-1", "name": "baseline", "description": "every cluster", "updatedDateTime": "T1",
             "rules": [{"id": "TM-00000001", "mitigation": "log", "enabled": true}, {"id": "TM-00000009"}]}
            """)
        let strict = RemoteRuleset(id: "rs-2", name: "strict", updatedDateTime: "T1")
        let remotePolicy = RemotePolicy(
            id: "p-1", name: "web", description: "old", rulesets: [RemoteRulesetReference(id: "rs-2")], updatedDateTime: "T1")
        let local = PolicyDocument(
            rulesets: [
                RulesetEntry(name: "baseline", description: "every cluster", rules: [
                    RuleReference(id: "TM-00000003"), RuleReference(id: "TM-00000001", mitigation: .terminate),
                ]),
                RulesetEntry(name: "strict"),
            ],
            policies: [PolicyEntry(name: "web", description: "new", rulesets: ["baseline"])])
        let plan = try SyncPlanner.plan(
            local: local, remotePolicies: [remotePolicy], remoteRulesets: [remoteRuleset, strict],
            state: synced([remotePolicy], [remoteRuleset, strict]))
        #expect(plan.conflicts.isEmpty)
        #expect(plan.steps.count == 2)

        let ruleset = try #require(plan.steps[0].ruleset)
        #expect(ruleset.fields == ["rules"])
        #expect(ruleset.rulesAdded == [RuleReference(id: "TM-00000003")])
        #expect(ruleset.rulesRemoved == ["TM-00000009"])
        #expect(ruleset.rulesRemitigated == [SyncPlan.Remitigation(id: "TM-00000001", from: .log, to: .terminate)])
        #expect(ruleset.rules == [
            RemoteRule(id: "TM-00000001", mitigation: .terminate, additionalFields: ["enabled": .bool(true)]),
            RemoteRule(id: "TM-00000003"),
        ])

        let policy = try #require(plan.steps[1].policy)
        #expect(policy.fields == ["description", "runtime.rulesets"])
        #expect(policy.description == "new" && policy.xdrEnabled == nil)
        #expect(policy.rulesets == ["baseline"] && policy.rulesetsAdded == ["baseline"] && policy.rulesetsRemoved == ["strict"])
        #expect(plan.steps.map(\.description) == [
            "~ modify ruleset baseline: rules +TM-00000003 -TM-00000009 ~TM-00000001 (log -> terminate)",
            "~ modify policy web: description, rulesets +baseline -strict",
        ])
        #expect(plan.rulesetIDs == ["baseline": "rs-1", "strict": "rs-2"])
    }

    @Test("a remote edit after the last sync is a conflict when the object also differs locally")
    func driftIsAConflict() throws {
        let synced = RemotePolicy(id: "p-1", name: "web", description: "as synced", updatedDateTime: "T1")
        let state = SyncPull(remotePolicies: [synced], remoteRulesets: []).state
        var edited = synced
        edited.description = "edited in the console"
        edited.updatedDateTime = "T2"
        let local = PolicyDocument(policies: [PolicyEntry(name: "web", description: "edited in the store")])

        let plan = try SyncPlanner.plan(local: local, remotePolicies: [edited], remoteRulesets: [], state: state)
        #expect(plan.steps.isEmpty)
        #expect(plan.isRefused && !plan.isEmpty)
        #expect(plan.conflicts == [SyncPlan.Conflict(
            kind: .policy, name: "web", remoteID: "p-1", action: .modify, reason: .changedRemotely,
            syncedUpdatedDateTime: "T1", remoteUpdatedDateTime: "T2")])
        #expect(plan.description.contains("! conflict policy web: changed in Vision One since the last sync (synced T1, now T2)"))

        let forced = try SyncPlanner.plan(local: local, remotePolicies: [edited], remoteRulesets: [], state: state, force: true)
        #expect(!forced.isRefused)
        #expect(forced.steps.map(\.description) == ["~ modify policy web: description (forced over a conflict)"])

        // Not edited remotely since the sync: the store's change is pushed without a conflict.
        let calm = try SyncPlanner.plan(local: local, remotePolicies: [synced], remoteRulesets: [], state: state)
        #expect(calm.conflicts.isEmpty && calm.steps.count == 1)

        // Edited remotely, but now equal to the store: only recorded.
        var converged = edited
        converged.description = "edited in the store"
        let same = try SyncPlanner.plan(local: local, remotePolicies: [converged], remoteRulesets: [], state: state)
        #expect(same.isEmpty && same.stateUpdates.map(\.updatedDateTime) == ["T2"])
    }

    @Test("never synced, replaced, or deleted remotely: conflicts too")
    func otherConflicts() throws {
        let local = PolicyDocument(policies: [PolicyEntry(name: "web", description: "mine"), PolicyEntry(name: "api")])
        var state = SyncState()
        state.record(.policy, name: "api", remoteID: "p-old", updatedDateTime: "T1")
        let plan = try SyncPlanner.plan(
            local: local, remotePolicies: [RemotePolicy(id: "p-1", name: "web", updatedDateTime: "T5")], remoteRulesets: [],
            state: state)
        #expect(plan.conflicts.map(\.reason) == [.deletedRemotely, .neverSynced])
        #expect(plan.conflicts.map(\.action) == [.create, .modify])
        #expect(plan.steps.isEmpty)

        var replaced = state
        replaced.record(.policy, name: "web", remoteID: "p-0", updatedDateTime: "T5")
        let again = try SyncPlanner.plan(
            local: local, remotePolicies: [RemotePolicy(id: "p-1", name: "web", updatedDateTime: "T5")], remoteRulesets: [],
            state: replaced)
        #expect(again.conflicts.map(\.reason) == [.deletedRemotely, .replacedRemotely])
    }

    @Test("steps come in dependency order, and prune deletes policies before their rulesets")
    func stepOrder() throws {
        let oldRuleset = RemoteRuleset(id: "rs-old", name: "legacy", updatedDateTime: "T1")
        let changed = RemoteRuleset(id: "rs-b", name: "baseline", description: "before", updatedDateTime: "T1")
        let oldPolicy = RemotePolicy(id: "p-old", name: "old", rulesets: [RemoteRulesetReference(id: "rs-old")], updatedDateTime: "T1")
        let web = RemotePolicy(id: "p-web", name: "web", rulesets: [RemoteRulesetReference(id: "rs-old")], updatedDateTime: "T1")
        let local = PolicyDocument(
            rulesets: [RulesetEntry(name: "strict"), RulesetEntry(name: "baseline", description: "after")],
            policies: [PolicyEntry(name: "web", rulesets: ["strict", "baseline"]), PolicyEntry(name: "api", rulesets: ["strict"])])
        let plan = try SyncPlanner.plan(
            local: local, remotePolicies: [oldPolicy, web], remoteRulesets: [oldRuleset, changed],
            state: synced([oldPolicy, web], [oldRuleset, changed]), prune: true)
        #expect(plan.steps.map(\.description) == [
            "+ create ruleset strict",
            "~ modify ruleset baseline: description",
            "+ create policy api: rulesets +strict",
            "~ modify policy web: rulesets +baseline +strict -legacy",
            "- delete policy old",
            "- delete ruleset legacy",
        ])
    }

    @Test("prune does not delete a policy assigned to a cluster, nor the rulesets it still links")
    func pruneBlockedByCluster() throws {
        let ruleset = RemoteRuleset(id: "rs-1", name: "legacy", updatedDateTime: "T1")
        let policy = RemotePolicy(id: "p-1", name: "old", rulesets: [RemoteRulesetReference(id: "rs-1")], updatedDateTime: "T1")
        let plan = try SyncPlanner.plan(
            local: PolicyDocument(), remotePolicies: [policy], remoteRulesets: [ruleset], state: synced([policy], [ruleset]),
            clusters: [RemoteECSCluster(id: "ecs-1", name: "prod", policyID: "p-1")], prune: true)
        #expect(plan.steps.isEmpty)
        #expect(plan.findings.map(\.issue) == [.deletionBlocked, .deletionBlocked])
        #expect(plan.findings[0].detail.contains("\"prod\""))
    }

    @Test("deleting with prune an object changed remotely since its sync is a conflict")
    func pruneConflict() throws {
        let synced = RemoteRuleset(id: "rs-1", name: "legacy", updatedDateTime: "T1")
        var edited = synced
        edited.updatedDateTime = "T2"
        let plan = try SyncPlanner.plan(
            local: PolicyDocument(), remotePolicies: [], remoteRulesets: [edited], state: SyncPull(remotePolicies: [], remoteRulesets: [synced]).state,
            prune: true)
        #expect(plan.steps.isEmpty && plan.conflicts.map(\.action) == [.delete])
    }

    @Test("records of objects gone from both sides are forgotten")
    func forgetsVanished() throws {
        var state = SyncState()
        state.record(.ruleset, name: "gone", remoteID: "rs-1", updatedDateTime: "T1")
        let plan = try SyncPlanner.plan(local: PolicyDocument(), remotePolicies: [], remoteRulesets: [], state: state)
        #expect(plan.stateUpdates == [SyncPlan.StateUpdate(kind: .ruleset, name: "gone", action: .forget)])
        state.apply(plan.stateUpdates)
        #expect(state.isEmpty)
    }

    @Test("a local document that breaks the rules is refused with every problem")
    func invalidLocal() throws {
        #expect {
            _ = try SyncPlanner.plan(
                local: PolicyDocument(policies: [PolicyEntry(name: "web", rulesets: ["missing"]), PolicyEntry(name: "bad name")]),
                remotePolicies: [], remoteRulesets: [], state: SyncState())
        } throws: { error in
            guard case .invalidDocument(let problems)? = error as? PolicyStoreError else { return false }
            return problems.map(\.path).sorted() == ["policies[0].runtime.rulesets[0].name", "policies[1].name"]
        }
    }

    @Test("a pull leaves out what the store cannot hold, and reports it")
    func pull() throws {
        let baseline = try decode(RemoteRuleset.self, """
            {"id": "rs-1", "name": "baseline", "updatedDateTime": "T1", "labels": [{"key": "app", "value": "web"}],
             "rules": [{"id": "TM-00000002"}, {"id": "TM-00000001", "mitigation": "isolate"}, {"id": "TM-00000002"}]}
            """)
        let bad = RemoteRuleset(id: "rs-2", name: "bad-name", updatedDateTime: "T1")
        let policies = [
            RemotePolicy(id: "p-1", name: "web", xdrEnabled: false, rulesets: [RemoteRulesetReference(id: "rs-1")], updatedDateTime: "T2"),
            RemotePolicy(id: "p-2", name: "uses.bad", rulesets: [RemoteRulesetReference(id: "rs-2")], updatedDateTime: "T2"),
            RemotePolicy(id: "p-3", name: "dangling", rulesets: [RemoteRulesetReference(id: "rs-9")], updatedDateTime: "T2"),
        ]
        let pull = SyncPull(remotePolicies: policies, remoteRulesets: [baseline, bad])
        #expect(pull.document == PolicyDocument(
            rulesets: [.init(name: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .isolate), RuleReference(id: "TM-00000002")])],
            policies: [.init(name: "web", xdrEnabled: false, rulesets: ["baseline"])]))
        #expect(pull.findings.map { "\($0.name) \($0.issue)" } == [
            "dangling linkUnavailable", "uses.bad linkUnavailable", "bad-name invalidRemoteName", "baseline kubernetesOnlyParts",
        ])
        #expect(pull.state.records.map(\.remoteID) == ["p-1", "rs-1"])
        let plan = try SyncPlanner.plan(local: pull.document, remotePolicies: policies, remoteRulesets: [baseline, bad], state: pull.state)
        #expect(plan.steps.isEmpty && plan.conflicts.isEmpty)
    }

    @Test("the plan renders as stable text and round-trips through JSON in the import plan's shape")
    func renderingAndCoding() throws {
        let remote = RemotePolicy(id: "p-1", name: "bad\u{1B}[2Jname", updatedDateTime: "T1")
        let local = PolicyDocument(
            rulesets: [RulesetEntry(name: "baseline", rules: [RuleReference(id: "TM-00000002"), RuleReference(id: "TM-00000001")])],
            policies: [PolicyEntry(name: "web", xdrEnabled: false, rulesets: ["baseline"])])
        let plan = try SyncPlanner.plan(local: local, remotePolicies: [remote], remoteRulesets: [], state: SyncState())
        #expect(plan.description == """
            + create ruleset baseline: rules +TM-00000001 +TM-00000002
            + create policy web: xdrEnabled false, rulesets +baseline
            ? policy "bad\\u{1B}[2Jname" (id p-1): the name contains U+1B at position 4, and only ASCII letters, digits, '_' and '.' are allowed: it breaks the product's name rules, so it is left untouched (rename it in the console to manage it here)
            0 unchanged
            """)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(plan)
        #expect(try JSONDecoder().decode(SyncPlan.self, from: data) == plan)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let steps = try #require(json["steps"] as? [[String: Any]])
        #expect(steps[0]["kind"] as? String == "ruleset" && steps[0]["action"] as? String == "create")
        #expect(steps[0]["changes"] as? [String] == ["rules +TM-00000001 +TM-00000002"])
        #expect(steps[1]["name"] as? String == "web")
    }
}
