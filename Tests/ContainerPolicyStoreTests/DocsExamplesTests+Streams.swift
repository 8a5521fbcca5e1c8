import ContainerPolicyStore
import Foundation
import Testing

// The docs' blocks on exports, change feeds, the history's pages and the managed-rule
// catalogue; `everyDocsExampleIsHere` reads this file with the suite's own.
extension DocsExamplesTests {
    @Test func exportToAFile() throws {
        let store = try PolicyStore.inMemory()
        try store.perform(.createPolicy(named: "web.prod"))
        let exportPath = directory.path("policies.json")

        try store.perform(.export(to: URL(fileURLWithPath: exportPath)))
        let plan = try store.perform(.importDocument(try PolicyDocument(json: Data(contentsOf: URL(fileURLWithPath: exportPath))), dryRun: true))
        print(plan.unchanged)  // everything: the store already matches its own export
        #expect(plan.unchanged == 1 && plan.steps.isEmpty)

        let document = PolicyDocument(policies: [PolicyDocument.PolicyEntry(name: "web.prod", content: PolicyContent(xdrEnabled: false))])
        let preview = try store.perform(.importDocument(document, prune: false, dryRun: true))
        for step in preview.steps {
            if case .modify(let changes) = step.action { print(step.kind, step.name, changes) }
        }
        #expect(preview.steps.map(\.description) == ["~ modify policy web.prod: xdrEnabled off"])

        let reviewed = try store.perform(.importDocument(document, dryRun: true))
        print(reviewed.fingerprint)  // 64 hexadecimal digits, for whoever approves the plan
        do {
            let applied = try store.perform(.importDocument(document, expectedPlan: reviewed.fingerprint))
            print(applied.applied)  // true
        } catch .planChanged(_, let now) {
            print("not applied; the plan is now \(now.fingerprint):\n\(now)")
        } catch {
            print("error: \(error)")
        }
        #expect(try store.perform(.fetch(Policy.self, named: "web.prod"))?.xdrEnabled == false, "the approved plan was applied")
        #expect(throws: PolicyStoreError.self) { try store.perform(.importDocument(document, expectedPlan: preview.fingerprint)) }

        do {
            _ = try PolicyDocument(json: Data(#"{"policies": [{"name": "web.prod"}, {"name": "also-bad"}]}"#.utf8))
        } catch {
            for problem in error.documentProblems {
                print(problem.path, problem.value ?? "-", problem.message)  // policies[1].name "also-bad" contains '-' at position 5: ...
            }
        }
        let refusal = #expect(throws: PolicyStoreError.self) {
            try PolicyDocument(json: Data(#"{"policies": [{"name": "web.prod"}, {"name": "also-bad"}]}"#.utf8))
        }
        #expect(refusal?.documentProblems.map(\.description) == [#"policies[1].name "also-bad": contains '-' at position 5: only ASCII letters, digits, '_' and '.' are allowed"#])

        let many = PolicyDocument(policies: (1...2_000).map { PolicyDocument.PolicyEntry(name: "service\($0)") })
        let imported = try store.write { tx in
            try tx.importDocument(many) { progress in
                if progress.done % 500 == 0 { print("\(progress.done) of \(progress.total)") }  // 500 of 2000, ...
            }
        }
        let summary = try store.read { tx in
            try tx.export(to: URL(fileURLWithPath: exportPath)) { progress in
                if progress.done == progress.total { print("exported \(progress.total) objects") }
            }
        }
        print(imported.steps.count, summary.policies)  // 2000 2001
        #expect(imported.steps.count == 2_000 && summary.policies == 2_001)

        let json = ProductJSON.data(try store.perform(.fetch(Policy.self, named: "web.prod")))
        let decoded = try JSONDecoder().decode(Policy.self, from: json)
        print(decoded.name)  // web.prod
        #expect(decoded == (try store.perform(.fetch(Policy.self, named: "web.prod"))))
    }

    @Test func watchTheStore() async throws {
        let store = try PolicyStore(path: databasePath)
        try await store.perform(.createPolicy(named: "web.prod"))

        let start = try await store.perform(.lastChangeSequence())
        let alerts = Task {
            for try await change in store.changes(after: start) {
                guard change.before?.policy?.xdrEnabled == true, change.after?.policy?.xdrEnabled == false else { continue }
                print("XDR Telemetry turned off for \(change.name) by \(change.actor.isEmpty ? "someone in the shell" : change.actor)")
            }
        }
        try await store.perform(.modify(Policy.self, named: "web.prod") { $0.xdrEnabled = false })
        let turnedOff = try await store.changes(after: start).first { _ in true }
        #expect(turnedOff?.before?.policy?.xdrEnabled == true && turnedOff?.after?.policy?.xdrEnabled == false)
        alerts.cancel()
        try await alerts.value  // cancelled, the feed ends quietly

        let deleting = Task {
            try await Task.sleep(for: .milliseconds(50))
            try await store.perform(.delete(Policy.self, named: "web.prod"))
        }
        for try await current in store.observe(policyNamed: "web.prod") {
            guard let current else { print("web.prod is gone"); break }
            print(current.policy.revision, current.rulesets.flatMap(\.rules).count)
        }
        try await deleting.value

        let savedSequence = start
        var published: [Int] = []
        func publish(_ change: Change) async throws { published.append(change.sequence) }
        var handled = savedSequence  // 0 for the whole history
        for try await change in store.changes(after: handled) {
            try await publish(change)
            handled = change.sequence
            if change.action == .delete { break }
        }
        #expect(published == [start + 1, start + 2] && handled == start + 2)
    }

    @Test func followOnePolicyInTheFeed() async throws {
        let store = try PolicyStore(path: databasePath)
        try await store.perform(.createPolicy(named: "web.prod"))
        try await store.perform(.createPolicy(named: "other"))
        let start = try await store.perform(.lastChangeSequence())

        let webProd = Task {
            for try await change in store.changes(after: start) where change.belongs(to: .policy, named: "web.prod") {
                print(change.sequence, change.kind, change.name, change.action)  // a cluster's assign and unassign too
            }
        }
        try await store.perform(.modify(Policy.self, named: "other") { $0.xdrEnabled = false })
        try await store.perform(.assignPolicy(named: "web.prod", toCluster: "arn:aws:ecs:us-east-1:123456789012:cluster/web"))
        let first = try await store.changes(after: start).first { $0.belongs(to: .policy, named: "web.prod") }
        #expect(first?.kind == .cluster && first?.action == .assign && first?.policy == "web.prod")
        webProd.cancel()
        try await webProd.value
    }

    @Test func readTheWholeHistoryPageByPage() throws {
        let store = try PolicyStore.inMemory()
        for index in 0..<1_200 { try store.perform(.createPolicy(named: "p\(index)")) }

        var all: [Change] = []
        var page = try store.perform(.changes(after: 0, limit: 500))
        while let last = page.last {
            all += page
            page = try store.perform(.changes(after: last.sequence, limit: 500))
        }
        print(all.count, all.last?.sequence ?? 0)
        #expect(all.map(\.sequence) == Array(1...1_200))
        let line = ProductJSON.line(try store.perform(.changes(after: 0, limit: 1))[0])
        #expect(line.last == UInt8(ascii: "\n") && !line.dropLast().contains(UInt8(ascii: "\n")))
    }

    @Test func managedRuleCatalogue() throws {
        let store = try PolicyStore.inMemory()
        let pagesPath = packageRoot.appendingPathComponent("Docs/examples/managed-rules-pages.json").path

        let catalogue = try ManagedRuleCatalogue(json: Data(contentsOf: URL(fileURLWithPath: pagesPath)))
        let result = try store.perform(.importManagedRules(catalogue))
        print(result)  // 10 managed rules: 10 added, 0 changed, 0 removed, 0 unchanged

        let rule = try store.perform(.managedRule(id: "TM-00000023"))
        print(rule?.name ?? "-", rule?.techniques ?? [])  // (T1059)Redirect STDOUT/STDIN to Network Connection in Container ["T1059"]
        try store.perform(.createRuleset(named: "shells", rules: [RuleReference(id: "TM-00000023", mitigation: .terminate)]))
        print(try store.perform(.ruleNames(forRuleset: "shells")) ?? [:])  // ["TM-00000023": "(T1059)Redirect ..."]

        do {
            try store.perform(.modify(Ruleset.self, named: "shells") { $0.rules.append(RuleReference(id: "TM-00000024")) })
        } catch .unknownManagedRule(_, let id, let closest) {
            print("\(id) is not a managed rule; did you mean \(closest.joined(separator: " or "))?")
        } catch {
            print("error: \(error)")
        }
        #expect(result.description == "10 managed rules: 10 added, 0 changed, 0 removed, 0 unchanged")
        #expect(rule?.techniques == ["T1059"])
        #expect(try store.perform(.fetch(Ruleset.self, named: "shells"))?.rules.count == 1)
    }

    /// The ```swift blocks of every Markdown file in Docs/, of the README and of the DocC
    /// catalog's landing page (its articles are Docs/ again).
    static func documentedExamples() throws -> [(file: String, code: String)] {
        let docs = packageRoot.appendingPathComponent("Docs")
        var files = try FileManager.default.contentsOfDirectory(at: docs, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        files.append(packageRoot.appendingPathComponent("README.md"))
        files.append(packageRoot.appendingPathComponent("Sources/ContainerPolicyStore/ContainerPolicyStore.docc/ContainerPolicyStore.md"))
        return try files.flatMap { file in
            let text = try String(contentsOf: file, encoding: .utf8)
            return text.components(separatedBy: "```swift\n").dropFirst().compactMap { rest in
                rest.components(separatedBy: "```").first.map { (file.lastPathComponent, $0) }
            }
        }
    }

    /// Lines without their indentation, so a block reads the same inside a test function.
    static func normalized(_ code: String) -> String {
        code.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n")
    }
}
