/// A ``GraphLayout`` as a Mermaid flowchart.
///
/// Each label is a quoted string, `c1(["arn:aws:ecs:..."])`, in which Mermaid ends the string at
/// the first `"` and reads `#name;` and `#123;` as characters, `<...>` as HTML and a leading
/// backtick as Markdown. So every character but ASCII letters, digits, space and `.:/_-,()` is
/// written as its code, `#34;`: the label shows exactly the name, whatever it holds.
enum MermaidWriter {
    static func text(of layout: GraphLayout) -> String {
        var lines = ["flowchart LR", "    %% ContainerPolicyStore: clusters --> policies --> rulesets --> rules"]
        for node in layout.nodes {
            let label = node.label.map(escaped).joined(separator: "<br>")
            let (open, close) = shape(node.kind)
            lines.append("    \(node.id)\(open)\"\(label)\"\(close):::\(className(node.kind))")
        }
        for edge in layout.edges {
            let label = edge.label.map { "|\"\(escaped($0))\"|" } ?? ""
            lines.append("    \(edge.from) -->\(label) \(edge.to)")
        }
        for kind in GraphLayout.Kind.allCases {
            lines.append("    classDef \(className(kind)) \(style(kind))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func escaped(_ text: String) -> String {
        replacingScalars(in: text) { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", " ", ".", ":", "/", "_", "-", ",", "(", ")": return nil
            default: return "#\(scalar.value);"
            }
        }
    }

    private static func shape(_ kind: GraphLayout.Kind) -> (String, String) {
        switch kind {
        case .cluster, .unassignedCluster: ("([", "])")
        case .policy: ("[", "]")
        case .ruleset: ("[[", "]]")
        case .rule: ("(", ")")
        }
    }

    /// Not `cluster` or `node`: Mermaid's own stylesheet styles those classes.
    private static func className(_ kind: GraphLayout.Kind) -> String {
        switch kind {
        case .cluster: "ecsCluster"
        case .unassignedCluster: "noPolicy"
        case .policy: "policy"
        case .ruleset: "ruleset"
        case .rule: "rule"
        }
    }

    private static func style(_ kind: GraphLayout.Kind) -> String {
        switch kind {
        case .cluster: "fill:#e3f2fd,stroke:#1e88e5"
        case .unassignedCluster: "fill:#fafafa,stroke:#9e9e9e,stroke-dasharray:4 3"
        case .policy: "fill:#e8f5e9,stroke:#43a047"
        case .ruleset: "fill:#fff8e1,stroke:#f9a825"
        case .rule: "fill:#f3e5f5,stroke:#8e24aa"
        }
    }
}

/// A ``GraphLayout`` as a Graphviz digraph.
///
/// Node IDs are plain (`c1`); each label is a double-quoted string, in which DOT reads `\"`
/// and `\\`, and Graphviz reads `\n`, `\l`, `\N`, `\G` and the like as escapes. So `"` and `\`
/// are written with a backslash, label lines are joined with `\n`, and a control or format
/// character (which no name holds, but a terminal would obey) as its code point, `\\u{1B}`.
enum DOTWriter {
    static func text(of layout: GraphLayout) -> String {
        var lines = [
            "// ContainerPolicyStore: clusters -> policies -> rulesets -> rules",
            "digraph deployment {",
            "    rankdir=LR;",
        ]
        for node in layout.nodes {
            let label = node.label.map(escaped).joined(separator: "\\n")
            lines.append("    \(node.id) [label=\"\(label)\", \(attributes(node.kind))];")
        }
        for edge in layout.edges {
            let label = edge.label.map { " [label=\"\(escaped($0))\"]" } ?? ""
            lines.append("    \(edge.from) -> \(edge.to)\(label);")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func escaped(_ text: String) -> String {
        replacingScalars(in: text) { scalar in
            switch scalar {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case _ where [.control, .format, .lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory):
                return "\\\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: return nil
            }
        }
    }

    private static func attributes(_ kind: GraphLayout.Kind) -> String {
        switch kind {
        case .cluster: ##"shape=box, style="rounded,filled", fillcolor="#e3f2fd", color="#1e88e5""##
        case .unassignedCluster: ##"shape=box, style="rounded,dashed,filled", fillcolor="#fafafa", color="#9e9e9e""##
        case .policy: ##"shape=box, style=filled, fillcolor="#e8f5e9", color="#43a047""##
        case .ruleset: ##"shape=folder, style=filled, fillcolor="#fff8e1", color="#f9a825""##
        case .rule: ##"shape=ellipse, style=filled, fillcolor="#f3e5f5", color="#8e24aa""##
        }
    }
}
