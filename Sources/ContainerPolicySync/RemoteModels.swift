import ContainerPolicyStore

/// The kinds of object this library reads from or writes to Vision One.
public enum RemoteObjectKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case policy
    case ruleset
    case managedRule
    case amazonECSCluster

    /// The kind of a store's object: a policy or a ruleset.
    public init(_ kind: ObjectKind) {
        self = kind == .policy ? .policy : .ruleset
    }

    public var description: String {
        switch self {
        case .policy: return "policy"
        case .ruleset: return "ruleset"
        case .managedRule: return "managed rule"
        case .amazonECSCluster: return "Amazon ECS cluster"
        }
    }
}

/// A policy or a ruleset as Vision One holds it: the server's id, the name, the times the
/// server gave, and the store's content, whose fields read as the object's own
/// (`policy.xdrEnabled`).
public protocol RemoteObject: ContentBearing, Identifiable, Sendable, Hashable where ID == String {
    /// The kind of the store's object it is synced with.
    static var kind: ObjectKind { get }
    /// Fixed at creation.
    var name: String { get }
    var createdDateTime: String? { get }
    var updatedDateTime: String? { get }
}

extension RemoteObject {
    /// The timestamp a sync remembers: `updatedDateTime`, else `createdDateTime`.
    public var lastModified: String? { updatedDateTime ?? createdDateTime }
}

// The decoders below read what the store models into the store's own content types
// (`RulesetContent`, `PolicyContent`), by the fields' API names; they are strict about those
// fields (a missing `id` or `name`, a mitigation the product does not have, a wrong type: the
// whole answer is refused with the field's path) and lenient about the rest: an absent or null
// field has its default, and unknown fields are kept in `additionalFields`.

/// A ruleset as Vision One holds it (`/v3.0/containerSecurity/rulesets`).
///
/// ```swift
/// for ruleset in try await client.listRulesets() { print(ruleset.name, ruleset.rules.map(\.id)) }
/// ```
public struct RemoteRuleset: RemoteObject, Decodable {
    public static let kind = ObjectKind.ruleset

    /// The server's id, read from `Location` when the ruleset was created.
    public var id: String
    /// Fixed at creation.
    public var name: String
    /// The description and the rules, as the store holds a ruleset's: rules sorted by ID, a
    /// rule the server lists twice counted once, mitigation `log` when the server sends none.
    public var content: RulesetContent
    /// `any` (the default) or `notAny`; only meaningful with labels.
    public var labelMatchingCondition: String
    /// Kubernetes pod labels; no effect on Amazon ECS, so never written by this library.
    public var labels: [RemoteLabel]
    /// What the server sent with each rule besides `id` and `mitigation` (an `enabled`, say),
    /// by rule ID: sent back unchanged when the rules are patched.
    public var ruleFields: [String: [String: RawJSON]]
    public var createdDateTime: String?
    public var updatedDateTime: String?
    /// Fields of the API this library does not model, as sent.
    public var additionalFields: [String: RawJSON]

    public init(
        id: String, name: String, content: RulesetContent = RulesetContent(), labelMatchingCondition: String = "any",
        labels: [RemoteLabel] = [], ruleFields: [String: [String: RawJSON]] = [:], createdDateTime: String? = nil,
        updatedDateTime: String? = nil, additionalFields: [String: RawJSON] = [:]
    ) {
        self.id = id
        self.name = name
        self.content = content
        self.labelMatchingCondition = labelMatchingCondition
        self.labels = labels
        self.ruleFields = ruleFields
        self.createdDateTime = createdDateTime
        self.updatedDateTime = updatedDateTime
        self.additionalFields = additionalFields
    }

