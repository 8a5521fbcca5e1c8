import Foundation

/// A Container Security policy for Amazon ECS clusters: runtime rules only, made of the
/// rulesets it links. Its editable part is its ``PolicyContent``, whose fields read as the
/// policy's own (`policy.description`, `policy.rulesets`).
///
/// ```swift
/// let policy = try store.perform(.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"]))
/// print(policy.name, policy.xdrEnabled, policy.rulesets)   // web.prod true ["baseline"]
/// ```
@dynamicMemberLookup
public struct Policy: Sendable, Hashable, Identifiable {
    /// The row id in `policies`; stable for the life of the policy, never reused.
    public let id: Int
    /// Unique ignoring letter case; keeps the case it was created with; never changes.
    public let name: String
    /// The description, the XDR setting and the rulesets.
    public var content: PolicyContent
    /// Starts at 1 and grows by one with every change to the policy or to one of its links.
    public let revision: Int
    /// When the policy was created.
    public let createdAt: Date
    /// When the policy or its links last changed.
    public let updatedAt: Date
    /// When a ruleset was last added to or removed from the policy.
    public let rulesetsUpdatedAt: Date
    /// Stored values of the policy that break the product's rules; empty for a sound one.
    public let damage: [StoredDamage]

    /// A policy as the store holds it; the store makes these, callers rarely need to.
    public init(
        id: Int, name: String, content: PolicyContent, revision: Int, createdAt: Date, updatedAt: Date,
        rulesetsUpdatedAt: Date, damage: [StoredDamage] = []
    ) {
        self.id = id
        self.name = name
        self.content = content
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.rulesetsUpdatedAt = rulesetsUpdatedAt
        self.damage = damage
    }

    /// A field of the content, as if it were the policy's own.
    public subscript<Value>(dynamicMember field: WritableKeyPath<PolicyContent, Value>) -> Value {
        get { content[keyPath: field] }
        set { content[keyPath: field] = newValue }
    }
}

extension Policy: Codable {
    /// The product API's shape (`id`, `name`, the content, `createdDateTime`,
    /// `updatedDateTime`, `rulesetsUpdatedDateTime`), plus `revision`, and `damage` when
    /// there is any.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(id, forKey: FieldKey("id"))
        try container.encode(name, forKey: FieldKey("name"))
        try content.encode(to: encoder)
        try container.encode(revision, forKey: FieldKey("revision"))
        try container.encode(Timestamp.text(from: createdAt), forKey: FieldKey("createdDateTime"))
        try container.encode(Timestamp.text(from: updatedAt), forKey: FieldKey("updatedDateTime"))
        try container.encode(Timestamp.text(from: rulesetsUpdatedAt), forKey: FieldKey("rulesetsUpdatedDateTime"))
        if !damage.isEmpty { try container.encode(damage, forKey: FieldKey("damage")) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        self.init(
            id: try container.decode(Int.self, forKey: FieldKey("id")),
            name: try container.decode(String.self, forKey: FieldKey("name")),
            content: try PolicyContent(from: decoder),
            revision: try container.decode(Int.self, forKey: FieldKey("revision")),
            createdAt: try decodeTimestamp(container, "createdDateTime"),
            updatedAt: try decodeTimestamp(container, "updatedDateTime"),
            rulesetsUpdatedAt: try decodeTimestamp(container, "rulesetsUpdatedDateTime"),
            damage: try container.decodeIfPresent([StoredDamage].self, forKey: FieldKey("damage")) ?? [])
    }
}

/// A timestamp member in the schema's text form.
func decodeTimestamp(_ container: KeyedDecodingContainer<FieldKey>, _ key: String) throws -> Date {
    let text = try container.decode(String.self, forKey: FieldKey(key))
    guard let date = Timestamp.date(from: text) else {
        throw DecodingError.dataCorruptedError(
            forKey: FieldKey(key), in: container, debugDescription: "\(text) is not a timestamp like 2026-11-29T05:07:21.123Z")
    }
    return date
}
