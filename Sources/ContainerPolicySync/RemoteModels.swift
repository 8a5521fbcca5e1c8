import ContainerPolicyStore

/// The kinds of object this library reads from or writes to Vision One.
public enum RemoteObjectKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case policy
    case ruleset
    case managedRule
    case amazonECSCluster

    public var description: String {
        switch self {
        case .policy: return "policy"
        case .ruleset: return "ruleset"
        case .managedRule: return "managed rule"
        case .amazonECSCluster: return "Amazon ECS cluster"
        }
    }
}

// The decoders below are strict about the fields this library uses (a missing `id` or `name`,
// a `mitigation` it does not know, a wrong type: the whole response is refused with the path
// of the field) and lenient about the rest: unknown fields are kept in `additionalFields`,
// and absent or null optional fields get the server's defaults.

/// A ruleset as Vision One holds it (`/v3.0/containerSecurity/rulesets`).
///
/// ```swift
/// let rulesets = try await client.listRulesets()
/// for ruleset in rulesets { print(ruleset.name, ruleset.rules.map(\.id)) }
/// ```
public struct RemoteRuleset: Sendable, Hashable, Codable, Identifiable {
    /// The server's id, read from `Location` when the ruleset was created.
    public var id: String
    /// Fixed at creation.
    public var name: String
    /// `""` when the server sends none.
    public var description: String
    /// `any` (the default) or `notAny`; only meaningful with labels.
    public var labelMatchingCondition: String
    /// Kubernetes pod labels; no effect on Amazon ECS, so never written by this library.
    public var labels: [RemoteLabel]
    /// The managed rules, in the server's order (compared as a set, keyed by rule id).
    public var rules: [RemoteRule]
    public var createdDateTime: String?
    public var updatedDateTime: String?
    /// Fields of the API this library does not model, as sent.
    public var additionalFields: [String: RawJSON]

    public init(
        id: String, name: String, description: String = "", labelMatchingCondition: String = "any",
        labels: [RemoteLabel] = [], rules: [RemoteRule] = [], createdDateTime: String? = nil,
        updatedDateTime: String? = nil, additionalFields: [String: RawJSON] = [:]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.labelMatchingCondition = labelMatchingCondition
        self.labels = labels
        self.rules = rules
        self.createdDateTime = createdDateTime
        self.updatedDateTime = updatedDateTime
        self.additionalFields = additionalFields
    }

    static let modelled: Set<String> = [
        "id", "name", "description", "labelMatchingCondition", "labels", "rules", "createdDateTime", "updatedDateTime",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        id = try container.requiredString("id")
        name = try container.requiredString("name")
        description = try container.optionalString("description") ?? ""
        labelMatchingCondition = try container.optionalString("labelMatchingCondition") ?? "any"
        labels = try container.decodeIfPresent([RemoteLabel].self, forKey: AnyKey("labels")) ?? []
        rules = try container.decodeIfPresent([RemoteRule].self, forKey: AnyKey("rules")) ?? []
        createdDateTime = try container.optionalString("createdDateTime")
        updatedDateTime = try container.optionalString("updatedDateTime")
        additionalFields = try container.additionalFields(excluding: Self.modelled)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(id, forKey: AnyKey("id"))
        try container.encode(name, forKey: AnyKey("name"))
        try container.encode(description, forKey: AnyKey("description"))
        try container.encode(labelMatchingCondition, forKey: AnyKey("labelMatchingCondition"))
        try container.encode(labels, forKey: AnyKey("labels"))
        try container.encode(rules, forKey: AnyKey("rules"))
        try container.encodeIfPresent(createdDateTime, forKey: AnyKey("createdDateTime"))
        try container.encodeIfPresent(updatedDateTime, forKey: AnyKey("updatedDateTime"))
        try container.encodeAdditional(additionalFields, excluding: Self.modelled)
    }
}

/// A rule of a ruleset: a managed rule id and its mitigation (`log` when the server sends
/// none). Other fields the server sends (the Terraform provider shows an `enabled`) are kept,
/// and sent back unchanged when the ruleset's rules are patched.
public struct RemoteRule: Sendable, Hashable, Codable {
    /// `TM-` and 8 digits.
    public var id: String
    public var mitigation: Mitigation
    public var additionalFields: [String: RawJSON]

    public init(id: String, mitigation: Mitigation = .log, additionalFields: [String: RawJSON] = [:]) {
        self.id = id
        self.mitigation = mitigation
        self.additionalFields = additionalFields
    }

    /// The same rule as the store's value type.
    public var reference: RuleReference { RuleReference(id: id, mitigation: mitigation) }

