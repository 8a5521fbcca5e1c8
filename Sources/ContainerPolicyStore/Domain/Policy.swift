import Foundation

/// A Container Security policy for Amazon ECS clusters: runtime rules only, made of the
/// rulesets it links.
///
/// ```swift
/// let policy = try store.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"])
/// print(policy.name, policy.xdrEnabled, policy.rulesets)   // web.prod true ["baseline"]
/// ```
public struct Policy: Sendable, Hashable, Identifiable {
    /// The row id in `policies`; stable for the life of the policy.
    public let id: Int
    /// Unique ignoring letter case; keeps the case it was created with; never changes.
    public let name: String
    /// Shown under the name in the policy list.
    public var description: String
    /// The console's "XDR Telemetry" switch.
    public var xdrEnabled: Bool
    /// The names of the linked rulesets, sorted.
    public var rulesets: [String]
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
        id: Int, name: String, description: String, xdrEnabled: Bool, rulesets: [String],
        revision: Int, createdAt: Date, updatedAt: Date, rulesetsUpdatedAt: Date, damage: [StoredDamage] = []
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.xdrEnabled = xdrEnabled
        self.rulesets = rulesets
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.rulesetsUpdatedAt = rulesetsUpdatedAt
        self.damage = damage
    }
}

/// The editable part of a policy, handed to the closure of
/// ``PolicyStore/modifyPolicy(named:expectedRevision:_:)``. The name is not here: it never
/// changes.
///
/// ```swift
/// try store.modifyPolicy(named: "web.prod", expectedRevision: 4) { policy in
///     policy.xdrEnabled = false
///     policy.addRuleset("strict")
///     policy.removeRuleset("baseline")
/// }
/// ```
public struct PolicyEdit: Sendable, Hashable {
    /// Shown under the name in the policy list; at most 1,000 characters.
    public var description: String
    /// The XDR Telemetry switch.
    public var xdrEnabled: Bool
    /// Ruleset names; letter case and repeats do not matter, as with the console's checkboxes.
    public var rulesets: [String]

    /// The fields as they are to become.
    public init(description: String, xdrEnabled: Bool, rulesets: [String]) {
        self.description = description
        self.xdrEnabled = xdrEnabled
        self.rulesets = rulesets
    }

    /// Links a ruleset; linking one that is already linked changes nothing.
    public mutating func addRuleset(_ name: String) {
        if !rulesets.contains(where: { sameName($0, name) }) { rulesets.append(name) }
    }

    /// Unlinks a ruleset, matching its name ignoring letter case.
    public mutating func removeRuleset(_ name: String) {
        rulesets.removeAll { sameName($0, name) }
    }
}
