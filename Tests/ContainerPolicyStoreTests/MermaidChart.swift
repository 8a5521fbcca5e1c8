import Foundation
import Testing

/// A Mermaid flowchart read back, as strictly as the subset the library writes: with no
/// Mermaid renderer on the machine, this is the check that the text is one Mermaid parses.
/// Every line must be the header, a `%%` comment, a node, an edge or a `classDef`; a node's
/// brackets must pair and its label must be one quoted string holding nothing Mermaid would
/// read as syntax (a quote, HTML, Markdown, an unknown entity); an edge must join declared
/// nodes; every class used must be defined and not one of Mermaid's own; no ID may be one of
/// Mermaid's words.
struct MermaidChart {
    struct Node: Equatable {
        let shape: String
        /// The label's lines, with Mermaid's `#123;` codes read as characters.
        let label: [String]
        let className: String
    }

    struct Edge: Equatable {
        let from: String
        let to: String
        let label: String?
    }

    private(set) var nodes: [String: Node] = [:]
    private(set) var nodeOrder: [String] = []
    private(set) var edges: [Edge] = []
    private(set) var classes: Set<String> = []

    static let shapes = ["([": "])", "[[": "]]", "[": "]", "(": ")"]
    /// Words a Mermaid flowchart reads as syntax where a node ID stands.
    /// Classes of Mermaid's own stylesheet (a subgraph is a `cluster`), which a node's class
    /// must not share.
    static let mermaidClasses: Set = ["cluster", "node", "default", "label", "edgeLabel", "nodeLabel"]
    static let keywords: Set = ["end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "linkstyle", "direction", "default"]

    struct Problem: Error, CustomStringConvertible {
        let line: Int
        let text: String
        let reason: String
        var description: String { "line \(line) \(reason): \(text)" }
    }

    init(_ text: String) throws {
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        guard lines.first == "flowchart LR" else { throw Problem(line: 1, text: lines.first ?? "", reason: "is not the header") }
        var usedClasses: [(line: Int, name: String)] = []
        for (index, line) in lines.enumerated().dropFirst() {
            let number = index + 1
            func problem(_ reason: String) -> Problem { Problem(line: number, text: line, reason: reason) }
            if line.wholeMatch(of: #/    %%[^\n]*/#) != nil { continue }
            if let match = line.wholeMatch(of: #/    ([a-z][0-9]+)(\(\[|\[\[|\[|\()"([^"]*)"(\]\)|\]\]|\]|\)):::([A-Za-z]+)/#) {
                let id = String(match.1)
                guard Self.shapes[String(match.2)] == String(match.4) else { throw problem("has brackets that do not pair") }
                guard nodes[id] == nil else { throw problem("declares \(id) twice") }
                guard !Self.keywords.contains(id.lowercased()), !id.hasPrefix("o"), !id.hasPrefix("x") else {
                    throw problem("has an ID Mermaid reads as syntax")
                }
                guard !Self.mermaidClasses.contains(String(match.5)) else { throw problem("uses a class Mermaid styles itself") }
                nodes[id] = Node(shape: String(match.2), label: try Self.decoded(String(match.3), problem), className: String(match.5))
                nodeOrder.append(id)
                usedClasses.append((number, String(match.5)))
            } else if let match = line.wholeMatch(of: #/    ([a-z][0-9]+) -->(?:\|"([^"]*)"\|)? ([a-z][0-9]+)/#) {
                let from = String(match.1)
                let to = String(match.3)
                guard nodes[from] != nil, nodes[to] != nil else { throw problem("joins a node not declared before it") }
                let label = try match.2.map { try Self.decoded(String($0), problem) }
                guard label == nil || label?.count == 1 else { throw problem("has an edge label of several lines") }
                edges.append(Edge(from: from, to: to, label: label?.first))
            } else if let match = line.wholeMatch(of: #/    classDef ([A-Za-z]+) ([a-z-]+:[#0-9a-z ]+)(,[a-z-]+:[#0-9a-z ]+)*/#) {
                classes.insert(String(match.1))
            } else {
                throw problem("is not a statement of a flowchart")
            }
        }
        for use in usedClasses where !classes.contains(use.name) {
            throw Problem(line: use.line, text: use.name, reason: "uses a class no classDef defines")
        }
    }

    /// A label's text: lines split at `<br>`, codes `#123;` read; anything else that Mermaid
    /// would read as syntax is refused.
    static func decoded(_ label: String, _ problem: (String) -> Problem) throws -> [String] {
        try label.components(separatedBy: "<br>").map { line in
            var text = ""
            var rest = Substring(line)
            while let first = rest.first {
                if first == "#" {
                    guard let match = rest.prefixMatch(of: #/#([0-9]+);/#), let code = UInt32(match.1),
                          let scalar = Unicode.Scalar(code)
                    else { throw problem("has a # that is not a character code") }
                    text.unicodeScalars.append(scalar)
                    rest = rest[match.range.upperBound...]
                } else {
                    guard first.isASCII, first.isLetter || first.isNumber || " .:/_-,()".contains(first) else {
                        throw problem("has \(first.unicodeScalars.first!.escaped(asASCII: true)) unescaped in a label")
                    }
                    text.append(first)
                    rest = rest.dropFirst()
                }
            }
            return text
        }
    }

    /// The labels of the nodes of a class, in the order declared.
    func labels(_ className: String) -> [[String]] {
        nodeOrder.compactMap { nodes[$0]?.className == className ? nodes[$0]?.label : nil }
    }

    /// The edges as label pairs (each node's first label line).
    var labelledEdges: [String] {
        edges.map { edge in
            let from = nodes[edge.from]!.label[0]
            let to = nodes[edge.to]!.label[0]
            return from + " --" + (edge.label.map { $0 + "--" } ?? "") + "> " + to
        }
    }
}
