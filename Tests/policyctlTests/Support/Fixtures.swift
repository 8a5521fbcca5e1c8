import ContainerPolicyStore
@testable import policyctl
import Foundation
import Testing

extension Workspace {
    /// Builds ./policies.sqlite with the CLI: rulesets `base` (one rule) and `spare`, and the
    /// policy `web` that uses `base`.
    func makeSampleDatabase() throws {
        try succeed("ruleset", "create", "base", "--description", "Base rules", "--rule", "TM-00000001:terminate")
        try succeed("ruleset", "create", "spare")
        try succeed("policy", "create", "web", "--description", "Front end", "--ruleset", "base")
    }

    /// Opens a database of the workspace with the library, for checks and bulk setup. The
    /// store closes when `body` returns, before the next `policyctl` run.
    func withStore<T>(_ name: String = "policies.sqlite", _ body: (PolicyStore) throws -> T) throws -> T {
        var options = StoreOptions()
        options.createIfMissing = false
        return try body(PolicyStore(path: file(name).path, options: options))
    }

    /// Parses a command's standard output as JSON.
    func json<T: Decodable>(
        _ type: T.Type, _ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> T {
        let result = try run(arguments)
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    /// The top-level keys of a command's JSON object output.
    func jsonKeys(_ arguments: String...) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: Data(try run(arguments).stdout.utf8))
        return Set(try #require(object as? [String: Any]).keys)
    }
}

/// The documented `--json` shape of a policy.
struct PolicyDocument: Decodable, Equatable {
    struct Runtime: Decodable, Equatable {
        let rulesets: [RulesetReference]
    }

    struct RulesetReference: Decodable, Equatable {
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
    /// Only in `policy show --json`.
    let clusters: [String]?

    var rulesetNames: [String] { runtime.rulesets.map(\.name) }

    /// The keys of a policy in `policy list --json`.
    static let keys: Set = [
        "id",
        "name", "description", "xdrEnabled", "runtime", "createdDateTime", "updatedDateTime",
        "rulesetsUpdatedDateTime", "revision",
    ]
    /// The keys of `policy show --json`.
    static let shownKeys = keys.union(["clusters"])
}

/// The documented `--json` shape of a ruleset.
struct RulesetDocument: Decodable, Equatable {
    struct Rule: Decodable, Equatable {
        let id: String
        let mitigation: String
    }

    let name: String
    let description: String
    let rules: [Rule]
    let createdDateTime: String
    let updatedDateTime: String
    let revision: Int

    static let keys: Set = ["id", "name", "description", "rules", "createdDateTime", "updatedDateTime", "revision"]
}

/// The documented `--json` shape of a cluster.
struct ClusterRecord: Decodable, Equatable {
    let arn: String
    let policy: String?
    let assignedDateTime: String?

    static let keys: Set = ["arn", "policy", "assignedDateTime"]
}

struct ClusterList: Decodable {
    let clusters: [ClusterRecord]
}

/// The documented `--json` shape of a recorded change; `before` and `after` are objects.
struct ChangeRecord: Decodable {
    /// A policy's (description, xdrEnabled, runtime.rulesets) or a ruleset's (description,
    /// rules) content, as the product's API shapes it.
    struct State: Decodable, Equatable {
        let description: String
        let xdrEnabled: Bool?
        let rulesets: [String]?
        let rules: [RulesetDocument.Rule]?

        init(description: String, xdrEnabled: Bool?, rulesets: [String]?, rules: [RulesetDocument.Rule]?) {
            self.description = description
            self.xdrEnabled = xdrEnabled
            self.rulesets = rulesets
            self.rules = rules
        }

        private struct Runtime: Decodable { let rulesets: [Link] }
        private struct Link: Decodable { let name: String }
        private enum CodingKeys: String, CodingKey { case description, xdrEnabled, runtime, rules }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            description = try container.decode(String.self, forKey: .description)
            xdrEnabled = try container.decodeIfPresent(Bool.self, forKey: .xdrEnabled)
            rulesets = try container.decodeIfPresent(Runtime.self, forKey: .runtime)?.rulesets.map(\.name)
            rules = try container.decodeIfPresent([RulesetDocument.Rule].self, forKey: .rules)
        }
    }

    let sequence: Int
    let changedDateTime: String
    let kind: String
    let name: String
    let life: Int?
    let action: String
    let revision: Int
    let restoredRevision: Int?
    let policy: String?
    let actor: String
    let before: State?
    let after: State?

    static let keys: Set = [
        "sequence", "changedDateTime", "kind", "name", "life", "action", "revision", "restoredRevision", "policy", "actor",
        "before", "after",
    ]
}

struct History: Decodable {
    let changes: [ChangeRecord]
}

struct PolicyList: Decodable {
    let policies: [PolicyDocument]
}

struct RulesetList: Decodable {
    let rulesets: [RulesetDocument]
}

/// True for the schema's timestamp text, `2026-11-29T05:07:21.123Z`.
func isSchemaTimestamp(_ text: String) -> Bool {
    text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil
}

/// The name of the user the tests run as, which `policyctl` records when `--actor` is not given.
func userName() -> String {
    guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "" }
    return String(cString: name)
}

/// What `policyctl` prints on stderr for a refusal: the library's message, and policyctl's
/// advice for it when it has some.
func errorLine(_ error: PolicyStoreError) -> String {
    "error: \(error)" + (advice(for: error).map { "; " + $0 } ?? "") + "\n"
}
