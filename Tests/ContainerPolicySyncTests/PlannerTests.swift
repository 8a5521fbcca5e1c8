import ContainerPolicyStore
import ContainerPolicySync
import Foundation
import Testing

/// The planner alone: local documents, remote objects and records made by hand, no network.
@Suite("SyncPlanner")
struct PlannerTests {
    typealias RulesetEntry = PolicyDocument.RulesetEntry
    typealias PolicyEntry = PolicyDocument.PolicyEntry

    static let endpoint = "https://tenant.example"

    let baseline = RulesetEntry(name: "baseline", description: "every cluster", rules: [
        RuleReference(id: "TM-00000001", mitigation: .terminate), RuleReference(id: "TM-00000002"),
    ])

    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    func plan(
        _ local: PolicyDocument, policies: [RemotePolicy] = [], rulesets: [RemoteRuleset] = [], clusters: [RemoteECSCluster] = [],
        records: [SyncRecord] = [], prune: Bool = false, force: Bool = false
    ) throws -> SyncPlan {
        try SyncPlanner.plan(
            local: local, remote: RemoteState(policies: policies, rulesets: rulesets, clusters: clusters), records: records,
            endpoint: Self.endpoint, prune: prune, force: force)
    }

    /// Records that say the remote objects were synced as they are now.
    func synced(_ policies: [RemotePolicy] = [], _ rulesets: [RemoteRuleset] = []) -> [SyncRecord] {
        SyncPull(remote: RemoteState(policies: policies, rulesets: rulesets), endpoint: Self.endpoint).records
    }

