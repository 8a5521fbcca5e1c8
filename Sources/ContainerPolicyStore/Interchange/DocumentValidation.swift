extension PolicyDocument {
    /// Every way the document breaks the product's rules on its own, before any store is
    /// consulted: names, descriptions, rule IDs, repeats. Each problem has its JSON path.
    public func validationProblems() -> [DocumentProblem] {
        var problems: [DocumentProblem] = []
        let isValidName = { (name: String) in NameRules.problem(in: name) == nil }
        func check(name: String, at path: String) {
            if let problem = NameRules.problem(in: name) {
                problems.append(DocumentProblem(path: path, message: problem.explanation))
            }
        }
        func check(description: String, at path: String) {
            if let problem = DescriptionRules.problem(in: description) {
                problems.append(DocumentProblem(path: path, message: problem.explanation))
            }
        }
        /// Remembers each valid value's first place, so a repeat is reported where it stands.
        /// An invalid value has its own problem already.
        struct FirstPlaces {
            var places: [String: Int] = [:]
            mutating func repeated(_ value: String, at index: Int) -> Int? {
                let key = asciiLowercased(value)
                if let first = places[key] { return first }
                places[key] = index
                return nil
            }
        }
        var rulesetPlaces = FirstPlaces()
        var policyPlaces = FirstPlaces()

        for (index, ruleset) in rulesets.enumerated() {
            let path = "rulesets[\(index)]"
            check(name: ruleset.name, at: path + ".name")
            if isValidName(ruleset.name), let first = rulesetPlaces.repeated(ruleset.name, at: index) {
                problems.append(DocumentProblem(
                    path: path + ".name",
                    message: "the ruleset \(quoted(ruleset.name)) is already listed at rulesets[\(first)].name (names are unique ignoring letter case); list it once"))
            }
            check(description: ruleset.description, at: path + ".description")
            for (ruleIndex, rule) in ruleset.rules.enumerated() where !RuleReference.isValidID(rule.id) {
                problems.append(DocumentProblem(
                    path: "\(path).rules[\(ruleIndex)].id",
                    message: "\(quoted(rule.id)) is not a managed rule ID: write TM- followed by 8 digits, like TM-00000001"))
            }
            var rulePlaces = FirstPlaces()
            for (ruleIndex, rule) in ruleset.rules.enumerated() where RuleReference.isValidID(rule.id) {
                if let first = rulePlaces.repeated(rule.id, at: ruleIndex) {
                    problems.append(DocumentProblem(
                        path: "\(path).rules[\(ruleIndex)].id",
                        message: "the rule \(quoted(rule.id)) is already listed at \(path).rules[\(first)].id; list it once"))
                }
            }
        }
        for (index, policy) in policies.enumerated() {
            let path = "policies[\(index)]"
            check(name: policy.name, at: path + ".name")
            if isValidName(policy.name), let first = policyPlaces.repeated(policy.name, at: index) {
                problems.append(DocumentProblem(
                    path: path + ".name",
                    message: "the policy \(quoted(policy.name)) is already listed at policies[\(first)].name (names are unique ignoring letter case); list it once"))
            }
            check(description: policy.description, at: path + ".description")
            for (rulesetIndex, name) in policy.rulesets.enumerated() {
                check(name: name, at: "\(path).runtime.rulesets[\(rulesetIndex)].name")
            }
        }
        return problems
    }
}
