import ContainerPolicyStore

/// The body of a ruleset `POST`. Labels are Kubernetes only and never sent.
///
/// ```swift
/// let id = try await client.createRuleset(NewRuleset(
///     name: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
/// ```
public struct NewRuleset: Sendable, Hashable, Encodable {
    public var name: String
    public var description: String
    public var rules: [RuleReference]

    public init(name: String, description: String = "", rules: [RuleReference] = []) {
        self.name = name
        self.description = description
        self.rules = rules
    }
}

/// The body of a policy `POST`: an Amazon ECS policy, runtime rulesets only. The empty
/// `default` part the API requires on create is added by the client, and so is the
/// `platform` from ``VisionOneClient/Configuration/policyPlatform`` when one is configured.
///
/// ```swift
/// let id = try await client.createPolicy(NewPolicy(
///     name: "web.prod", rulesets: [RemoteRulesetReference(id: baselineID, name: "baseline")]))
/// ```
public struct NewPolicy: Sendable, Hashable {
    public var name: String
    public var description: String
    public var xdrEnabled: Bool
    public var rulesets: [RemoteRulesetReference]

    public init(name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [RemoteRulesetReference] = []) {
        self.name = name
        self.description = description
        self.xdrEnabled = xdrEnabled
        self.rulesets = rulesets
    }
}

/// The body of a policy `PATCH`: only the fields that are set are sent. There is no `name`
/// and no `platform` here, because both are fixed at creation: a rename cannot even be
/// written down.
///
/// ```swift
/// var patch = PolicyPatch()
/// patch.xdrEnabled = false
/// try await client.updatePolicy(id: id, patch, name: "web.prod")   // sends {"xdrEnabled":false}
/// ```
public struct PolicyPatch: Sendable, Hashable, Codable {
    public var description: String?
    public var xdrEnabled: Bool?
    /// The complete list of linked rulesets after the change (`[]` unlinks them all).
    public var rulesets: [RemoteRulesetReference]?

    public init(description: String? = nil, xdrEnabled: Bool? = nil, rulesets: [RemoteRulesetReference]? = nil) {
        self.description = description
        self.xdrEnabled = xdrEnabled
        self.rulesets = rulesets
    }

    /// Nothing to send.
    public var isEmpty: Bool { description == nil && xdrEnabled == nil && rulesets == nil }

    /// The fields a `PATCH` with this body sends, in the API's names.
    public var fieldNames: [String] {
        [description.map { _ in "description" }, xdrEnabled.map { _ in "xdrEnabled" }, rulesets.map { _ in "runtime.rulesets" }]
            .compactMap { $0 }
    }

    private enum CodingKeys: String, CodingKey { case description, xdrEnabled, runtime }
    private struct Runtime: Codable { var rulesets: [RemoteRulesetReference] }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        xdrEnabled = try container.decodeIfPresent(Bool.self, forKey: .xdrEnabled)
        rulesets = try container.decodeIfPresent(Runtime.self, forKey: .runtime)?.rulesets
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encodeIfPresent(xdrEnabled, forKey: .xdrEnabled)
        try container.encodeIfPresent(rulesets.map(Runtime.init), forKey: .runtime)
    }
}

/// The body of a ruleset `PATCH`: only the fields that are set are sent; never a `name`, and
/// never labels (Kubernetes only).
///
/// ```swift
/// let patch = RulesetPatch(rules: [RemoteRule(id: "TM-00000001", mitigation: .isolate)])
/// try await client.updateRuleset(id: id, patch, name: "baseline")   // sends {"rules":[...]}
/// ```
public struct RulesetPatch: Sendable, Hashable, Codable {
    public var description: String?
    /// The complete list of rules after the change.
    public var rules: [RemoteRule]?

    public init(description: String? = nil, rules: [RemoteRule]? = nil) {
        self.description = description
        self.rules = rules
    }

    /// Nothing to send.
    public var isEmpty: Bool { description == nil && rules == nil }

    /// The fields a `PATCH` with this body sends, in the API's names.
    public var fieldNames: [String] {
        [description.map { _ in "description" }, rules.map { _ in "rules" }].compactMap { $0 }
    }
}

/// The body of an Amazon ECS cluster `PATCH`; assigning a policy is a `PATCH` of its id.
public struct AmazonECSClusterPatch: Sendable, Hashable, Codable {
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

/// The wire form of a create, with the parts the API requires that callers need not spell.
struct PolicyCreateBody: Encodable {
    let policy: NewPolicy
    let platform: String?

    private enum CodingKeys: String, CodingKey { case name, description, xdrEnabled, platform, `default`, runtime }
    private struct Default: Encodable {
        let rules: [RawJSON] = []
        let exceptions: [RawJSON] = []
    }
    private struct Runtime: Encodable { let rulesets: [RemoteRulesetReference] }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(policy.name, forKey: .name)
        try container.encode(policy.description, forKey: .description)
        try container.encode(policy.xdrEnabled, forKey: .xdrEnabled)
        try container.encodeIfPresent(platform, forKey: .platform)
        try container.encode(Default(), forKey: .default)
        try container.encode(Runtime(rulesets: policy.rulesets), forKey: .runtime)
    }
}