    static let modelled = contentKeys(RulesetContent.self)
        .union(["id", "name", "labelMatchingCondition", "labels", "rules", "createdDateTime", "updatedDateTime"])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        id = try container.requiredString("id")
        name = try container.requiredString("name")
        content = try RulesetContent.remoteFields(from: container)
        var seen: Set<String> = []
        var fields: [String: [String: RawJSON]] = [:]
        let rules = try container.decodeIfPresent([RemoteRule].self, forKey: FieldKey("rules")) ?? []
        for rule in rules where seen.insert(rule.reference.id).inserted {
            content.rules.append(rule.reference)
            if !rule.otherFields.isEmpty { fields[rule.reference.id] = rule.otherFields }
        }
        content.rules.sort { $0.id < $1.id }
        ruleFields = fields
        labelMatchingCondition = try container.optionalString("labelMatchingCondition") ?? "any"
        labels = try container.decodeIfPresent([RemoteLabel].self, forKey: FieldKey("labels")) ?? []
        createdDateTime = try container.optionalString("createdDateTime")
        updatedDateTime = try container.optionalString("updatedDateTime")
        additionalFields = try container.additionalFields(excluding: Self.modelled)
    }

    /// Labels only select Kubernetes pods: reported, never written.
    public var kubernetesOnlyParts: [UnsupportedFeature] { labels.isEmpty ? [] : [.rulesetLabels] }

    /// The rules as a PATCH sends them: each with the fields the server sent with it.
    func remoteRules(_ rules: [RuleReference]) -> [RemoteRule] {
        rules.map { RemoteRule(reference: $0, otherFields: ruleFields[$0.id] ?? [:]) }
    }
}

/// A rule of a ruleset on the wire: the store's ``RuleReference`` (mitigation `log` when the
/// server sends none), and whatever else the server sent with it.
struct RemoteRule: Sendable, Hashable, Codable {
    var reference: RuleReference
    var otherFields: [String: RawJSON]

    init(reference: RuleReference, otherFields: [String: RawJSON] = [:]) {
        self.reference = reference
        self.otherFields = otherFields
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        let id = try container.requiredString("id")
        var mitigation = Mitigation.log
        if let text = try container.optionalString("mitigation") {
            guard let known = Mitigation(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: FieldKey("mitigation"), in: container,
                    debugDescription: "\(quoted(text)) is not a mitigation the product has (log, isolate, terminate)")
            }
            mitigation = known
        }
        reference = RuleReference(id: id, mitigation: mitigation)
        otherFields = try container.additionalFields(excluding: ["id", "mitigation"])
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(reference.id, forKey: FieldKey("id"))
        try container.encode(reference.mitigation.rawValue, forKey: FieldKey("mitigation"))
        try container.encodeAdditional(otherFields, excluding: ["id", "mitigation"])
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
/// print(policy.name, policy.xdrEnabled, policy.rulesetLinks.map(\.id))
/// ```
public struct RemotePolicy: RemoteObject, Decodable {
    public static let kind = ObjectKind.policy

    public var id: String
    /// Fixed at creation.
    public var name: String
    /// The description and the XDR switch, as the store holds a policy's; `rulesets` are the
    /// names the server gave its links (a plan names them by the linked ids instead).
    public var content: PolicyContent
    /// `runtime.rulesets`: the linked rulesets, by id.
    public var rulesetLinks: [RemoteRulesetReference]
    /// Fixed at creation; the value for Amazon ECS is not documented publicly.
    public var platform: String?
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
        id: String, name: String, content: PolicyContent = PolicyContent(), rulesetLinks: [RemoteRulesetReference] = [],
        platform: String? = nil, customRuleset: RawJSON? = nil, deploymentRules: [RawJSON] = [], exceptions: [RawJSON] = [],
        namespaced: [RawJSON] = [], createdDateTime: String? = nil, updatedDateTime: String? = nil,
        rulesetsUpdatedDateTime: String? = nil, additionalFields: [String: RawJSON] = [:]
    ) {
        self.id = id
        self.name = name
        self.content = content
        self.rulesetLinks = rulesetLinks
        self.platform = platform
        self.customRuleset = customRuleset
        self.deploymentRules = deploymentRules
        self.exceptions = exceptions
        self.namespaced = namespaced
        self.createdDateTime = createdDateTime
        self.updatedDateTime = updatedDateTime
        self.rulesetsUpdatedDateTime = rulesetsUpdatedDateTime
        self.additionalFields = additionalFields
    }

