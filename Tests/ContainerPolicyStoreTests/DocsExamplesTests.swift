import ContainerPolicyStore
import Foundation
import Testing

/// Every ```swift block in Docs/ is compiled and run here: each test below holds the blocks
/// of one section of the docs, word for word, and `everyDocsExampleIsHere` checks that none
/// is missing or has drifted.
@Suite struct DocsExamplesTests {
    let directory: TemporaryDirectory
    let databasePath: String

    init() throws {
        directory = try TemporaryDirectory()
        databasePath = directory.path("docs.sqlite")
    }

    @Test func openAStore() throws {
        let store = try PolicyStore(path: databasePath)
        print(try store.perform(.count(Policy.self)))

        var options = StoreOptions()
        options.busyTimeout = .seconds(10)
        options.createIfMissing = false
        let existing = try PolicyStore(path: databasePath, options: options)
        #expect(try existing.perform(.count(Policy.self)) == 0)
    }

    @Test func theWholeTour() throws {
        let store = try PolicyStore.inMemory()
        try store.perform(.createRuleset(
            named: "baseline",
            description: "Rules every cluster gets",
            rules: [
                RuleReference(id: "TM-00000001", mitigation: .terminate),
                RuleReference(id: "TM-00000002"),  // mitigation .log
            ]))
        let policy = try store.perform(.createPolicy(
            named: "web.prod",
            description: "Front-end clusters",
            rulesets: ["baseline"]))
        print(policy.xdrEnabled)  // true: XDR Telemetry is on unless you say otherwise
        #expect(policy.xdrEnabled)

        var edited = policy.content
        edited.xdrEnabled = false
        edited.addRuleset("strict")
        let changes = policy.content.changes(to: edited)
        print(changes)  // xdrEnabled off, rulesets +strict
        print(changes.fields.map(\.field), changes.addedRulesets)  // [xdrEnabled] ["strict"]
        #expect(changes.description == "xdrEnabled off, rulesets +strict")
        #expect(changes.fields.map(\.field) == [.xdrEnabled] && changes.addedRulesets == ["strict"])

        let copy = try store.perform(.duplicate(Policy.self, named: "web.prod"))
        print(copy.name)  // web.prodPolicy
        let staging = try store.perform(.duplicate(Policy.self, named: "web.prod", as: "web.staging"))
        #expect(copy.name == "web.prodPolicy")
        #expect(staging.rulesets == ["baseline"])

        let current = try store.perform(.fetch(Policy.self, named: "web.staging"))!
        let updated = try store.perform(.modify(Policy.self, named: "web.staging", expectedRevision: current.revision) { policy in
            policy.description = "Staging clusters"
            policy.xdrEnabled = false
            policy.removeRuleset("baseline")
        })
        print(updated.revision > current.revision)  // true
        #expect(updated.rulesets.isEmpty)

        struct AlreadyDescribed: Error { let description: String }
        do {
            try store.write { tx in
                try tx.modify(Policy.self, named: "web.staging") { policy in
                    guard policy.description.isEmpty else { throw AlreadyDescribed(description: policy.description) }
                    policy.description = "Staging clusters, described by a script"
                }
            }
        } catch let error as AlreadyDescribed {
            print("left as it was: \(error.description)")  // left as it was: Staging clusters
        }
        #expect(try store.perform(.fetch(Policy.self, named: "web.staging")) == updated, "the closure's error wrote nothing")
        #expect(throws: AlreadyDescribed.self) {
            try store.write { tx in
                try tx.modify(Policy.self, named: "web.staging") { _ in throw AlreadyDescribed(description: "") }
            }
        }

