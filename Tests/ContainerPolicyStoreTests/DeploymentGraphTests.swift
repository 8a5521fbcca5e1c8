import ContainerPolicyStore
import Foundation
import Synchronization
import Testing

@Suite struct DeploymentGraphTests {
    static let web = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
    static let api = "arn:aws:ecs:eu-west-1:123456789012:cluster/api"
    static let idle = "arn:aws:ecs:us-east-1:123456789012:cluster/idle"

    /// Rulesets `baseline` (two rules), `mining` (one, shared with baseline) and `unused`;
    /// policies `web.prod` (baseline, mining) and `api` (baseline) and `spare` (none);
    /// clusters web and api on their policies, idle on none.
    static func sampleStore() throws -> PolicyStore {
        let store = try PolicyStore.inMemory()
        try store.write { tx in
            try tx.createRuleset(named: "baseline", rules: [
                RuleReference(id: "TM-00000001", mitigation: .terminate), RuleReference(id: "TM-00000002"),
            ])
            try tx.createRuleset(named: "mining", rules: [RuleReference(id: "TM-00000002", mitigation: .isolate)])
            try tx.createRuleset(named: "unused")
            try tx.createPolicy(named: "web.prod", rulesets: ["mining", "baseline"])
            try tx.createPolicy(named: "api", rulesets: ["baseline"])
            try tx.createPolicy(named: "spare")
            try tx.assignPolicy(named: "web.prod", toCluster: web)
            try tx.assignPolicy(named: "api", toCluster: api)
            try tx.assignPolicy(named: "api", toCluster: idle)
            try tx.unassignCluster(arn: idle)
        }
        return store
    }

    @Test func theGraphIsEveryClusterPolicyAndRulesetAsTheStoreListsThem() throws {
        let store = try Self.sampleStore()
        let graph = try store.perform(.deploymentGraph())
        #expect(graph.clusters == (try store.perform(.clusters())))
        #expect(graph.policies == (try store.perform(.list(Policy.self))))
        #expect(graph.rulesets == (try store.perform(.list(Ruleset.self))))
        #expect(graph.clusters.map(\.arn) == [Self.api, Self.idle, Self.web])
        #expect(graph.clusters.map(\.policy) == ["api", nil, "web.prod"])
        #expect(graph.policies.map(\.name) == ["api", "spare", "web.prod"])
        #expect(graph.rulesets.map(\.name) == ["baseline", "mining", "unused"])
        // The same read inside a transaction of the caller's.
        #expect(try store.read { tx in try tx.deploymentGraph() } == graph)
    }

    @Test func ofOnePolicyIsThatPolicyItsClustersAndItsRulesets() async throws {
        let store = try Self.sampleStore()
        let graph = try await store.perform(.deploymentGraph(ofPolicy: "WEB.PROD"))
        #expect(graph.policies.map(\.name) == ["web.prod"])
        #expect(graph.clusters.map(\.arn) == [Self.web])
        #expect(graph.rulesets.map(\.name) == ["baseline", "mining"])
        #expect(graph.rulesets[0].rules.map(\.id) == ["TM-00000001", "TM-00000002"])

        let unassigned = try await store.perform(.deploymentGraph(ofPolicy: "spare"))
        #expect(unassigned.clusters.isEmpty && unassigned.rulesets.isEmpty && unassigned.policies.count == 1)
    }