    static let modelled = contentKeys(PolicyContent.self).union([
        "id", "name", "platform", "default", "namespaced", "runtime", "createdDateTime", "updatedDateTime", "rulesetsUpdatedDateTime",
    ])

    private struct Runtime: Decodable {
        var rulesets: [RemoteRulesetReference]?
        var customRuleset: RawJSON?
    }

    private struct Default: Decodable {
        var rules: [RawJSON]?
        var exceptions: [RawJSON]?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        id = try container.requiredString("id")
        name = try container.requiredString("name")
        content = try PolicyContent.remoteFields(from: container)
        platform = try container.optionalString("platform")
        let runtime = try container.decodeIfPresent(Runtime.self, forKey: FieldKey("runtime"))
        rulesetLinks = runtime?.rulesets ?? []
        content.rulesets = rulesetLinks.compactMap(\.name)
        customRuleset = runtime?.customRuleset
        let defaults = try container.decodeIfPresent(Default.self, forKey: FieldKey("default"))
        deploymentRules = defaults?.rules ?? []
        exceptions = defaults?.exceptions ?? []
        namespaced = try container.decodeIfPresent([RawJSON].self, forKey: FieldKey("namespaced")) ?? []
        createdDateTime = try container.optionalString("createdDateTime")
        updatedDateTime = try container.optionalString("updatedDateTime")
        rulesetsUpdatedDateTime = try container.optionalString("rulesetsUpdatedDateTime")
        additionalFields = try container.additionalFields(excluding: Self.modelled)
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
public struct RemoteManagedRule: Sendable, Hashable, Decodable, Identifiable {
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

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        id = try container.requiredString("id")
        name = try container.optionalString("name")
        description = try container.optionalString("description")
        additionalFields = try container.additionalFields(excluding: ["id", "name", "description"])
    }
}

/// An Amazon ECS cluster known to Container Security (`/v3.0/containerSecurity/amazonEcsClusters`).
public struct RemoteECSCluster: Sendable, Hashable, Decodable, Identifiable {
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

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        id = try container.requiredString("id")
        name = try container.optionalString("name")
        description = try container.optionalString("description")
        // An unassigned cluster may say so with null or with "".
        policyID = try container.optionalString("policyId").flatMap { $0.isEmpty ? nil : $0 }
        runtimeSecurityEnabled = try container.decodeIfPresent(Bool.self, forKey: FieldKey("runtimeSecurityEnabled"))
        vulnerabilityScanEnabled = try container.decodeIfPresent(Bool.self, forKey: FieldKey("vulnerabilityScanEnabled"))
        additionalFields = try container.additionalFields(excluding: [
            "id", "name", "description", "policyId", "runtimeSecurityEnabled", "vulnerabilityScanEnabled",
        ])
    }
}

/// The API names of a content type's scalar fields.
func contentKeys<Content: ObjectContent>(_: Content.Type) -> Set<String> {
    Set(Content.Field.allCases.map(\.rawValue))
}

extension ObjectContent {
    /// The content's scalar fields read from an API object by their API names (the names
    /// `Field` gives them); absent or null ones keep their defaults. The rest of the content
    /// is the caller's to read.
    static func remoteFields(from container: KeyedDecodingContainer<FieldKey>) throws -> Self {
        var content = Self.empty
        for field in Field.allCases {
            let key = FieldKey(field.rawValue)
            guard container.contains(key), try !container.decodeNil(forKey: key) else { continue }
            switch content[field] {
            case .text: content[field] = .text(try container.decode(String.self, forKey: key))
            case .flag: content[field] = .flag(try container.decode(Bool.self, forKey: key))
            }
        }
        return content
    }
}
