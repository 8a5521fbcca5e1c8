import ContainerPolicyStore
import Foundation
import Testing

/// `policyctl graph`, through the real binary; its DOT drawn by the real Graphviz.
@Suite struct GraphCommandTests {
    static let web = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
    static let api = "arn:aws:ecs:eu-west-1:123456789012:cluster/api_1"
    static let idle = "arn:aws:ecs:us-east-1:123456789012:cluster/idle"

    /// The sample database (rulesets `base` and `spare`, policy `web` on `base`), with
    /// policy `api` (base, spare) and clusters web and api on them, idle on none.
    static func sampleWorkspace() throws -> Workspace {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try workspace.withStore { store in
            try store.write { tx in
                try tx.modify(Ruleset.self, named: "spare") { $0.rules = [RuleReference(id: "TM-00000001", mitigation: .log)] }
                try tx.createPolicy(named: "api", rulesets: ["base", "spare"])
                try tx.assignPolicy(named: "web", toCluster: web)
                try tx.assignPolicy(named: "api", toCluster: api)
                try tx.assignPolicy(named: "api", toCluster: idle)
                try tx.unassignCluster(arn: idle)
            }
        }
        return workspace
    }

    /// What the library draws of the workspace's database.
    static func libraryDrawing(
        _ workspace: Workspace, _ format: DeploymentGraph.Format, rules: Bool = false, policy: String? = nil
    ) throws -> String {
        try workspace.withStore { store in
            try store.perform(.deploymentGraph(ofPolicy: policy)).rendered(as: format, showingRules: rules)
        }
    }

    @Test func mermaidIsTheDefaultAndIsWhatTheLibraryDraws() throws {
        let workspace = try Self.sampleWorkspace()
        let mermaid = try workspace.succeed("graph")
        #expect(mermaid == (try Self.libraryDrawing(workspace, .mermaid)))
        #expect(try workspace.succeed("graph", "--format", "mermaid") == mermaid)
        #expect(mermaid.hasPrefix("flowchart LR\n"))
        #expect(mermaid.contains(#"c2(["arn:aws:ecs:us-east-1:123456789012:cluster/idle<br>no policy"]):::noPolicy"#))
        #expect(mermaid.contains("    c1 --> p1\n") && !mermaid.contains("TM-00000001"))
        #expect(try workspace.succeed("graph", "--rules") == (try Self.libraryDrawing(workspace, .mermaid, rules: true)))
    }

    @Test func dotOfOnePolicyWithItsRules() throws {
        let workspace = try Self.sampleWorkspace()
        let dot = try workspace.succeed("graph", "--format", "dot", "--rules", "--policy", "API")
        #expect(dot == (try Self.libraryDrawing(workspace, .dot, rules: true, policy: "api")))
        #expect(dot.contains(#"c1 [label="\#(Self.api)""#))
        #expect(!dot.contains(Self.web) && !dot.contains(Self.idle) && !dot.contains(#"label="web""#))
        #expect(dot.contains(#"r1 -> t1 [label="terminate"];"#) && dot.contains(#"r2 -> t1 [label="log"];"#))
    }

