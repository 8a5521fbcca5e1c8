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
    public var rulesets: [RulesetEntry]
    public var policies: [PolicyEntry]

    public init(rulesets: [RulesetEntry] = [], policies: [PolicyEntry] = []) {
        self.rulesets = rulesets
        self.policies = policies
    }

    /// A ruleset as the document states it.
    public struct RulesetEntry: Sendable, Hashable {
        public var name: String
        public var description: String
        public var rules: [RuleReference]

        public init(name: String, description: String = "", rules: [RuleReference] = []) {
            self.name = name
            self.description = description
            self.rules = rules
        }
    }

    /// A policy as the document states it; `rulesets` are names from `runtime.rulesets`.
    public struct PolicyEntry: Sendable, Hashable {
        public var name: String
        public var description: String
        public var xdrEnabled: Bool
        public var rulesets: [String]

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

    public init(path: String, message: String, unsupportedFeature: UnsupportedFeature? = nil) {
        self.path = path
        self.message = message
        self.unsupportedFeature = unsupportedFeature
    }

    public var description: String { "\(path): \(message)" }
}
