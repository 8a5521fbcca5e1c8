import ContainerPolicyStore
import ContainerPolicySync
import Foundation
import Testing

/// The ```swift blocks of Docs/vision-one.md, compiled here word for word (the docs test of
/// ContainerPolicyStoreTests, which checks every other Docs block, reads this file for
/// these). The first talks to Vision One itself, so it is compiled and not run; the others
/// run against the emulator.
@Suite("Docs/vision-one.md")
struct DocsExampleTests {
    static func connect(store: PolicyStore) async throws {
        let client = try VisionOneClient(
            baseURL: VisionOneRegion.eu.baseURL,  // or URL(string: "https://api.eu.xdr.trendmicro.com")!
            token: try BearerToken(contentsOfFile: "/run/secrets/vision-one-token"))
        let sync = VisionOneSync(store: store, client: client)
        _ = sync
    }

    @Test func planPushAndPull() async throws {
        try await withEmulator { server in
            let store = try PolicyStore.inMemory()
            try await store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
            try await store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
            let sync = VisionOneSync(store: store, client: try server.client())

            let plan = try await sync.plan()
            print(plan)  // the steps, then conflicts (!) and findings (?), then "0 unchanged"
            if plan.isRefused {
                for conflict in plan.conflicts { print(conflict.name, conflict.reason) }
            } else {
                try await sync.push(plan) { progress in
                    print(progress)  // [1/2] + create ruleset baseline: created, id rs-...
                }
            }

            let preview = try await sync.pull(dryRun: true)
            print(preview.plan.steps.isEmpty)  // true: the store and Vision One match
            #expect(preview.plan.steps.isEmpty && preview.findings.isEmpty)
            #expect(await server.emulator.policyCount(named: "web.prod") == 1)

            let pruning = try await sync.plan(prune: true)
            do {
                try await sync.push(pruning)
            } catch SyncError.refused(let conflicts) {
                print("pull first, or push with force: \(conflicts.map(\.name))")
            } catch SyncError.stepFailed(let step, let completed, let error) {
                print("stopped at \(step.name) after \(completed) steps: \(error.status ?? 0) \(error.traceID ?? "")")
            } catch {
                print("error: \(error)")
            }
            #expect(try await sync.plan(prune: true).isEmpty)
        }
    }

    /// Lines without their indentation, as the store's docs test compares them.
    static func normalized(_ code: String) -> String {
        code.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n")
    }

    @Test("every swift block of the document is compiled here")
    func everyBlockIsHere() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("Docs/vision-one.md"), encoding: .utf8)
        let source = Self.normalized(try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8))
        let blocks = document.components(separatedBy: "```swift\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
        #expect(blocks.count >= 3)
        for block in blocks {
            #expect(source.contains(Self.normalized(block)), "not compiled here:\n\(block)")
        }
    }
}
