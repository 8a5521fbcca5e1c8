/// How a change reads in a plan, a history listing or a message, the same everywhere: the
/// fields that change (a switch with its new value), then the links and rules added (+),
/// removed (-) and given another mitigation (~). `no change` when nothing does.
///
/// ```swift
/// print(PolicyContent().changes(to: PolicyContent(xdrEnabled: false, rulesets: ["strict"])))   // xdrEnabled off, rulesets +strict
/// ```
extension PolicyChanges: CustomStringConvertible {
    public var description: String {
        var parts = fieldParts(fields)
        let links = addedRulesets.map { "+" + $0 } + removedRulesets.map { "-" + $0 }
        if !links.isEmpty { parts.append("rulesets " + links.joined(separator: " ")) }
        return parts.isEmpty ? "no change" : parts.joined(separator: ", ")
    }
}

extension RulesetChanges: CustomStringConvertible {
    public var description: String {
        var parts = fieldParts(fields)
        let rules = addedRules.map { "+\($0.id):\($0.mitigation)" } + removedRules.map { "-" + $0 }
            + remitigatedRules.map { "~\($0.id):\($0.mitigation)" }
        if !rules.isEmpty { parts.append("rules " + rules.joined(separator: " ")) }
        return parts.isEmpty ? "no change" : parts.joined(separator: ", ")
    }
}

extension ContentChanges: CustomStringConvertible {
    public var description: String {
        switch self {
        case .policy(let changes): return changes.description
        case .ruleset(let changes): return changes.description
        }
    }
}

/// A text field is only named (its value may be long); a switch shows its new value.
private func fieldParts<Field>(_ fields: [FieldChange<Field>]) -> [String] where Field: RawRepresentable, Field.RawValue == String {
    fields.map { change in
        if case .flag = change.to { return "\(change.field.rawValue) \(change.to)" }
        return change.field.rawValue
    }
}
