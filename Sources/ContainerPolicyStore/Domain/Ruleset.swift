import Foundation

/// A runtime ruleset: managed rules with their mitigations, made on its own and linked to
/// policies. Its editable part is its ``RulesetContent``, whose fields read as the ruleset's
/// own (`ruleset.rules`).
///
/// ```swift
/// let baseline = try store.perform(.createRuleset(
///     named: "baseline",
///     rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
/// print(baseline.rules.count)   // 1
/// ```
public struct Ruleset: PolicyStoreObject, Sendable, Hashable {
    /// Its id, name, revision, times and damage, which read as the ruleset's own.
    public let record: ObjectRecord
    /// The description and the rules.
    public var content: RulesetContent

    /// A ruleset as the store holds it.
    public init(
        id: Int, name: String, content: RulesetContent, revision: Int, createdAt: Date, updatedAt: Date,
        damage: [StoredDamage] = []
    ) {
        record = ObjectRecord(id: id, name: name, revision: revision, createdAt: createdAt, updatedAt: updatedAt, damage: damage)
        self.content = content
    }
}

extension Ruleset: Codable {
    /// The product API's shape (`id`, `name`, the content, `createdDateTime`,
    /// `updatedDateTime`), plus `revision`, and `damage` when there is any.
    public func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder, content: content)
    }

    public init(from decoder: any Decoder) throws {
        record = try ObjectRecord(from: decoder)
        content = try RulesetContent(from: decoder)
    }
}
