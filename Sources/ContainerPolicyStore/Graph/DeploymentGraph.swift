/// Which clusters run which policy, and the rulesets and rules those bring: the store's links
/// as one value, read in one snapshot by ``StoreTransaction/deploymentGraph(ofPolicy:)``, and
/// drawn as a Mermaid flowchart or a Graphviz DOT digraph by ``rendered(as:showingRules:)``.
///
/// ```swift
/// let graph = try store.perform(.deploymentGraph())
/// print(graph.rendered(as: .mermaid))   // flowchart LR, clusters -> policies -> rulesets
/// ```
///
/// Its parts are the store's own values, each sorted as the store lists it: the edges are a
/// cluster's ``Cluster/policy``, a policy's rulesets and a ruleset's rules.
public struct DeploymentGraph: Sendable, Hashable {
    /// The clusters, sorted by ARN; one whose `policy` is nil runs none.
    public let clusters: [Cluster]
    /// The policies, sorted by name.
    public let policies: [Policy]
    /// The rulesets, sorted by name.
    public let rulesets: [Ruleset]

    /// A graph of these values; the store makes these, callers rarely need to. A cluster's
    /// policy, or a policy's ruleset, that is not in the lists is drawn all the same.
    public init(clusters: [Cluster], policies: [Policy], rulesets: [Ruleset]) {
        self.clusters = clusters
        self.policies = policies
        self.rulesets = rulesets
    }

    /// The text formats a graph is drawn in.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// A Mermaid flowchart (`flowchart LR`): GitHub and GitLab draw it in a Markdown
        /// ` ```mermaid ` block.
        case mermaid
        /// A Graphviz digraph: `dot -Tpng graph.dot -o graph.png` draws it.
        case dot
    }

    /// The graph as text in `format`: clusters, then policies, then rulesets, and with
    /// `showingRules` each ruleset's rules, the edge to a rule labelled with its mitigation.
    /// Names and ARNs are labels, escaped for the format; node IDs are made of the kind and a
    /// number, so that no name can clash with a keyword or another node. An object holding
    /// damaged values is labelled `(damaged)`. An empty store is an empty, valid graph.
    ///
    /// ```swift
    /// let dot = try store.perform(.deploymentGraph(ofPolicy: "web.prod")).rendered(as: .dot, showingRules: true)
    /// ```
    public func rendered(as format: Format, showingRules: Bool = false) -> String {
        let layout = GraphLayout(self, showingRules: showingRules)
        switch format {
        case .mermaid: return MermaidWriter.text(of: layout)
        case .dot: return DOTWriter.text(of: layout)
        }
    }
}
