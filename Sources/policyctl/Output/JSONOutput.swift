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

    init(_ policy: Policy) {
        name = policy.name
        description = policy.description
        xdrEnabled = policy.xdrEnabled
        runtime = Runtime(rulesets: policy.rulesets.map(RulesetReference.init))
        createdDateTime = utcTimestamp(policy.createdAt)
        updatedDateTime = utcTimestamp(policy.updatedAt)
        rulesetsUpdatedDateTime = utcTimestamp(policy.rulesetsUpdatedAt)
        revision = policy.revision
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
        createdDateTime = utcTimestamp(ruleset.createdAt)
        updatedDateTime = utcTimestamp(ruleset.updatedAt)
        revision = ruleset.revision
    }
}

/// Pretty-printed JSON with sorted keys, so that the output is stable from run to run.
func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A list as `{ "<key>" : [ ... ] }`, written element by element as the pages arrive, in
/// the layout `encodeJSON` gives a whole document.
struct JSONList<Item, Document: Encodable>: ListOutput {
    let key: String
    let document: (Item) -> Document

    func printPage(_ page: [Item], first: Bool) throws {
        if first { print("{\n  \(try encodeJSON(key)) : [", terminator: "") }
        for (index, item) in page.enumerated() {
            let element = try encodeJSON(document(item))
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : "    " + $0 }
                .joined(separator: "\n")
            print(first && index == 0 ? "\n" : ",\n", element, separator: "", terminator: "")
        }
    }

    func finish(empty: Bool) {
        print(empty ? "]\n}" : "\n  ]\n}")
    }
}
