import ContainerPolicyStore

/// The body of a ruleset `POST`: the name and the store's content. Labels are Kubernetes only
/// and never sent.
///
/// ```swift
/// let created = try await client.createRuleset(NewRuleset(
///     name: "baseline", content: RulesetContent(rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])))
/// ```
public struct NewRuleset: Sendable, Hashable, Encodable {
    public var name: String
    public var content: RulesetContent

    public init(name: String, content: RulesetContent = RulesetContent()) {
        self.name = name
        self.content = content
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(name, forKey: FieldKey("name"))
        try container.encodeFields(of: content)
        try container.encode(content.rules.map { RemoteRule(reference: $0) }, forKey: FieldKey("rules"))
    }
}

/// The body of a policy `POST`: an Amazon ECS policy, runtime rulesets only, linked by id
/// (the content's ruleset names are not sent). The empty `default` part the API requires on
/// create is added, and so is the `platform` of ``VisionOneClient/Configuration/policyPlatform``
/// when one is configured.
///
/// ```swift
/// let created = try await client.createPolicy(NewPolicy(
///     name: "web.prod", content: PolicyContent(xdrEnabled: false), rulesets: [RemoteRulesetReference(id: baselineID)]))
/// ```
public struct NewPolicy: Sendable, Hashable {
    public var name: String
    public var content: PolicyContent
    public var rulesets: [RemoteRulesetReference]

    public init(name: String, content: PolicyContent = PolicyContent(), rulesets: [RemoteRulesetReference] = []) {
        self.name = name
        self.content = content
        self.rulesets = rulesets
    }
}

/// The body of a policy `PATCH`: exactly the fields given, by their API names, and the
/// complete list of links when given (`[]` unlinks them all). There is no name and no
/// `platform`: both are fixed at creation, so a rename cannot even be written down.
///
/// ```swift
/// let patch = PolicyPatch(fields: [.xdrEnabled: .flag(false)])
/// try await client.updatePolicy(id: id, patch, name: "web.prod")   // sends {"xdrEnabled":false}
/// ```
public struct PolicyPatch: Sendable, Hashable, Encodable {
    public var fields: [PolicyContent.Field: FieldValue]
    public var rulesets: [RemoteRulesetReference]?

    public init(fields: [PolicyContent.Field: FieldValue] = [:], rulesets: [RemoteRulesetReference]? = nil) {
        self.fields = fields
        self.rulesets = rulesets
    }

    /// The new values of the fields that `changes` changes.
    public init(_ changes: PolicyChanges, rulesets: [RemoteRulesetReference]?) {
        self.init(fields: Dictionary(changes.fields.map { ($0.field, $0.to) }, uniquingKeysWith: { _, last in last }), rulesets: rulesets)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encodeFields(fields)
        if let rulesets {
            var runtime = container.nestedContainer(keyedBy: FieldKey.self, forKey: FieldKey("runtime"))
            try runtime.encode(rulesets, forKey: FieldKey("rulesets"))
        }
    }
}

/// The body of a ruleset `PATCH`: exactly the fields given, and the complete list of rules
/// when given (the API replaces it); never a name, never labels.
///
/// ```swift
/// let patch = RulesetPatch(fields: [.description: .text("Every cluster")])
/// try await client.updateRuleset(id: id, patch, name: "baseline")   // sends {"description":"Every cluster"}
/// ```
public struct RulesetPatch: Sendable, Hashable, Encodable {
    public var fields: [RulesetContent.Field: FieldValue]
    /// The rules as they are to be; each keeps what the server sent with it, when built
    /// from a ``RemoteRuleset``.
    public var rules: [RuleReference]?
    var ruleFields: [String: [String: RawJSON]] = [:]

    public init(fields: [RulesetContent.Field: FieldValue] = [:], rules: [RuleReference]? = nil) {
        self.fields = fields
        self.rules = rules
    }

    /// The new values of the fields that `changes` changes and, when it changes rules, the
    /// rules of `target` whole, each with the fields `remote` sent with it.
    init(_ changes: RulesetChanges, target: RulesetContent, keepingRuleFieldsOf remote: RemoteRuleset) {
        self.init(fields: Dictionary(changes.fields.map { ($0.field, $0.to) }, uniquingKeysWith: { _, last in last }))
        if !changes.addedRules.isEmpty || !changes.removedRules.isEmpty || !changes.remitigatedRules.isEmpty {
            rules = target.rules.sorted { $0.id < $1.id }
            ruleFields = remote.ruleFields
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encodeFields(fields)
        if let rules {
            try container.encode(rules.map { RemoteRule(reference: $0, otherFields: ruleFields[$0.id] ?? [:]) }, forKey: FieldKey("rules"))
        }
    }
}

/// The body of an Amazon ECS cluster `PATCH`; assigning a policy is a `PATCH` of its id.
public struct AmazonECSClusterPatch: Sendable, Hashable, Encodable {
    public var description: String?
    /// The policy to assign.
    public var policyID: String?
    public var runtimeSecurityEnabled: Bool?
    public var vulnerabilityScanEnabled: Bool?

    public init(
        description: String? = nil, policyID: String? = nil, runtimeSecurityEnabled: Bool? = nil,
        vulnerabilityScanEnabled: Bool? = nil
    ) {
        self.description = description
        self.policyID = policyID
        self.runtimeSecurityEnabled = runtimeSecurityEnabled
        self.vulnerabilityScanEnabled = vulnerabilityScanEnabled
    }

    private enum CodingKeys: String, CodingKey {
        case description
        case policyID = "policyId"
        case runtimeSecurityEnabled, vulnerabilityScanEnabled
    }
}

/// The wire form of a policy create, with the parts the API requires that callers need not
/// spell.
struct PolicyCreateBody: Encodable {
    let policy: NewPolicy
    let platform: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(policy.name, forKey: FieldKey("name"))
        try container.encodeFields(of: policy.content)
        try container.encodeIfPresent(platform, forKey: FieldKey("platform"))
        var defaults = container.nestedContainer(keyedBy: FieldKey.self, forKey: FieldKey("default"))
        try defaults.encode([RawJSON](), forKey: FieldKey("rules"))
        try defaults.encode([RawJSON](), forKey: FieldKey("exceptions"))
        var runtime = container.nestedContainer(keyedBy: FieldKey.self, forKey: FieldKey("runtime"))
        try runtime.encode(policy.rulesets, forKey: FieldKey("rulesets"))
    }
}

extension KeyedEncodingContainer where Key == FieldKey {
    /// Each field's value under its API name.
    mutating func encodeFields<Field: RawRepresentable>(_ values: [Field: FieldValue]) throws where Field.RawValue == String {
        for (field, value) in values {
            switch value {
            case .text(let text): try encode(text, forKey: FieldKey(field.rawValue))
            case .flag(let flag): try encode(flag, forKey: FieldKey(field.rawValue))
            }
        }
    }

    /// Every scalar field of the content.
    mutating func encodeFields<Content: ObjectContent>(of content: Content) throws {
        try encodeFields(Dictionary(uniqueKeysWithValues: Content.Field.allCases.map { ($0, content[$0]) }))
    }
}