    func record(_ name: String, _ id: String, _ updated: String, _ content: RecordedContent) -> SyncRecord {
        SyncRecord(endpoint: Self.endpoint, name: name, remoteID: id, remoteUpdatedDateTime: updated, content: content)
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
            {"id": "p-1", "name": "web", "description": null, "runtime": {"rulesets": [{"id": "rs-1"}]}, "updatedDateTime": "2026-01-01T00:00:02Z"}
            """)
        #expect(remoteRuleset.content == baseline.content)
        #expect(remotePolicy.content == PolicyContent() && remotePolicy.rulesetLinks == [RemoteRulesetReference(id: "rs-1")])
        let local = PolicyDocument(rulesets: [baseline], policies: [PolicyEntry(name: "web", rulesets: ["baseline"])])
        let plan = try plan(local, policies: [remotePolicy], rulesets: [remoteRuleset], records: synced([remotePolicy], [remoteRuleset]))
        #expect(plan.steps.isEmpty)
        #expect(plan.conflicts.isEmpty && plan.findings.isEmpty)
        #expect(plan.unchanged == 2)
        #expect(plan.records.isEmpty)
        #expect(plan.isEmpty)
    }

    @Test("objects equal on both sides but not yet recorded are recorded, not pushed")
    func adoptsEqualObjects() throws {
        let remote = RemoteRuleset(id: "rs-9", name: "baseline", content: baseline.content, updatedDateTime: "T1")
        let plan = try plan(PolicyDocument(rulesets: [baseline]), rulesets: [remote])
        #expect(plan.isEmpty && plan.unchanged == 1)
        #expect(plan.records == [record("baseline", "rs-9", "T1", .ruleset(baseline.content))])
    }

    @Test("a name on one side only is a create, or with prune a delete, never a rename")
    func neverARename() throws {
        let remote = RemotePolicy(id: "p-2", name: "web2", updatedDateTime: "T1")
        let local = PolicyDocument(policies: [PolicyEntry(name: "web")])
        let plain = try plan(local, policies: [remote])
        #expect(plain.steps.map(\.description) == ["+ create policy web"])
        #expect(plain.findings.map(\.issue) == [.remoteOnly])

        let pruned = try plan(local, policies: [remote], prune: true)
        #expect(pruned.steps.map(\.description) == ["+ create policy web", "- delete policy web2"])
        #expect(pruned.steps[1].remoteID == "p-2" && pruned.steps[1].content == nil)
    }

    @Test("names that differ only in letter case, or that several remote objects share, are reported and left alone")
    func letterCaseAndAmbiguity() throws {
        let plan = try plan(
            PolicyDocument(
                rulesets: [RulesetEntry(name: "Baseline")],
                policies: [PolicyEntry(name: "web", rulesets: ["Baseline"]), PolicyEntry(name: "api")]),
            policies: [RemotePolicy(id: "p-1", name: "api"), RemotePolicy(id: "p-2", name: "API")],
            rulesets: [RemoteRuleset(id: "rs-1", name: "baseline")], prune: true)
        #expect(plan.steps.isEmpty)
        #expect(plan.findings.map(\.issue) == [.ambiguousRemoteName, .linkUnavailable, .letterCaseDiffers])
        #expect(plan.findings.map(\.name) == ["api", "web", "Baseline"])
    }

    @Test("a remote object whose name breaks the rules is reported and never touched, even with prune")
    func invalidRemoteName() throws {
        let plan = try plan(
            PolicyDocument(),
            policies: [RemotePolicy(id: "p-1", name: "web prod", rulesetLinks: [RemoteRulesetReference(id: "rs-1")])],
            rulesets: [RemoteRuleset(id: "rs-1", name: "shared", updatedDateTime: "T1"), RemoteRuleset(id: "rs-2", name: "bad-name")],
            prune: true)
        #expect(plan.steps.isEmpty)
        #expect(plan.findings.map { "\($0.kind) \($0.name) \($0.issue)" } == [
            "policy web prod invalidRemoteName", "ruleset bad-name invalidRemoteName", "ruleset shared deletionBlocked",
        ])
        #expect(plan.findings[0].detail.contains("the policy name \"web prod\" contains a space at position 4"))
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
        let plan = try plan(
            PolicyDocument(rulesets: [RulesetEntry(name: "baseline")], policies: [PolicyEntry(name: "web")]),
            policies: [remote], rulesets: [labelled], records: synced([remote], [labelled]))
        #expect(plan.steps.isEmpty)
        #expect(plan.findings.map(\.issue) == [.kubernetesOnlyParts, .kubernetesOnlyParts])
        #expect(plan.findings[0].detail.contains("default.rules") && plan.findings[0].detail.contains("namespaced"))
        #expect(plan.findings[1].detail.contains("labels"))
    }

    @Test("a modify carries the store's own diff: exactly the changed fields, links and rules")
    func exactChanges() throws {
        let remoteRuleset = try decode(RemoteRuleset.self, """
            {"id": "rs-1", "name": "baseline", "description": "every cluster", "updatedDateTime": "T1",
             "rules": [{"id": "TM-00000001", "mitigation": "log", "enabled": true}, {"id": "TM-00000009"}]}
            """)
        #expect(remoteRuleset.ruleFields == ["TM-00000001": ["enabled": .bool(true)]])
        let strict = RemoteRuleset(id: "rs-2", name: "strict", updatedDateTime: "T1")
        let remotePolicy = RemotePolicy(
            id: "p-1", name: "web", content: PolicyContent(description: "old"), rulesetLinks: [RemoteRulesetReference(id: "rs-2")],
            updatedDateTime: "T1")
        let newRules = [RuleReference(id: "TM-00000003"), RuleReference(id: "TM-00000001", mitigation: .terminate)]
        let local = PolicyDocument(
            rulesets: [RulesetEntry(name: "baseline", description: "every cluster", rules: newRules), RulesetEntry(name: "strict")],
            policies: [PolicyEntry(name: "web", description: "new", rulesets: ["baseline"])])
        let plan = try plan(local, policies: [remotePolicy], rulesets: [remoteRuleset, strict], records: synced([remotePolicy], [remoteRuleset, strict]))
        #expect(plan.conflicts.isEmpty)
        #expect(plan.steps.map(\.action) == [
            .modify(.ruleset(RulesetChanges(
                addedRules: [RuleReference(id: "TM-00000003")], removedRules: ["TM-00000009"],
                remitigatedRules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))),
            .modify(.policy(PolicyChanges(
                fields: [FieldChange(field: .description, from: .text("old"), to: .text("new"))],
                addedRulesets: ["baseline"], removedRulesets: ["strict"]))),
        ])
        #expect(plan.steps.map(\.description) == [
            "~ modify ruleset baseline: rules +TM-00000003:log -TM-00000009 ~TM-00000001:terminate",
            "~ modify policy web: description, rulesets +baseline -strict",
        ])
        #expect(plan.steps[1].content == .policy(PolicyContent(description: "new", rulesets: ["baseline"])))
        #expect(plan.steps.map(\.remoteID) == ["rs-1", "p-1"] && plan.steps.map(\.remoteUpdatedDateTime) == ["T1", "T1"])
        #expect(plan.rulesetIDs == ["baseline": "rs-1", "strict": "rs-2"])
    }

    @Test("changed on both sides since the last sync is a conflict; in the store only, a step")
    func changedOnBothSides() throws {
        let synced = RemotePolicy(id: "p-1", name: "web", content: PolicyContent(description: "as synced"), updatedDateTime: "T1")
        let records = self.synced([synced])
        var edited = synced
        edited.description = "edited in the console"
        edited.updatedDateTime = "T2"
        let local = PolicyDocument(policies: [PolicyEntry(name: "web", description: "edited in the store")])

        let refused = try plan(local, policies: [edited], records: records)
        #expect(refused.steps.isEmpty)
        #expect(refused.isRefused && !refused.isEmpty)
        #expect(refused.conflicts == [SyncPlan.Conflict(
            kind: .policy, name: "web", remoteID: "p-1", action: .modify, reason: .changedOnBothSides,
            syncedUpdatedDateTime: "T1", remoteUpdatedDateTime: "T2")])
        #expect(refused.description.contains(
            "! conflict policy web: changed in Vision One since the last sync (synced T1, now T2) and changed in the store; a push would overwrite it"))

        let forced = try plan(local, policies: [edited], records: records, force: true)
        #expect(!forced.isRefused)
        #expect(forced.steps.map(\.description) == ["~ modify policy web: description (forced)"])

        // Not edited remotely since the sync: the store's change goes without a conflict.
        let calm = try plan(local, policies: [synced], records: records)
        #expect(calm.conflicts.isEmpty && calm.steps.map(\.forced) == [false])

        // Only the timestamp moved (a field the store does not model): still the store's change.
        var touched = synced
        touched.updatedDateTime = "T3"
        #expect(try plan(local, policies: [touched], records: records).steps.count == 1)

        // Edited remotely, but now equal to the store: only recorded, with the new timestamp.
        var converged = edited
        converged.description = "edited in the store"
        let same = try plan(local, policies: [converged], records: records)
        #expect(same.isEmpty && same.records.map(\.remoteUpdatedDateTime) == ["T2"])
    }

    @Test("changed in Vision One only is left as it is there and reported; force overwrites it")
    func changedRemotelyOnly() throws {
        let lastSynced = RemoteRuleset(id: "rs-1", name: "baseline", content: baseline.content, updatedDateTime: "T1")
        var edited = lastSynced
        edited.rules.append(RuleReference(id: "TM-00000042", mitigation: .isolate))
        edited.updatedDateTime = "T2"
        let local = PolicyDocument(rulesets: [baseline])
        let plan = try plan(local, rulesets: [edited], records: synced([], [lastSynced]))
        #expect(plan.steps.isEmpty && plan.conflicts.isEmpty && !plan.isRefused)
        #expect(plan.findings.map(\.issue) == [.changedRemotely])
        #expect(plan.findings[0].detail.contains("pull to take the change"))
        let forced = try self.plan(local, rulesets: [edited], records: synced([], [lastSynced]), force: true)
        #expect(forced.steps.map(\.description) == ["~ modify ruleset baseline: rules -TM-00000042 (forced)"])
    }

    @Test("never synced, made again, or deleted remotely and changed here: conflicts too")
    func otherConflicts() throws {
        let local = PolicyDocument(policies: [PolicyEntry(name: "web", description: "mine"), PolicyEntry(name: "api")])
        let apiRecord = record("api", "p-old", "T1", .policy(PolicyContent(description: "before")))
        let web = RemotePolicy(id: "p-1", name: "web", updatedDateTime: "T5")
        let plan = try plan(local, policies: [web], records: [apiRecord])
        #expect(plan.conflicts.map(\.reason) == [.deletedRemotely, .neverSynced])
        #expect(plan.conflicts.map(\.action) == [.create, .modify])
        #expect(plan.steps.isEmpty)

        let replaced = try self.plan(local, policies: [web], records: [apiRecord, record("web", "p-0", "T5", .policy(PolicyContent()))])
        #expect(replaced.conflicts.map(\.reason) == [.deletedRemotely, .replacedRemotely])

        // Deleted remotely and not changed here: reported, not made again.
        let unchanged = try self.plan(local, policies: [web], records: [record("api", "p-old", "T1", .policy(PolicyContent()))])
        #expect(unchanged.findings.map(\.issue) == [.deletedRemotely])
        #expect(unchanged.steps.isEmpty)
    }

    @Test("steps come in dependency order, and prune deletes policies before their rulesets")
    func stepOrder() throws {
        let oldRuleset = RemoteRuleset(id: "rs-old", name: "legacy", updatedDateTime: "T1")
        let changed = RemoteRuleset(id: "rs-b", name: "baseline", content: RulesetContent(description: "before"), updatedDateTime: "T1")
        let oldPolicy = RemotePolicy(id: "p-old", name: "old", rulesetLinks: [RemoteRulesetReference(id: "rs-old")], updatedDateTime: "T1")
        let web = RemotePolicy(id: "p-web", name: "web", rulesetLinks: [RemoteRulesetReference(id: "rs-old")], updatedDateTime: "T1")
        let local = PolicyDocument(
            rulesets: [RulesetEntry(name: "strict"), RulesetEntry(name: "baseline", description: "after")],
            policies: [PolicyEntry(name: "web", rulesets: ["strict", "baseline"]), PolicyEntry(name: "api", rulesets: ["strict"])])
        let plan = try plan(
            local, policies: [oldPolicy, web], rulesets: [oldRuleset, changed], records: synced([oldPolicy, web], [oldRuleset, changed]),
            prune: true)
        #expect(plan.steps.map(\.description) == [
            "+ create ruleset strict",
            "~ modify ruleset baseline: description",
            "+ create policy api",
            "~ modify policy web: rulesets +baseline +strict -legacy",
            "- delete policy old",
            "- delete ruleset legacy",
        ])
    }

    @Test("prune does not delete a policy assigned to a cluster, nor the rulesets it still links")
    func pruneBlockedByCluster() throws {
        let ruleset = RemoteRuleset(id: "rs-1", name: "legacy", updatedDateTime: "T1")
        let policy = RemotePolicy(id: "p-1", name: "old", rulesetLinks: [RemoteRulesetReference(id: "rs-1")], updatedDateTime: "T1")
        let plan = try plan(
            PolicyDocument(), policies: [policy], rulesets: [ruleset],
            clusters: [RemoteECSCluster(id: "ecs-1", name: "prod", policyID: "p-1")], records: synced([policy], [ruleset]), prune: true)
        #expect(plan.steps.isEmpty)
        #expect(plan.findings.map(\.issue) == [.deletionBlocked, .deletionBlocked])
        #expect(plan.findings[0].detail.contains("\"prod\""))
    }

    @Test("deleting with prune an object changed remotely since its sync is a conflict")
    func pruneConflict() throws {
        let lastSynced = RemoteRuleset(id: "rs-1", name: "legacy", updatedDateTime: "T1")
        var edited = lastSynced
        edited.description = "edited in the console"
        edited.updatedDateTime = "T2"
        let plan = try plan(PolicyDocument(), rulesets: [edited], records: synced([], [lastSynced]), prune: true)
        #expect(plan.steps.isEmpty && plan.conflicts.map(\.action) == [.delete])
        #expect(try self.plan(PolicyDocument(), rulesets: [lastSynced], records: synced([], [lastSynced]), prune: true).steps.count == 1)
    }

    @Test("records of objects gone from both sides are forgotten")
    func forgetsVanished() throws {
        let gone = record("gone", "rs-1", "T1", .ruleset(RulesetContent()))
        let plan = try plan(PolicyDocument(), records: [gone])
        #expect(plan.forgotten == [gone])
        #expect(plan.isEmpty)
    }

    @Test("a local document that breaks the rules is refused with every problem")
    func invalidLocal() throws {
        #expect {
            _ = try plan(PolicyDocument(policies: [PolicyEntry(name: "web", rulesets: ["missing"]), PolicyEntry(name: "bad name")]))
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
            RemotePolicy(id: "p-1", name: "web", content: PolicyContent(xdrEnabled: false), rulesetLinks: [RemoteRulesetReference(id: "rs-1")], updatedDateTime: "T2"),
            RemotePolicy(id: "p-2", name: "uses.bad", rulesetLinks: [RemoteRulesetReference(id: "rs-2")], updatedDateTime: "T2"),
            RemotePolicy(id: "p-3", name: "dangling", rulesetLinks: [RemoteRulesetReference(id: "rs-9")], updatedDateTime: "T2"),
        ]
        let remote = RemoteState(policies: policies, rulesets: [baseline, bad])
        let pull = SyncPull(remote: remote, endpoint: Self.endpoint)
        #expect(pull.document == PolicyDocument(
            rulesets: [.init(name: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .isolate), RuleReference(id: "TM-00000002")])],
            policies: [.init(name: "web", xdrEnabled: false, rulesets: ["baseline"])]))
        #expect(pull.findings.map { "\($0.name) \($0.issue)" } == [
            "dangling linkUnavailable", "uses.bad linkUnavailable", "bad-name invalidRemoteName", "baseline kubernetesOnlyParts",
        ])
        #expect(pull.records.map(\.remoteID) == ["rs-1", "p-1"])
        let after = try plan(pull.document, policies: policies, rulesets: [baseline, bad], records: pull.records)
        #expect(after.steps.isEmpty && after.conflicts.isEmpty && after.records.isEmpty)
    }

    @Test("the plan reads as an import plan does, and its JSON has the import plan's shape")
    func renderingAndJSON() throws {
        let remote = RemotePolicy(id: "p-1", name: "bad\u{1B}[2Jname", updatedDateTime: "T1")
        let local = PolicyDocument(
            rulesets: [RulesetEntry(name: "baseline", rules: [RuleReference(id: "TM-00000002"), RuleReference(id: "TM-00000001")])],
            policies: [PolicyEntry(name: "web", xdrEnabled: false, rulesets: ["baseline"])])
        let plan = try plan(local, policies: [remote])
        #expect(plan.description == """
            + create ruleset baseline
            + create policy web
            ? policy "bad\\u{1B}[2Jname" (id p-1): the policy name "bad\\u{1B}[2Jname" contains the character U+001B at position 4: only ASCII letters, digits, '_' and '.' are allowed: the store cannot hold it, so it is left untouched (rename it in the console to manage it here)
            0 unchanged
            """)

        let store = try PolicyStore.inMemory()
        let imported = try store.perform(.importDocument(local, dryRun: true))
        // Read as an import plan, the plan's JSON is the import's: the same steps in the same shape.
        #expect(try JSONDecoder().decode(ImportPlan.self, from: ProductJSON.data(plan)) == imported)
        let json = try #require(try JSONSerialization.jsonObject(with: ProductJSON.data(plan)) as? [String: Any])
        let steps = try #require(json["steps"] as? [[String: Any]])
        #expect(steps.map { $0["forced"] as? Bool } == [false, false])
        #expect(json["unchanged"] as? Int == 0 && json["applied"] as? Bool == false && json["endpoint"] as? String == Self.endpoint)
        #expect((json["findings"] as? [[String: Any]])?.first?["issue"] as? String == "invalidRemoteName")
    }
}
