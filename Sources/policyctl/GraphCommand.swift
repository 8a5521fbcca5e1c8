import ArgumentParser
import ContainerPolicyStore

/// `policyctl graph`: the library's deployment graph, as the library draws it.
struct GraphCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print which clusters run which policy, and the rulesets (and rules) those bring, as a graph.",
        discussion: """
            Mermaid, the default, is drawn by GitHub and GitLab in a Markdown mermaid block; DOT by \
            Graphviz: 'policyctl graph --format dot | dot -Tpng -o graph.png'. Clusters point to \
            their policy, policies to their rulesets, and with --rules rulesets to their rules, \
            each edge labelled with the mitigation. Every cluster is drawn, a dashed one when it \
            has no policy, and every ruleset, also one that no policy uses. See Docs/cli.md.
            """)

    @OptionGroup var database: DatabaseOption
    @Option(help: ArgumentHelp("The text format of the graph.", valueName: "format"))
    var format: DeploymentGraph.Format = .mermaid
    @Flag(help: "Draw each ruleset's rules too.")
    var rules = false
    @Option(help: ArgumentHelp("Draw only this policy, its clusters and its rulesets.", valueName: "name"))
    var policy: String?

    func run() throws {
        let store = try database.readingStore()
        let graph = try exitOnRefusal { try store.perform(.deploymentGraph(ofPolicy: policy)) }
        try StandardOutput.write(graph.rendered(as: format, showingRules: rules))
    }
}

extension DeploymentGraph.Format: ExpressibleByArgument {}
