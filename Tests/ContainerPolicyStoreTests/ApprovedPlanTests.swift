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

    @Test func sha256MatchesTheStandardsVectors() {
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hexDigest(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
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
        #expect(try store.perform(.policy(named: "web"))?.description == "Front end")
    }

    /// A change that leaves the content as it was still moves the revision: the approved plan
    /// was made against the old one, and is refused.
    @Test func aPlanIsRefusedWhenAnObjectItTouchesChangedEvenBack() throws {
        let approved = try store.perform(.importDocument(document, dryRun: true))
        try store.perform(.modifyPolicy(named: "web") { $0.xdrEnabled = false })
        try store.perform(.modifyPolicy(named: "web") { $0.xdrEnabled = true })
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
        let total = try store.perform(.policyCount()) + store.perform(.rulesetCount())
        #expect(exported == (1...total).map { StoreProgress(done: $0, total: total) })
    }
}
