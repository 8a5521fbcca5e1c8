import ArgumentParser
import ContainerPolicyStore
import Foundation

/// `policy show --json`: the policy as the library writes it, with the ARNs of the clusters
/// it is assigned to (a listing leaves them out: each policy would cost a query), and, when
/// there is a managed-rule catalogue, the names of its rulesets' rules.
struct PolicyDetailsJSON: Encodable {
    let policy: Policy
    let clusters: [String]
    let ruleNames: [String: String]?

    func encode(to encoder: any Encoder) throws {
        try policy.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(clusters, forKey: .clusters)
        if let ruleNames { try container.encode(RuleNamesJSON(names: ruleNames), forKey: .ruleNames) }
    }

    private enum Key: String, CodingKey { case clusters, ruleNames }
}

/// `ruleset show --json`: the ruleset as the library writes it, and, when there is a
/// managed-rule catalogue, the names of its rules.
struct RulesetDetailsJSON: Encodable {
    let ruleset: Ruleset
    let ruleNames: [String: String]?

    func encode(to encoder: any Encoder) throws {
        try ruleset.encode(to: encoder)
        var container = encoder.container(keyedBy: RuleNamesJSON.Key.self)
        if let ruleNames { try container.encode(RuleNamesJSON(names: ruleNames), forKey: RuleNamesJSON.Key("ruleNames")) }
    }
}

/// `{"TM-00000001": "name", ...}`, sorted by ID, so the same names always print the same.
struct RuleNamesJSON: Encodable {
    let names: [String: String]

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for id in names.keys.sorted() { try container.encode(names[id], forKey: Key(id)) }
    }
}

/// A list as `{ "<key>": [ ... ] }` in the library's JSON, written element by element as the
/// pages arrive.
final class JSONList<Item: Encodable>: ListOutput {
    private var writer: ProductJSON.ListWriter

    init(key: String) {
        writer = ProductJSON.ListWriter(key: key)
    }

    func printPage(_ page: [Item], first: Bool) throws(ExitCode) {
        for item in page { try StandardOutput.write(writer.element(item)) }
    }

    func finish(empty: Bool) throws(ExitCode) {
        try StandardOutput.write(writer.end())
    }
}
