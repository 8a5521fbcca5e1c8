import Foundation
import Testing
@testable import ContainerPolicyStore

/// Plans that can be approved: the fingerprint, `expectedPlan`, and the progress of long
/// imports and exports.
@Suite struct ApprovedPlanTests {
    let store: PolicyStore
    let document: PolicyDocument

    init() throws {
        store = try PolicyStore.inMemory()
        try store.perform(.createRuleset(named: "base"))
        try store.perform(.createPolicy(named: "web", rulesets: ["base"]))
        document = PolicyDocument(
            rulesets: [.init(name: "base", description: "Base rules")],
            policies: [.init(name: "web", description: "Front end", rulesets: ["base"]), .init(name: "api")])
    }

    @Test func theSamePlanHasTheSameFingerprintAndAnotherPlanAnother() throws {
        let first = try store.perform(.importDocument(document, dryRun: true))
        let again = try store.perform(.importDocument(document, dryRun: true))
        #expect(first.fingerprint == again.fingerprint)
        #expect(first.fingerprint.wholeMatch(of: /[0-9a-f]{64}/) != nil)
        let pruned = try store.perform(.importDocument(PolicyDocument(policies: [.init(name: "api")]), prune: true, dryRun: true))
        #expect(pruned.fingerprint != first.fingerprint)
        // The JSON carries it, and a decoded plan has the same.
        let json = ProductJSON.data(first)
        #expect(try JSONDecoder().decode(ImportPlan.self, from: json).fingerprint == first.fingerprint)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["fingerprint"] as? String == first.fingerprint)
    }

    @Test func anApprovedPlanApplies() throws {
        let approved = try store.perform(.importDocument(document, dryRun: true)).fingerprint
        let applied = try store.perform(.importDocument(document, expectedPlan: approved.uppercased()))
        #expect(applied.applied && applied.fingerprint == approved)
        #expect(try store.perform(.fetch(Policy.self, named: "web"))?.description == "Front end")
    }

    /// A change that leaves the content as it was still moves the revision: the approved plan
    /// was made against the old one, and is refused.
    @Test func aPlanIsRefusedWhenAnObjectItTouchesChangedEvenBack() throws {
        let approved = try store.perform(.importDocument(document, dryRun: true))
        try store.perform(.modify(Policy.self, named: "web") { $0.xdrEnabled = false })
        try store.perform(.modify(Policy.self, named: "web") { $0.xdrEnabled = true })
        let before = try snapshot(store)
        let now = try store.perform(.importDocument(document, dryRun: true))
        #expect(now.description == approved.description, "the same steps")
        #expect(throws: PolicyStoreError.planChanged(expected: approved.fingerprint, plan: now)) {
            try store.perform(.importDocument(document, expectedPlan: approved.fingerprint))
        }
        #expect(throws: PolicyStoreError.planChanged(expected: approved.fingerprint, plan: now)) {
            try store.perform(.importDocument(document, dryRun: true, expectedPlan: approved.fingerprint))
        }
        #expect(try snapshot(store) == before)
    }

    @Test func aChangeOutsideThePlanLeavesItApplicable() throws {
        let approved = try store.perform(.importDocument(document, dryRun: true)).fingerprint
        try store.perform(.createPolicy(named: "unrelated"))
        #expect(try store.perform(.importDocument(document, expectedPlan: approved)).applied)
    }

    @Test func importAndExportReportTheirProgress() throws {
        let many = PolicyDocument(policies: (0..<50).map { .init(name: "p\($0)") })
        var seen: [StoreProgress] = []
        let plan = try store.write { tx in try tx.importDocument(many) { seen.append($0) } }
        #expect(seen == (1...plan.steps.count).map { StoreProgress(done: $0, total: plan.steps.count) })

        var exported: [StoreProgress] = []
        let summary = try store.read { tx in try tx.export(progress: { exported.append($0) }) { _ in } }
        #expect(summary.policies == 51)
        let total = try store.perform(.count(Policy.self)) + store.perform(.count(Ruleset.self))
        #expect(exported == (1...total).map { StoreProgress(done: $0, total: total) })
    }
}
