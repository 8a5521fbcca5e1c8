/// What the runtime does when a rule matches.
public enum Mitigation: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case log
    case isolate
    case terminate

    public var description: String { rawValue }
}

/// A managed rule a ruleset applies: its ID (`TM-` and 8 digits) and the mitigation.
///
/// ```swift
/// let rule = RuleReference(id: "TM-00000001", mitigation: .terminate)
/// let logged = RuleReference(id: "TM-00000002")   // mitigation .log
/// ```
public struct RuleReference: Sendable, Hashable, Codable {
    public var id: String
    public var mitigation: Mitigation

    public init(id: String, mitigation: Mitigation = .log) {
        self.id = id
        self.mitigation = mitigation
    }

    /// True when `id` is `TM-` followed by exactly 8 ASCII digits.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return bytes.count == 11 && bytes.starts(with: Array("TM-".utf8))
            && bytes[3...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

/// Why a rule reference was refused.
public enum RuleProblem: Sendable, Hashable {
    /// The ID is not `TM-` followed by 8 digits.
    case malformedID
    /// The same rule ID appears twice in one ruleset.
    case duplicate
}

/// A part of the product's policy model that Amazon ECS policies do not have.
public enum UnsupportedFeature: String, Sendable, Hashable, CaseIterable {
    /// Deployment policies (`default.rules` in the product's API).
    case deploymentRules
    /// Continuous policies and exceptions (`default.exceptions`).
    case exceptions
    /// Namespaced policy definitions (`namespaced`).
    case namespacedPolicies
    /// Ruleset labels, which select Kubernetes pods only.
    case rulesetLabels
}