    @Test func aPolicyThatDoesNotExistIsRefused() throws {
        let store = try Self.sampleStore()
        #expect(throws: PolicyStoreError.notFound(.policy, name: "web.staging")) {
            try store.perform(.deploymentGraph(ofPolicy: "web.staging"))
        }
    }

    /// A writer adds and removes a cluster with its policy and ruleset, each change one
    /// transaction, while graphs are read: a graph read statement by statement would, now and
    /// then, hold a cluster whose policy it does not have, or a policy without its ruleset.
    @Test func aGraphIsOneStateOfTheStoreWhileAnotherThreadWrites() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try makeStore(in: directory)
        let stop = Mutex(false)
        let writes = Mutex(0)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            defer { finished.signal() }
            var round = 0
            while !stop.withLock({ $0 }) {
                let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/c\(round)"
                #expect(throws: Never.self) {
                    try store.write { tx in
                        try tx.createRuleset(named: "r\(round)")
                        try tx.createPolicy(named: "p\(round)", rulesets: ["r\(round)"])
                        try tx.assignPolicy(named: "p\(round)", toCluster: arn)
                    }
                    try store.write { tx in
                        try tx.unassignCluster(arn: arn)
                        try tx.delete(Policy.self, named: "p\(round)")
                        try tx.delete(Ruleset.self, named: "r\(round)")
                    }
                }
                round += 1
                writes.withLock { $0 = round }
            }
        }.start()
        var withAPolicy = 0
        var graphs = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while writes.withLock({ $0 }) < 100, ContinuousClock.now < deadline {
            graphs += 1
            let graph = try store.perform(.deploymentGraph())
            let policies = Set(graph.policies.map(\.name))
            let rulesets = Set(graph.rulesets.map(\.name))
            #expect(graph.clusters.compactMap(\.policy).allSatisfy(policies.contains))
            #expect(graph.policies.flatMap(\.rulesets).allSatisfy(rulesets.contains))
            #expect(graph.policies.count == graph.rulesets.count)
            if !graph.policies.isEmpty { withAPolicy += 1 }
        }
        stop.withLock { $0 = true }
        finished.wait()
        #expect(writes.withLock { $0 } >= 100 && withAPolicy > 0, "\(graphs) graphs, \(withAPolicy) with a policy")
    }

    @Test func theMermaidTextOfTheSample() throws {
        let graph = try Self.sampleStore().perform(.deploymentGraph())
        let text = graph.rendered(as: .mermaid)
        #expect(text == """
            flowchart LR
                %% ContainerPolicyStore: clusters --> policies --> rulesets --> rules
                c1(["arn:aws:ecs:eu-west-1:123456789012:cluster/api"]):::ecsCluster
                c2(["arn:aws:ecs:us-east-1:123456789012:cluster/idle<br>no policy"]):::noPolicy
                c3(["arn:aws:ecs:us-east-1:123456789012:cluster/web"]):::ecsCluster
                p1["api"]:::policy
                p2["spare"]:::policy
                p3["web.prod"]:::policy
                r1[["baseline"]]:::ruleset
                r2[["mining"]]:::ruleset
                r3[["unused"]]:::ruleset
                c1 --> p1
                c3 --> p3
                p1 --> r1
                p3 --> r1
                p3 --> r2
                classDef ecsCluster fill:#e3f2fd,stroke:#1e88e5
                classDef noPolicy fill:#fafafa,stroke:#9e9e9e,stroke-dasharray:4 3
                classDef policy fill:#e8f5e9,stroke:#43a047
                classDef ruleset fill:#fff8e1,stroke:#f9a825
                classDef rule fill:#f3e5f5,stroke:#8e24aa

            """)
        let chart = try MermaidChart(text)
        #expect(chart.labels("noPolicy") == [[Self.idle, "no policy"]])
        #expect(chart.labelledEdges.count == 5)
    }

    @Test func withRulesEachRuleIsOneNodeAndEachEdgeHasItsMitigation() throws {
        let graph = try Self.sampleStore().perform(.deploymentGraph())
        let chart = try MermaidChart(graph.rendered(as: .mermaid, showingRules: true))
        #expect(chart.labels("rule") == [["TM-00000001"], ["TM-00000002"]])
        #expect(chart.labelledEdges.filter { $0.hasSuffix("TM-00000001") || $0.hasSuffix("TM-00000002") } == [
            "baseline --terminate--> TM-00000001", "baseline --log--> TM-00000002", "mining --isolate--> TM-00000002",
        ])
        let dot = graph.rendered(as: .dot, showingRules: true)
        #expect(dot.contains("    r1 -> t1 [label=\"terminate\"];\n    r1 -> t2 [label=\"log\"];\n    r2 -> t2 [label=\"isolate\"];\n"))
        #expect(!graph.rendered(as: .dot).contains("TM-"))
    }

    @Test func theDOTTextOfOnePolicy() throws {
        let graph = try Self.sampleStore().perform(.deploymentGraph(ofPolicy: "api"))
        #expect(graph.rendered(as: .dot) == """
            // ContainerPolicyStore: clusters -> policies -> rulesets -> rules
            digraph deployment {
                rankdir=LR;
                c1 [label="arn:aws:ecs:eu-west-1:123456789012:cluster/api", shape=box, style="rounded,filled", fillcolor="#e3f2fd", color="#1e88e5"];
                p1 [label="api", shape=box, style=filled, fillcolor="#e8f5e9", color="#43a047"];
                r1 [label="baseline", shape=folder, style=filled, fillcolor="#fff8e1", color="#f9a825"];
                c1 -> p1;
                p1 -> r1;
            }

            """)
    }

    @Test func anEmptyStoreIsAnEmptyGraph() throws {
        let graph = try PolicyStore.inMemory().perform(.deploymentGraph())
        #expect(graph == DeploymentGraph(clusters: [], policies: [], rulesets: []))
        let chart = try MermaidChart(graph.rendered(as: .mermaid, showingRules: true))
        #expect(chart.nodes.isEmpty && chart.edges.isEmpty)
        #expect(graph.rendered(as: .dot, showingRules: true).hasSuffix("digraph deployment {\n    rankdir=LR;\n}\n"))
    }

    /// Values no store holds (the library's rules keep quotes, HTML and control characters
    /// out of names and ARNs), so that the escaping is shown to hold for any text.
    static let hostile = [
        "q\"uote", "back\\slash", "<b>bold</b>", "#35;", "`md`", "a&amp;b", "line\nfeed", "\u{1B}[2J", "bidi\u{202E}", "é✓", "end",
    ]

    static func hostileGraph() -> DeploymentGraph {
        let date = Date(timeIntervalSince1970: 0)
        return DeploymentGraph(
            clusters: hostile.map { Cluster(arn: "arn/" + $0, policy: $0, assignedAt: date) },
            policies: hostile.map {
                Policy(id: 1, name: $0, content: PolicyContent(rulesets: [$0]), revision: 1, createdAt: date, updatedAt: date, rulesetsUpdatedAt: date)
            },
            rulesets: hostile.map { Ruleset(id: 1, name: $0, content: RulesetContent(), revision: 1, createdAt: date, updatedAt: date) })
    }

    @Test func mermaidLabelsShowAnyTextExactly() throws {
        let chart = try MermaidChart(Self.hostileGraph().rendered(as: .mermaid))
        #expect(chart.labels("ecsCluster") == Self.hostile.map { ["arn/" + $0] })
        #expect(chart.labels("policy") == Self.hostile.map { [$0] })
        #expect(chart.labels("ruleset") == Self.hostile.map { [$0] })
        #expect(chart.labelledEdges == Self.hostile.map { "arn/\($0) --> \($0)" } + Self.hostile.map { "\($0) --> \($0)" })
    }

    @Test func dotLabelsAreQuotedAndEscaped() throws {
        let dot = Self.hostileGraph().rendered(as: .dot)
        #expect(dot.contains(#"p1 [label="q\"uote""#))
        #expect(dot.contains(#"p2 [label="back\\slash""#))
        #expect(dot.contains(#"p7 [label="line\\u{A}feed""#))
        #expect(dot.contains(#"p8 [label="\\u{1B}[2J""#))
        #expect(dot.contains(#"p9 [label="bidi\\u{202E}""#))
        #expect(dot.contains(#"p10 [label="é✓""#))
        #expect(!dot.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" })
    }

    /// Valid names and ARNs that read as syntax in Mermaid or DOT (policyctl's tests draw the
    /// same with Graphviz): keywords, `o` and `x` (edge ends), `o--x`, dots and digits, a
    /// policy and a ruleset of one name, the longest names.
    @Test func awkwardNamesAndARNsAreExactLabelsOfAValidChart() throws {
        let names = ["end", "graph", "subgraph", "style", "classDef", "click", "default", "o", "x", "1", "_", ".", "a..b",
                     String(repeating: "N", count: NameRules.maximumLength)]
        let arns = [
            "arn:aws-us-gov:ecs:us-gov-west-1:000000000000:cluster/-", "arn:aws:ecs:ap-southeast-2:123456789012:cluster/o--x",
            "arn:aws:ecs:us-east-1:123456789012:cluster/" + String(repeating: "A-_", count: 85),
        ]
        let store = try PolicyStore.inMemory()
        try store.write { tx in
            for name in names { try tx.createRuleset(named: name, rules: [RuleReference(id: "TM-00000001")]) }
            for name in names { try tx.createPolicy(named: name, rulesets: [name]) }
            for (arn, name) in zip(arns, names) { try tx.assignPolicy(named: name, toCluster: arn) }
        }
        let chart = try MermaidChart(try store.perform(.deploymentGraph()).rendered(as: .mermaid, showingRules: true))
        #expect(chart.labels("ecsCluster") == arns.sorted().map { [$0] })
        #expect(Set(chart.labels("policy").map(\.[0])) == Set(names))
        #expect(Set(chart.labels("ruleset").map(\.[0])) == Set(names))
        #expect(chart.labelledEdges.filter { $0.hasPrefix("arn:") }.sorted() == zip(arns, names).map { "\($0) --> \($1)" }.sorted())
        #expect(chart.edges.count == arns.count + 2 * names.count)
        #expect(chart.edges.allSatisfy { chart.nodes[$0.from]?.className != chart.nodes[$0.to]?.className })
    }

    @Test func aClustersPolicyMissingFromTheListsIsDrawnAllTheSame() throws {
        let graph = DeploymentGraph(clusters: [Cluster(arn: Self.web, policy: "ghost", assignedAt: nil)], policies: [], rulesets: [])
        let chart = try MermaidChart(graph.rendered(as: .mermaid))
        #expect(chart.labelledEdges == ["\(Self.web) --> ghost"])
    }

    /// The reader of the tests above refuses what Mermaid would misread or reject.
    @Test(arguments: [
        "flowchart TD\n",
        "flowchart LR\n    p1[\"a\"b\"]:::policy\n    classDef policy fill:#fff\n",
        "flowchart LR\n    p1[\"a<b>\"]:::policy\n    classDef policy fill:#fff\n",
        "flowchart LR\n    p1[\"a#b\"]:::policy\n    classDef policy fill:#fff\n",
        "flowchart LR\n    p1([\"a\"]]:::policy\n    classDef policy fill:#fff\n",
        "flowchart LR\n    end[\"a\"]:::policy\n    classDef policy fill:#fff\n",
        "flowchart LR\n    o1[\"a\"]:::policy\n    classDef policy fill:#fff\n",
        "flowchart LR\n    p1[\"a\"]:::policy\n    p1 --> p2\n    classDef policy fill:#fff\n",
        "flowchart LR\n    p1[\"a\"]:::policy\n",
        "flowchart LR\n    c1[\"a\"]:::cluster\n    classDef cluster fill:#fff\n",
        "flowchart LR\n    p1[\"a\"]:::policy\n    p1[\"b\"]:::policy\n    classDef policy fill:#fff\n",
    ])
    func theChartReaderRefusesWhatMermaidWouldMisread(text: String) {
        #expect(throws: MermaidChart.Problem.self) { try MermaidChart(text) }
    }
}