    static let modelled: Set<String> = ["id", "mitigation"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        id = try container.requiredString("id")
        if let text = try container.optionalString("mitigation") {
            guard let mitigation = Mitigation(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: AnyKey("mitigation"), in: container,
                    debugDescription: "\(quotedName(text)) is not a mitigation this library knows (log, isolate, terminate)")
            }
            self.mitigation = mitigation
        } else {
            mitigation = .log
        }
        additionalFields = try container.additionalFields(excluding: Self.modelled)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(id, forKey: AnyKey("id"))
        try container.encode(mitigation.rawValue, forKey: AnyKey("mitigation"))
        try container.encodeAdditional(additionalFields, excluding: Self.modelled)
    }
}

/// A Kubernetes pod label of a ruleset.
public struct RemoteLabel: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A ruleset linked by a policy's `runtime.rulesets`: the id, and the name when the server
/// sends it.
public struct RemoteRulesetReference: Sendable, Hashable, Codable {
    public var id: String
    public var name: String?

    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
    }
}

/// A policy as Vision One holds it (`/v3.0/containerSecurity/policies`).
///
/// ```swift
/// let policy = try await client.policy(id: id)
/// print(policy.name, policy.xdrEnabled, policy.rulesets.map(\.id))
/// ```
public struct RemotePolicy: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    /// Fixed at creation.
    public var name: String
    /// `""` when the server sends none.
    public var description: String
    /// The XDR Telemetry switch; true when the server sends none.
    public var xdrEnabled: Bool
    /// Fixed at creation; the value for Amazon ECS is not documented publicly.
    public var platform: String?
    /// `runtime.rulesets`.
    public var rulesets: [RemoteRulesetReference]
    /// `runtime.customRuleset`, kept as sent.
    public var customRuleset: RawJSON?
    /// `default.rules`: Kubernetes Deployment rules, empty for Amazon ECS.
    public var deploymentRules: [RawJSON]
    /// `default.exceptions`: Kubernetes Continuous exceptions, empty for Amazon ECS.
    public var exceptions: [RawJSON]
    /// `namespaced`: Kubernetes namespaced definitions, empty for Amazon ECS.
    public var namespaced: [RawJSON]
    public var createdDateTime: String?
    public var updatedDateTime: String?
    public var rulesetsUpdatedDateTime: String?
    /// Fields of the API this library does not model (`malwareScan`, `secretScan`, ...).
    public var additionalFields: [String: RawJSON]

    public init(
        id: String, name: String, description: String = "", xdrEnabled: Bool = true, platform: String? = nil,
        rulesets: [RemoteRulesetReference] = [], customRuleset: RawJSON? = nil, deploymentRules: [RawJSON] = [],
        exceptions: [RawJSON] = [], namespaced: [RawJSON] = [], createdDateTime: String? = nil,
        updatedDateTime: String? = nil, rulesetsUpdatedDateTime: String? = nil, additionalFields: [String: RawJSON] = [:]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.xdrEnabled = xdrEnabled
        self.platform = platform
        self.rulesets = rulesets
        self.customRuleset = customRuleset
        self.deploymentRules = deploymentRules
        self.exceptions = exceptions
        self.namespaced = namespaced
        self.createdDateTime = createdDateTime
        self.updatedDateTime = updatedDateTime
        self.rulesetsUpdatedDateTime = rulesetsUpdatedDateTime
        self.additionalFields = additionalFields
    }

    static let modelled: Set<String> = [
        "id", "name", "description", "xdrEnabled", "platform", "default", "namespaced", "runtime",
        "createdDateTime", "updatedDateTime", "rulesetsUpdatedDateTime",
    ]

    private struct Runtime: Codable {
        var rulesets: [RemoteRulesetReference]?
        var customRuleset: RawJSON?
    }

    private struct Default: Codable {
        var rules: [RawJSON]?
        var exceptions: [RawJSON]?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        id = try container.requiredString("id")
        name = try container.requiredString("name")
        description = try container.optionalString("description") ?? ""
        xdrEnabled = try container.decodeIfPresent(Bool.self, forKey: AnyKey("xdrEnabled")) ?? true
        platform = try container.optionalString("platform")
        let runtime = try container.decodeIfPresent(Runtime.self, forKey: AnyKey("runtime"))
        rulesets = runtime?.rulesets ?? []
        customRuleset = runtime?.customRuleset
        let defaults = try container.decodeIfPresent(Default.self, forKey: AnyKey("default"))
        deploymentRules = defaults?.rules ?? []
        exceptions = defaults?.exceptions ?? []
        namespaced = try container.decodeIfPresent([RawJSON].self, forKey: AnyKey("namespaced")) ?? []
        createdDateTime = try container.optionalString("createdDateTime")
        updatedDateTime = try container.optionalString("updatedDateTime")
        rulesetsUpdatedDateTime = try container.optionalString("rulesetsUpdatedDateTime")
        additionalFields = try container.additionalFields(excluding: Self.modelled)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(id, forKey: AnyKey("id"))
        try container.encode(name, forKey: AnyKey("name"))
        try container.encode(description, forKey: AnyKey("description"))
        try container.encode(xdrEnabled, forKey: AnyKey("xdrEnabled"))
        try container.encodeIfPresent(platform, forKey: AnyKey("platform"))
        try container.encode(Default(rules: deploymentRules, exceptions: exceptions), forKey: AnyKey("default"))
        try container.encode(namespaced, forKey: AnyKey("namespaced"))
        try container.encode(Runtime(rulesets: rulesets, customRuleset: customRuleset), forKey: AnyKey("runtime"))
        try container.encodeIfPresent(createdDateTime, forKey: AnyKey("createdDateTime"))
        try container.encodeIfPresent(updatedDateTime, forKey: AnyKey("updatedDateTime"))
        try container.encodeIfPresent(rulesetsUpdatedDateTime, forKey: AnyKey("rulesetsUpdatedDateTime"))
        try container.encodeAdditional(additionalFields, excluding: Self.modelled)
    }

    /// The parts only Kubernetes clusters use, when the policy has any: this library never
    /// writes them, and reports them.
    public var kubernetesOnlyParts: [UnsupportedFeature] {
        var parts: [UnsupportedFeature] = []
        if !deploymentRules.isEmpty { parts.append(.deploymentRules) }
        if !exceptions.isEmpty { parts.append(.exceptions) }
        if !namespaced.isEmpty { parts.append(.namespacedPolicies) }
        return parts
    }
}

