import Foundation

/// A Container Security policy for Amazon ECS clusters: runtime rules only, made of the
/// rulesets it links. Its editable part is its ``PolicyContent``, whose fields read as the
/// policy's own (`policy.description`, `policy.rulesets`).
///
/// ```swift
/// let policy = try store.perform(.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"]))
/// print(policy.name, policy.xdrEnabled, policy.rulesets)   // web.prod true ["baseline"]
/// ```
public struct Policy: PolicyStoreObject, Sendable, Hashable {
    /// Its id, name, revision, times and damage, which read as the policy's own
    /// (`policy.revision`).
    public let record: ObjectRecord
    /// The description, the XDR setting and the rulesets.
    public var content: PolicyContent
    /// When a ruleset was last added to or removed from the policy.
    public let rulesetsUpdatedAt: Date

    /// A policy as the store holds it; the store makes these, callers rarely need to.
    public init(
        id: Int, name: String, content: PolicyContent, revision: Int, createdAt: Date, updatedAt: Date,
        rulesetsUpdatedAt: Date, damage: [StoredDamage] = []
    ) {
        record = ObjectRecord(id: id, name: name, revision: revision, createdAt: createdAt, updatedAt: updatedAt, damage: damage)
        self.content = content
        self.rulesetsUpdatedAt = rulesetsUpdatedAt
    }
}

extension Policy: Codable {
    /// The product API's shape (`id`, `name`, the content, `createdDateTime`,
    /// `updatedDateTime`, `rulesetsUpdatedDateTime`), plus `revision`, and `damage` when
    /// there is any.
    public func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder, content: content, times: ["rulesetsUpdatedDateTime": rulesetsUpdatedAt])
    }

    public init(from decoder: any Decoder) throws {
        record = try ObjectRecord(from: decoder)
        content = try PolicyContent(from: decoder)
        rulesetsUpdatedAt = try decodeTimestamp(decoder, "rulesetsUpdatedDateTime")
    }
}