    /// Docs/cli.md shows what `policyctl graph` prints after the demo and three assignments.
    @Test func theMermaidOfDocsCliIsWhatPolicyctlPrints() throws {
        let workspace = try Workspace()
        try workspace.succeed("demo")
        let database = ["--db", "policyctl-demo.sqlite"]
        for (arn, policy) in [
            ("arn:aws:ecs:us-east-1:123456789012:cluster/web", "web.prod"),
            ("arn:aws:ecs:eu-west-1:123456789012:cluster/web", "web.prod"),
            ("arn:aws:ecs:us-east-1:123456789012:cluster/staging", "web.prodPolicy"),
        ] {
            try workspace.succeed(database + ["cluster", "assign", arn, "--policy", policy])
        }
        let cli = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Docs/cli.md")
        let documented = try #require(
            try String(contentsOf: cli, encoding: .utf8).components(separatedBy: "```mermaid\n").dropFirst().first?
                .components(separatedBy: "```").first)
        #expect(try workspace.succeed(database + ["graph"]) == documented)
    }

    @Test func aPolicyThatDoesNotExistIsRefused() throws {
        let workspace = try Self.sampleWorkspace()
        let result = try workspace.run("graph", "--policy", "web.staging")
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == errorLine(.notFound(.policy, name: "web.staging")))
    }

    @Test func anUnknownFormatIsAUsageError() throws {
        let workspace = try Self.sampleWorkspace()
        let result = try workspace.run("graph", "--format", "png")
        #expect(result.status == 64)
        #expect(result.stderr.contains("'png'") && result.stderr.contains("mermaid") && result.stderr.contains("dot"))
        #expect(result.stdout.isEmpty)
    }

    @Test func graphvizDrawsThePictureAsAPNG() throws {
        let workspace = try Self.sampleWorkspace()
        let dot = workspace.file("graph.dot")
        try Data(try workspace.succeed("graph", "--format", "dot", "--rules").utf8).write(to: dot)
        let png = workspace.file("graph.png")
        let run = try Graphviz.run(["-Tpng", dot.path, "-o", png.path])
        #expect(run.status == 0, "dot: \(run.stderr)")
        #expect(!run.stderr.contains("rror"), "dot: \(run.stderr)")

        let picture = try Data(contentsOf: png)
        #expect(picture.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG")
        #expect(picture.count > 10_000, "a PNG of \(picture.count) bytes")
        // IHDR: width and height, big-endian, at bytes 16 and 20. Three columns of boxes with
        // ARNs in them are wider than they are high.
        let width = picture[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = picture[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width > 600 && height > 100 && width > height, "\(width) x \(height)")
    }

    @Test func anEmptyDatabaseIsAnEmptyGraphInBothFormats() throws {
        let workspace = try Workspace()
        try workspace.succeed("policy", "create", "gone")
        try workspace.succeed("policy", "delete", "gone")
        let mermaid = try workspace.succeed("graph", "--rules")
        #expect(mermaid.split(separator: "\n").allSatisfy { $0 == "flowchart LR" || $0.hasPrefix("    %%") || $0.hasPrefix("    classDef ") })
        let dot = workspace.file("empty.dot")
        try Data(try workspace.succeed("graph", "--format", "dot", "--rules").utf8).write(to: dot)
        let json = try Graphviz.json(of: dot)
        #expect(json.nodes.isEmpty && json.edges.isEmpty)
        let run = try Graphviz.run(["-Tpng", dot.path, "-o", workspace.file("empty.png").path])
        #expect(run.status == 0, "dot: \(run.stderr)")
        #expect(try Data(contentsOf: workspace.file("empty.png")).starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    /// Valid names and ARNs that read as syntax: keywords of Mermaid and DOT, a policy and a
    /// ruleset of one name, names of dots and digits, `o--x` (a Mermaid edge), the longest names.
    static let awkwardNames = [
        "end", "graph", "subgraph", "node", "edge", "digraph", "strict", "flowchart", "classDef", "style", "click",
        "default", "o", "x", "1", "_", ".", "a..b", "12.5", String(repeating: "N", count: NameRules.maximumLength),
    ]
    static let awkwardARNs = [
        "arn:aws-us-gov:ecs:us-gov-west-1:000000000000:cluster/-",
        "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/_end",
        "arn:aws:ecs:ap-southeast-2:123456789012:cluster/o--x",
        "arn:aws:ecs:us-east-1:123456789012:cluster/subgraph",
        "arn:aws:ecs:us-east-1:123456789012:cluster/" + String(repeating: "A-_", count: 85),
    ]

    @Test func awkwardNamesAndARNsAreDrawnExactlyByGraphviz() throws {
        let workspace = try Workspace()
        let names = Self.awkwardNames
        let mitigations = Mitigation.allCases
        var options = StoreOptions()
        options.actor = "tests"
        try PolicyStore(path: workspace.database.path, options: options).write { tx in
            for (index, name) in names.enumerated() {
                let rule = RuleReference(id: String(format: "TM-%08d", index + 1), mitigation: mitigations[index % 3])
                try tx.createRuleset(named: name, rules: [rule])
            }
            for name in names { try tx.createPolicy(named: name, rulesets: [name, "end"]) }
            for (index, arn) in Self.awkwardARNs.enumerated() { try tx.assignPolicy(named: names[index], toCluster: arn) }
            try tx.unassignCluster(arn: Self.awkwardARNs[4])
        }
        #expect(try workspace.succeed("graph", "--rules") == (try Self.libraryDrawing(workspace, .mermaid, rules: true)))

        let file = workspace.file("awkward.dot")
        try Data(try workspace.succeed("graph", "--format", "dot", "--rules").utf8).write(to: file)
        let drawing = try Graphviz.json(of: file)
        // Each node as its kind (the ID's letter) and its label.
        func tagged(_ node: String) -> String { "\(node.prefix(1)):" + (drawing.nodes[node] ?? ["?"]).joined(separator: "|") }
        let rules = names.indices.map { String(format: "TM-%08d", $0 + 1) }
        let expectedNodes = Self.awkwardARNs.dropLast().map { "c:" + $0 } + ["c:\(Self.awkwardARNs[4])|no policy"]
            + names.map { "p:" + $0 } + names.map { "r:" + $0 } + rules.map { "t:" + $0 }
        #expect(drawing.nodes.keys.map(tagged).sorted() == expectedNodes.sorted())

        let expectedEdges = names.prefix(4).indices.map { "c:\(Self.awkwardARNs[$0]) -> p:\(names[$0])" }
            + names.flatMap { name in Set([name, "end"]).map { "p:\(name) -> r:\($0)" } }
            + names.indices.map { "r:\(names[$0]) -> t:\(rules[$0]) [\(mitigations[$0 % 3])]" }
        let edges = drawing.edges.map { "\(tagged($0.from)) -> \(tagged($0.to))" + ($0.label.map { " [\($0)]" } ?? "") }
        #expect(edges.sorted() == expectedEdges.sorted())
    }

    /// Text no store holds, through the library's DOT and the real Graphviz: quotes,
    /// backslashes, HTML, entities, control and bidi characters.
    @Test func anyTextIsALabelGraphvizReadsBackExactly() throws {
        let hostile = ["q\"uote", "back\\slash", "<b>bold</b>", "#35;", "end", "\\n", "tab\there", "bidi\u{202E}", "é✓"]
        let date = Date(timeIntervalSince1970: 0)
        let graph = DeploymentGraph(
            clusters: hostile.map { Cluster(arn: $0, policy: $0, assignedAt: date) },
            policies: hostile.map {
                Policy(id: 1, name: $0, content: PolicyContent(), revision: 1, createdAt: date, updatedAt: date, rulesetsUpdatedAt: date)
            },
            rulesets: [])
        let workspace = try Workspace()
        let file = workspace.file("hostile.dot")
        try Data(graph.rendered(as: .dot).utf8).write(to: file)
        let drawing = try Graphviz.json(of: file)
        // Control and format characters are drawn as their code point, visibly.
        let drawn = hostile.map { $0.replacingOccurrences(of: "\t", with: "\\u{9}").replacingOccurrences(of: "\u{202E}", with: "\\u{202E}") }
        #expect(drawing.nodes.filter { $0.key.hasPrefix("p") }.values.map { $0.joined() }.sorted() == drawn.sorted())
        #expect(drawing.edges.count == hostile.count)
    }

    @Test func withoutGraphvizTheTestsFailAndSayHowToInstallIt() throws {
        let empty = try Workspace()
        let error = try #require(throws: Graphviz.Missing.self) { try Graphviz.executable(searchPath: empty.directory.path) }
        #expect(error.description.contains("apt-get install graphviz"))
        #expect(try Graphviz.executable().lastPathComponent == "dot")
    }
}
