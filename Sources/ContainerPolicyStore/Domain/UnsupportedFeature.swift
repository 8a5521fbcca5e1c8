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
