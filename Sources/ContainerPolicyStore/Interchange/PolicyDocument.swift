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
/// let plan = try store.perform(.importDocument(document, dryRun: true))
/// print(plan)
/// ```
public struct PolicyDocument: Sendable, Hashable, Codable {
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
    public typealias RulesetEntry = DocumentEntry<RulesetContent>
    /// A policy as the document states it.
    public typealias PolicyEntry = DocumentEntry<PolicyContent>
}

/// An object as a document states it: its name and its content, whose fields read as the
/// entry's own (`entry.description`).
@dynamicMemberLookup
public struct DocumentEntry<Content: ObjectContent>: Sendable, Hashable, Codable {
    /// `name` in the JSON.
    public var name: String
    /// The other fields; absent ones have their defaults.
    public var content: Content

    public init(name: String, content: Content) {
        self.name = name
        self.content = content
    }

    public subscript<Value>(dynamicMember field: WritableKeyPath<Content, Value>) -> Value {
        get { content[keyPath: field] }
        set { content[keyPath: field] = newValue }
    }

    /// The product's shape: `name`, then the content's fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(name, forKey: FieldKey("name"))
        try content.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        self.init(name: try container.decode(String.self, forKey: FieldKey("name")), content: try Content(from: decoder))
    }
}

extension DocumentEntry where Content == RulesetContent {
    /// A ruleset entry with these fields; the defaults are those of an absent field.
    public init(name: String, description: String = "", rules: [RuleReference] = []) {
        self.init(name: name, content: RulesetContent(description: description, rules: rules))
    }
}

extension DocumentEntry where Content == PolicyContent {
    /// A policy entry with these fields; the defaults are those of an absent field.
    public init(name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []) {
        self.init(name: name, content: PolicyContent(description: description, xdrEnabled: xdrEnabled, rulesets: rulesets))
    }
}