/// A managed rule (`/v3.0/containerSecurity/managedRules`), read only. The public reference
/// does not fix the names of its fields beyond `id`, so everything but `id`, `name` and
/// `description` is kept in `additionalFields` (the MITRE ATT&CK mapping among them).
public struct RemoteManagedRule: Sendable, Hashable, Codable, Identifiable {
    /// `TM-` and 8 digits.
    public var id: String
    public var name: String?
    public var description: String?
    public var additionalFields: [String: RawJSON]

    public init(id: String, name: String? = nil, description: String? = nil, additionalFields: [String: RawJSON] = [:]) {
        self.id = id
        self.name = name
        self.description = description
        self.additionalFields = additionalFields
    }

    static let modelled: Set<String> = ["id", "name", "description"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        id = try container.requiredString("id")
        name = try container.optionalString("name")
        description = try container.optionalString("description")
        additionalFields = try container.additionalFields(excluding: Self.modelled)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(id, forKey: AnyKey("id"))
        try container.encodeIfPresent(name, forKey: AnyKey("name"))
        try container.encodeIfPresent(description, forKey: AnyKey("description"))
        try container.encodeAdditional(additionalFields, excluding: Self.modelled)
    }
}

/// An Amazon ECS cluster known to Container Security (`/v3.0/containerSecurity/amazonEcsClusters`).
public struct RemoteECSCluster: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var name: String?
    public var description: String?
    /// The assigned policy's id, if any.
    public var policyID: String?
    public var runtimeSecurityEnabled: Bool?
    public var vulnerabilityScanEnabled: Bool?
    public var additionalFields: [String: RawJSON]

    public init(
        id: String, name: String? = nil, description: String? = nil, policyID: String? = nil,
        runtimeSecurityEnabled: Bool? = nil, vulnerabilityScanEnabled: Bool? = nil, additionalFields: [String: RawJSON] = [:]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.policyID = policyID
        self.runtimeSecurityEnabled = runtimeSecurityEnabled
        self.vulnerabilityScanEnabled = vulnerabilityScanEnabled
        self.additionalFields = additionalFields
    }

    static let modelled: Set<String> = [
        "id", "name", "description", "policyId", "runtimeSecurityEnabled", "vulnerabilityScanEnabled",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        id = try container.requiredString("id")
        name = try container.optionalString("name")
        description = try container.optionalString("description")
        // An unassigned cluster may say so with null or with "".
        policyID = try container.optionalString("policyId").flatMap { $0.isEmpty ? nil : $0 }
        runtimeSecurityEnabled = try container.decodeIfPresent(Bool.self, forKey: AnyKey("runtimeSecurityEnabled"))
        vulnerabilityScanEnabled = try container.decodeIfPresent(Bool.self, forKey: AnyKey("vulnerabilityScanEnabled"))
        additionalFields = try container.additionalFields(excluding: Self.modelled)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(id, forKey: AnyKey("id"))
        try container.encodeIfPresent(name, forKey: AnyKey("name"))
        try container.encodeIfPresent(description, forKey: AnyKey("description"))
        try container.encodeIfPresent(policyID, forKey: AnyKey("policyId"))
        try container.encodeIfPresent(runtimeSecurityEnabled, forKey: AnyKey("runtimeSecurityEnabled"))
        try container.encodeIfPresent(vulnerabilityScanEnabled, forKey: AnyKey("vulnerabilityScanEnabled"))
        try container.encodeAdditional(additionalFields, excluding: Self.modelled)
    }
}

extension RemoteRuleset {
    /// Labels only select Kubernetes pods: reported, never written.
    public var kubernetesOnlyParts: [UnsupportedFeature] { labels.isEmpty ? [] : [.rulesetLabels] }
}
