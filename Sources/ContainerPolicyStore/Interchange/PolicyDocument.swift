/// Policies and rulesets as JSON, shaped like the product's API, for keeping them in git and
/// applying them to many databases.
///
/// ```json
/// { "rulesets": [ { "name": "baseline", "description": "", "rules": [ { "id": "TM-00000001", "mitigation": "terminate" } ] } ],
///   "policies": [ { "name": "web.prod", "description": "", "xdrEnabled": true, "runtime": { "rulesets": [ { "name": "baseline" } ] } } ] }
/// ```
///
/// ```swift
/// let document = try PolicyDocument(json: data)        // every problem at once, with its path
/// let plan = try store.importDocument(document, prune: false, dryRun: true)
/// print(plan)
/// ```
public struct PolicyDocument: Sendable, Hashable {
    /// The rulesets, in the document's order (an export sorts them by name).
    public var rulesets: [RulesetEntry]
    /// The policies, in the document's order (an export sorts them by name).
    public var policies: [PolicyEntry]

    /// A document holding these rulesets and policies.
    public init(rulesets: [RulesetEntry] = [], policies: [PolicyEntry] = []) {
        self.rulesets = rulesets
        self.policies = policies
    }

    /// A ruleset as the document states it.
    public struct RulesetEntry: Sendable, Hashable {
        /// `name` in the JSON.
        public var name: String
        /// `description`; `""` when absent.
        public var description: String
        /// `rules`: `{id, mitigation}` each, mitigation `log` when absent.
        public var rules: [RuleReference]

        /// A ruleset entry; the defaults are those of an absent field.
        public init(name: String, description: String = "", rules: [RuleReference] = []) {
            self.name = name
            self.description = description
            self.rules = rules
        }
    }

    /// A policy as the document states it; `rulesets` are names from `runtime.rulesets`.
    public struct PolicyEntry: Sendable, Hashable {
        /// `name` in the JSON.
        public var name: String
        /// `description`; `""` when absent.
        public var description: String
        /// `xdrEnabled`; true when absent.
        public var xdrEnabled: Bool
        /// The names in `runtime.rulesets`.
        public var rulesets: [String]

        /// A policy entry; the defaults are those of an absent field.
        public init(name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []) {
            self.name = name
            self.description = description
            self.xdrEnabled = xdrEnabled
            self.rulesets = rulesets
        }
    }
}

/// One thing wrong with a document, at a JSON path such as `policies[3].name`.
public struct DocumentProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where in the document: `policies[3].runtime.rulesets[0].name`, or `$` for the whole.
    public let path: String
    /// What is wrong and what to do.
    public let message: String
    /// Set when the problem is a part of the product that Amazon ECS policies do not have.
    public let unsupportedFeature: UnsupportedFeature?

    /// A problem at `path`.
    public init(path: String, message: String, unsupportedFeature: UnsupportedFeature? = nil) {
        self.path = path
        self.message = message
        self.unsupportedFeature = unsupportedFeature
    }

    public var description: String { "\(path): \(message)" }
}