        do {
            try store.perform(.createPolicy(named: "web prod"))
        } catch .invalidName(_, _, .space(let position)) {
            print("no spaces, please (position \(position))")
        } catch {
            print("error: \(error)")
        }
        #expect(throws: PolicyStoreError.invalidName(.policy, name: "web prod", .space(position: 4))) {
            try store.perform(.createPolicy(named: "web prod"))
        }

        try store.write { tx in
            try tx.createRuleset(named: "strict", rules: [RuleReference(id: "TM-00000003", mitigation: .isolate)])
            try tx.modify(Policy.self, named: "web.prod") { $0.addRuleset("strict") }
        }
        #expect(try store.perform(.fetch(Policy.self, named: "web.prod"))?.rulesets == ["baseline", "strict"])

        let revisionShownToTheUser = 1
        do {
            try store.write { tx throws(PolicyStoreError) in
                try tx.modify(Policy.self, named: "web.prod", expectedRevision: revisionShownToTheUser) { $0.xdrEnabled = false }
                try tx.createRuleset(named: "audit")
            }
        } catch .revisionConflict(_, let name, let expected, let actual) {
            print("\(name) is at revision \(actual), not \(expected)")
        } catch {
            print("error: \(error)")
        }
        #expect(try store.perform(.fetch(Ruleset.self, named: "audit")) == nil, "the conflict rolled the whole write back")

        var page = try store.perform(.list(Policy.self, limit: 50))
        while let last = page.last {
            for policy in page {
                print(policy.name, policy.rulesets)
            }
            page = try store.perform(.list(Policy.self, after: last.name, limit: 50))
        }

        for finding in try store.perform(.checkIntegrity()) {
            print(finding)  // integrity_check, foreign_key_check, then the domain rules over every row
        }
        #expect(try store.perform(.checkIntegrity()).isEmpty)
    }

    @Test func policyAsCode() throws {
        let source = try PolicyStore.inMemory()
        try source.perform(.createRuleset(named: "baseline"))
        try source.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
        let exported = try source.perform(.export())
        let store = try PolicyStore.inMemory()

        let plan = try store.perform(.importDocument(try PolicyDocument(json: exported), prune: false, dryRun: true))
        print(plan)  // "+ create policy web.prod" ... "0 unchanged"
        if !plan.steps.isEmpty {
            try store.perform(.importDocument(try PolicyDocument(json: exported)))
        }
        #expect(try store.perform(.export()) == exported)

        let approved = try store.perform(.importDocument(try PolicyDocument(json: exported), dryRun: true)).fingerprint
        // ... the plan and its fingerprint are reviewed and merged ...
        try store.perform(.importDocument(try PolicyDocument(json: exported), expectedPlan: approved))
        try store.perform(.createRuleset(named: "changed.since"))
        #expect(throws: PolicyStoreError.self) {
            try store.perform(.importDocument(try PolicyDocument(json: exported), prune: true, expectedPlan: approved))
        }
        #expect(try store.perform(.fetch(Ruleset.self, named: "changed.since")) != nil, "the refused import wrote nothing")
    }

    @Test func historyAndClusters() throws {
        var options = StoreOptions()
        options.actor = "docs"
        let store = try PolicyStore(path: databasePath, options: options)
        try store.perform(.createRuleset(named: "baseline"))
        try store.perform(.createPolicy(named: "web.prod", description: "first", rulesets: ["baseline"]))
        try store.perform(.modify(Policy.self, named: "web.prod") { $0.description = "second" })

        for change in try store.perform(.history(ofPolicy: "web.prod")) {
            print(change.sequence, change.revision, change.action, change.actor)
            if let changes = change.changes {
                print("  \(changes)")  // description
            }
            if let after = change.after?.policy {
                print("  now:", after.description, after.rulesets)
            }
        }
        let restored = try store.perform(.restorePolicy(named: "web.prod", toRevision: 1))
        let printedChanges = try store.perform(.history(ofPolicy: "web.prod")).compactMap { $0.changes?.description }
        #expect(printedChanges == ["description, rulesets +baseline", "description", "description"])
        #expect(restored.description == "first")

        var page = try store.perform(.history(ofPolicy: "web.prod", limit: 100))
        while let last = page.last {
            for change in page {
                print(change.sequence, change.kind, change.action, change.restoredRevision ?? 0)
            }
            page = try store.perform(.history(ofPolicy: "web.prod", after: last.sequence, limit: 100))
        }
        do {
            _ = try store.perform(.history(ofPolicy: "web.never"))
        } catch .notFound(let kind, let name) {
            print("no \(kind) \(name), now or ever")
        } catch {
            print("error: \(error)")
        }
        #expect(throws: PolicyStoreError.notFound(.policy, name: "web.never")) { try store.perform(.history(ofPolicy: "web.never")) }
        #expect(try store.perform(.history(ofPolicy: "web.prod", limit: 2)).count == 2)

        let beforeRestore = try store.perform(.fetch(Policy.self, named: "web.prod"))!
        let second = try store.perform(.restorePolicy(named: "web.prod", toRevision: 2, expectedRevision: beforeRestore.revision))
        let recorded = try store.perform(.history(ofPolicy: "web.prod")).last!
        print(second.description, recorded.action, recorded.restoredRevision ?? 0)  // second restore 2
        #expect(second.description == "second" && recorded.action == .restore && recorded.restoredRevision == 2)
        #expect(throws: PolicyStoreError.revisionConflict(.policy, name: "web.prod", expected: beforeRestore.revision, actual: second.revision)) {
            try store.perform(.restorePolicy(named: "web.prod", toRevision: 1, expectedRevision: beforeRestore.revision))
        }

        try store.perform(.createPolicy(named: "web.test", description: "first life"))
        try store.perform(.modify(Policy.self, named: "web.test") { $0.description = "first life, revision 2" })
        try store.perform(.delete(Policy.self, named: "web.test"))
        try store.perform(.createPolicy(named: "web.test", description: "second life"))

        let firstLife = try store.perform(.history(ofPolicy: "web.test")).first!.life!
        do {
            try store.perform(.restorePolicy(named: "web.test", toRevision: 2))
        } catch .unknownRevision(_, _, let revision, _, let lives) {
            print("revision \(revision) is in the lives \(lives)")  // [firstLife]
        } catch {
            print("error: \(error)")
        }
        let fromTheFirstLife = try store.perform(.restorePolicy(named: "web.test", toRevision: 2, ofLife: firstLife))
        print(fromTheFirstLife.description, fromTheFirstLife.revision)  // first life, revision 2 2
        #expect(fromTheFirstLife.description == "first life, revision 2" && fromTheFirstLife.revision == 2)

        let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
        try store.perform(.assignPolicy(named: "web.prod", toCluster: arn))
        print(try store.perform(.clusters(usingPolicy: "web.prod")))  // [arn]
        do {
            try store.perform(.delete(Policy.self, named: "web.prod"))
        } catch .policyAssigned(_, let clusters) {
            print("still used by \(clusters)")
        } catch {
            print("error: \(error)")
        }
        try store.perform(.unassignCluster(arn: arn))
        #expect(try store.perform(.fetch(Policy.self, named: "web.prod")) != nil)

        for change in try store.perform(.history(ofCluster: arn)) {
            print(change.action, change.policy ?? "-", change.actor)  // assign web.prod docs, then unassign web.prod docs
        }
        let clusterHistory = try store.perform(.history(ofCluster: arn))
        #expect(clusterHistory.map(\.action) == [.assign, .unassign])
        #expect(clusterHistory.allSatisfy { $0.kind == .cluster && $0.policy == "web.prod" && $0.actor == "docs" })
        #expect(try store.perform(.history(ofPolicy: "web.prod")).suffix(2).map(\.sequence) == clusterHistory.map(\.sequence))
    }

    @Test func theReferencesLandingPage() throws {
        let store = try PolicyStore.inMemory()
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
        try store.perform(.assignPolicy(named: "web.prod", toCluster: "arn:aws:ecs:us-east-1:123456789012:cluster/web"))
        #expect(try store.perform(.clusters(usingPolicy: "web.prod")).count == 1)
    }

    @Test func deploymentGraph() throws {
        let store = try PolicyStore(path: databasePath)
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
        let dotPath = directory.path("graph.dot")

        try store.perform(.assignPolicy(named: "web.prod", toCluster: "arn:aws:ecs:us-east-1:123456789012:cluster/web"))
        let graph = try store.perform(.deploymentGraph())
        print(graph.clusters.count, graph.policies.count, graph.rulesets.count)
        let mermaid = graph.rendered(as: .mermaid)
        let dot = try store.perform(.deploymentGraph(ofPolicy: "web.prod")).rendered(as: .dot, showingRules: true)
        try dot.write(toFile: dotPath, atomically: true, encoding: .utf8)  // then: dot -Tpng graph.dot -o graph.png

        #expect(mermaid.contains(#"c1(["arn:aws:ecs:us-east-1:123456789012:cluster/web"]):::ecsCluster"#))
        #expect(try String(contentsOfFile: dotPath, encoding: .utf8).contains(#"r1 -> t1 [label="terminate"];"#))
    }

    @Test func concurrency() async throws {
        let store = try PolicyStore(path: databasePath)
        try await store.perform(.createRuleset(named: "baseline"))
        try await store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))

        let names = try await store.read { tx in try tx.list(Policy.self, limit: 50).map(\.name) }
        let canary = try await store.perform(.duplicate(Policy.self, named: "web.prod", as: "web.canary"))
        print(names.count, canary.name)
        #expect(names == ["web.prod"])

        func addRuleset(_ ruleset: String, to policy: String, in store: PolicyStore) async throws {
            while true {
                guard let seen = try await store.perform(.fetch(Policy.self, named: policy)) else { return }
                do {
                    try await store.perform(.modify(Policy.self, named: policy, expectedRevision: seen.revision) {
                        $0.rulesets = seen.rulesets + [ruleset]
                    })
                    return
                } catch PolicyStoreError.revisionConflict {
                    continue
                }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<6 {
                group.addTask {
                    try await store.perform(.createRuleset(named: "r\(index)"))
                    try await addRuleset("r\(index)", to: "web.prod", in: store)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.perform(.fetch(Policy.self, named: "web.prod"))?.rulesets.count == 7)

        let document = PolicyDocument(policies: (0..<20_000).map { PolicyDocument.PolicyEntry(name: "imported\($0)") })
        let importing = Task { try await store.perform(.importDocument(document)) }
        importing.cancel()
        do {
            _ = try await importing.value
        } catch is CancellationError {
            print("cancelled: nothing was imported")
        }
        #expect(try await store.perform(.count(Policy.self)) == 2)
    }

    /// Docs/api.md's dependency lines are those of Examples/Package.swift (its path aside), and
    /// CI tries both of the page's forms with Examples/check-dependency-snippets.
    @Test func theDependencyLinesAreHowTheExamplesLinkTheLibrary() throws {
        let page = try String(contentsOf: packageRoot.appendingPathComponent("Docs/api.md"), encoding: .utf8)
        let manifest = try String(contentsOf: packageRoot.appendingPathComponent("Examples/Package.swift"), encoding: .utf8)
        let product = #".product(name: "ContainerPolicyStore", package: "ContainerPolicyStore")"#
        #expect(page.contains("\n.package(name: \"ContainerPolicyStore\", path: \"../ContainerPolicyStore\")\n\(product)\n"))
        #expect(page.contains("\n.package(url: \"https://github.com/OWNER/ContainerPolicyStore.git\", branch: \"main\")\n\(product)\n"))
        #expect(manifest.contains(#".package(name: "ContainerPolicyStore", path: ".."),"#))
        #expect(manifest.components(separatedBy: product).count == 3, "both executables link the product as the page says")
        let ci = try String(contentsOf: packageRoot.appendingPathComponent(".ci/run"), encoding: .utf8)
        #expect(ci.contains("Examples/check-dependency-snippets "))
    }

    /// Docs/vision-one.md's blocks use ContainerPolicySync, which this target does not link:
    /// they are compiled in the sync tests' file, read here beside this one.
    @Test func everyDocsExampleIsHere() throws {
        let syncExamples = packageRoot.appendingPathComponent("Tests/ContainerPolicySyncTests/DocsExampleTests.swift")
        let streams = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("DocsExamplesTests+Streams.swift")
        let source = try [URL(fileURLWithPath: #filePath), streams, syncExamples]
            .map { Self.normalized(try String(contentsOf: $0, encoding: .utf8)) }.joined(separator: "\n")
        let examples = try Self.documentedExamples()
        #expect(examples.count >= 8)
        for example in examples {
            #expect(source.contains(Self.normalized(example.code)), "not compiled: a block of \(example.file):\n\(example.code)")
        }
    }
}
