/// The nodes and edges of a ``DeploymentGraph``, in the order both formats write them:
/// clusters, policies, rulesets, rules. Each node's ID is its kind's letter and a number
/// (`c1`, `p1`, `r1`, `t1`): a policy and a ruleset may share a name, and a name may be a
/// keyword of either format (`end`, `graph`, `node`, `subgraph`), so names are never IDs.
struct GraphLayout {
    enum Kind: CaseIterable {
        case cluster, unassignedCluster, policy, ruleset, rule
    }

    struct Node {
        let id: String
        /// The lines of the label, unescaped.
        let label: [String]
        let kind: Kind
    }

    struct Edge {
        let from: String
        let to: String
        let label: String?
    }

    private(set) var nodes: [Node] = []
    private(set) var edges: [Edge] = []

    init(_ graph: DeploymentGraph, showingRules: Bool) {
        var policies = NodeNames(letter: "p")
        for policy in graph.policies { policies.id(policy.name, damaged: !policy.damage.isEmpty) }
        var rulesets = NodeNames(letter: "r")
        for ruleset in graph.rulesets { rulesets.id(ruleset.name, damaged: !ruleset.damage.isEmpty) }

        for (index, cluster) in graph.clusters.enumerated() {
            let id = "c\(index + 1)"
            let label = [cluster.arn + (cluster.damage.isEmpty ? "" : damagedSuffix)] + (cluster.policy == nil ? ["no policy"] : [])
            nodes.append(Node(id: id, label: label, kind: cluster.policy == nil ? .unassignedCluster : .cluster))
            if let policy = cluster.policy { edges.append(Edge(from: id, to: policies.id(policy), label: nil)) }
        }
        for policy in graph.policies {
            for ruleset in policy.rulesets {
                edges.append(Edge(from: policies.id(policy.name), to: rulesets.id(ruleset), label: nil))
            }
        }
        var rules = NodeNames(letter: "t")
        if showingRules {
            for rule in Set(graph.rulesets.flatMap { $0.rules.map(\.id) }).sorted() { rules.id(rule) }
            for ruleset in graph.rulesets {
                for rule in ruleset.rules {
                    edges.append(Edge(from: rulesets.id(ruleset.name), to: rules.id(rule.id), label: rule.mitigation.rawValue))
                }
            }
        }
        nodes += policies.nodes(.policy) + rulesets.nodes(.ruleset) + rules.nodes(.rule)
    }
}

private let damagedSuffix = " (damaged)"

/// The nodes of one kind, by name as the store compares names (ignoring ASCII case), in the
/// order they were first asked for: a name only referenced (a cluster's policy missing from
/// the list) becomes a node too.
private struct NodeNames {
    let letter: String
    private var ids: [String: String] = [:]
    private var labels: [(id: String, label: String)] = []

    init(letter: String) {
        self.letter = letter
    }

    /// The node's ID, the node added first if it is new.
    @discardableResult
    mutating func id(_ name: String, damaged: Bool = false) -> String {
        let key = asciiLowercased(name)
        if let id = ids[key] { return id }
        let id = letter + String(labels.count + 1)
        ids[key] = id
        labels.append((id, name + (damaged ? damagedSuffix : "")))
        return id
    }

    func nodes(_ kind: GraphLayout.Kind) -> [GraphLayout.Node] {
        labels.map { GraphLayout.Node(id: $0.id, label: [$0.label], kind: kind) }
    }
}
