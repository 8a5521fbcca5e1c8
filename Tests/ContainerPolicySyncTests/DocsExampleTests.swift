import ContainerPolicyStore
import ContainerPolicySync
import Foundation
import Testing

/// The Swift example of Docs/vision-one.md, compiled. It talks to Vision One itself, so it is
/// compiled and not run; PushTests does the same against the emulator.
@Suite("Docs/vision-one.md")
struct DocsExampleTests {
    static func example(store: PolicyStore, savedState: SyncState, save: (SyncState) throws -> Void) async throws {
        // example begins
        let client = try VisionOneClient(
            baseURL: URL(string: "https://api.xdr.trendmicro.com")!,      // your region's endpoint
            token: try BearerToken(contentsOfFile: "/run/secrets/vision-one-token"))

        let plan = try SyncPlanner.plan(
            local: try await store.perform(.exportDocument()),
            remotePolicies: try await client.listPolicies(),
            remoteRulesets: try await client.listRulesets(),
            state: savedState,                       // SyncState(), the first time
            clusters: try await client.listAmazonECSClusters())
        print(plan)

        let newState = try await client.push(plan, state: savedState) { progress in
            try save(progress.state)                 // after every step: a kill loses nothing
            print("[\(progress.index + 1)/\(progress.count)] \(progress.step)")
        }
        try save(newState)
        // example ends
    }

    static func lines(_ text: some StringProtocol) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test("the example in the document is the one compiled here")
    func exampleIsCompiled() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("Docs/vision-one.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let compiled = try #require(source.components(separatedBy: "// example begins\n").dropFirst().first?
            .components(separatedBy: "// example ends").first)
        let marker = "Compiled by Tests/ContainerPolicySyncTests/DocsExampleTests.swift, which checks it is the same. -->\n```\n"
        let documented = try #require(document.components(separatedBy: marker).dropFirst().first?.components(separatedBy: "```").first)
        #expect(Self.lines(documented) == Self.lines(compiled))
    }
}
