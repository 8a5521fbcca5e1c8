import ContainerPolicyStore

/// Words for plans and findings.
enum SyncText {
    /// The product's name rules, as the store applies them.
    static func nameProblem(_ name: String) -> NameProblem? { NameRules.problem(in: name) }

    static func explain(_ problem: NameProblem) -> String {
        switch problem {
        case .empty:
            return "the name is empty"
        case .tooLong(let length):
            return "the name is \(length) characters long, over the limit of \(NameRules.maximumLength)"
        case .space(let position):
            return "the name contains a space at position \(position)"
        case .disallowedCharacter(let character, let position):
            let scalars = character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }
            return "the name contains \(scalars.joined(separator: " ")) at position \(position), and only ASCII letters, digits, '_' and '.' are allowed"
        }
    }

    static func explain(_ feature: UnsupportedFeature) -> String {
        switch feature {
        case .deploymentRules: return "default.rules (Deployment policies)"
        case .exceptions: return "default.exceptions (Continuous policies)"
        case .namespacedPolicies: return "namespaced (namespaced policy definitions)"
        case .rulesetLabels: return "labels"
        }
    }
}
