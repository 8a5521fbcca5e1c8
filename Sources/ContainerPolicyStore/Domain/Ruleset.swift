import Foundation

/// A runtime ruleset: managed rules with their mitigations, made on its own and linked to
/// policies.
///
/// ```swift
/// let baseline = try store.createRuleset(
///     named: "baseline",
///     rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
/// print(baseline.rules.count)   // 1
/// ```
public struct Ruleset: Sendable, Hashable, Identifiable {
    /// The row id in `rulesets`.
    public let id: Int
    /// Unique ignoring letter case among rulesets; never changes.
    public let name: String
    /// At most 1,000 characters.
    public var description: String
    /// Sorted by rule ID; each ID at most once.
    public var rules: [RuleReference]
    /// Starts at 1 and grows by one with every change to the ruleset or to one of its rules.
    public let revision: Int
    /// When the ruleset was created.
    public let createdAt: Date
    /// When the ruleset or its rules last changed.
    public let updatedAt: Date
    /// Stored values of the ruleset that break the product's rules (a rule whose ID or
    /// mitigation is not one the product has, which is then not in `rules`); empty for a
    /// sound one.
    public let damage: [StoredDamage]

    /// A ruleset as the store holds it.
    public init(
        id: Int, name: String, description: String, rules: [RuleReference],
        revision: Int, createdAt: Date, updatedAt: Date, damage: [StoredDamage] = []
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.rules = rules
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.damage = damage
    }
}

/// The editable part of a ruleset, handed to the closure of
/// ``PolicyStore/modifyRuleset(named:expectedRevision:_:)``.
///
/// ```swift
/// try store.modifyRuleset(named: "baseline") { ruleset in
///     ruleset.rules.append(RuleReference(id: "TM-00000042", mitigation: .isolate))
/// }
/// ```
public struct RulesetEdit: Sendable, Hashable {
    /// At most 1,000 characters.
    public var description: String
    /// The complete list of rules after the edit.
    public var rules: [RuleReference]

    /// The fields as they are to become.
    public init(description: String, rules: [RuleReference]) {
        self.description = description
        self.rules = rules
    }
}
