import ContainerPolicyStore
import Foundation

/// A policy in `--json` output, with the field names of the product's API.
struct PolicyJSON: Encodable {
    struct Runtime: Encodable {
        let rulesets: [RulesetReference]
    }

    struct RulesetReference: Encodable {
        let name: String
    }

    let name: String
    let description: String
    let xdrEnabled: Bool
    let runtime: Runtime
    let createdDateTime: String
    let updatedDateTime: String
    let rulesetsUpdatedDateTime: String
    let revision: Int
    /// The ARNs of the clusters the policy is assigned to. Only `policy show` has them (each
    /// policy would cost a query in a listing); nil leaves the key out.
    let clusters: [String]?

    init(_ policy: Policy, clusters: [String]? = nil) {
        name = policy.name
        description = policy.description
        xdrEnabled = policy.xdrEnabled
        runtime = Runtime(rulesets: policy.rulesets.map(RulesetReference.init))
        createdDateTime = Timestamp.text(from: policy.createdAt)
        updatedDateTime = Timestamp.text(from: policy.updatedAt)
        rulesetsUpdatedDateTime = Timestamp.text(from: policy.rulesetsUpdatedAt)
        revision = policy.revision
        self.clusters = clusters
    }
}

/// A ruleset in `--json` output, with the field names of the product's API.
struct RulesetJSON: Encodable {
    let name: String
    let description: String
    let rules: [RuleReference]
    let createdDateTime: String
    let updatedDateTime: String
    let revision: Int

    init(_ ruleset: Ruleset) {
        name = ruleset.name
        description = ruleset.description
        rules = ruleset.rules
        createdDateTime = Timestamp.text(from: ruleset.createdAt)
        updatedDateTime = Timestamp.text(from: ruleset.updatedAt)
        revision = ruleset.revision
    }
}

/// A cluster in `--json` output; `policy` and `assignedDateTime` are null when the cluster
/// has no policy.
struct ClusterJSON: Encodable {
    let arn: String
    let policy: String?
    let assignedDateTime: String?

    init(_ cluster: Cluster) {
        arn = cluster.arn
        policy = cluster.policy
        assignedDateTime = cluster.assignedAt.map(Timestamp.text(from:))
    }

    private enum CodingKeys: CodingKey {
        case arn, policy, assignedDateTime
    }

    /// Writes null for a missing value instead of leaving the key out, so that every cluster
    /// has the same keys.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(arn, forKey: .arn)
        try container.encode(policy, forKey: .policy)
        try container.encode(assignedDateTime, forKey: .assignedDateTime)
    }
}

/// Any JSON value, read from text and written again inside another document.
enum JSONValue: Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(text: String) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// Pretty-printed JSON with sorted keys, so that the output is stable from run to run, and
/// safe for a terminal: every control, format (bidi) and separator character in a string is
/// written as a `\u` escape, in lower case like the encoder's own. (The encoder escapes only
/// those below U+0020; the JSON means the same either way.)
func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let json = String(decoding: try encoder.encode(value), as: UTF8.self)
    // Outside strings the output holds only printable ASCII, spaces and line feeds, and
    // inside them the encoder has escaped every character below U+0020: a raw hostile
    // character is in a string, where a \u escape is valid, and a raw line feed is layout.
    guard json.unicodeScalars.contains(where: { $0 != "\n" && isHostileInTerminal($0) }) else { return json }
    var safe = ""
    for scalar in json.unicodeScalars {
        guard scalar != "\n", isHostileInTerminal(scalar) else {
            safe.unicodeScalars.append(scalar)
            continue
        }
        for unit in String(scalar).utf16 {
            let hex = String(unit, radix: 16)
            safe += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
    return safe
}

/// A list as `{ "<key>" : [ ... ] }`, written element by element as the pages arrive, in
/// the layout `encodeJSON` gives a whole document.
struct JSONList<Item, Document: Encodable>: ListOutput {
    let key: String
    let document: (Item) -> Document

    func printPage(_ page: [Item], first: Bool) throws {
        var text = first ? "{\n  \(try encodeJSON(key)) : [" : ""
        for (index, item) in page.enumerated() {
            let element = try encodeJSON(document(item))
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : "    " + $0 }
                .joined(separator: "\n")
            text += (first && index == 0 ? "\n" : ",\n") + element
        }
        try StandardOutput.write(text)
    }

    func finish(empty: Bool) throws {
        try StandardOutput.line(empty ? "]\n}" : "\n  ]\n}")
    }
}
