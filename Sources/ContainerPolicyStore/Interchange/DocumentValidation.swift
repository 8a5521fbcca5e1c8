extension PolicyDocument {
    /// Every way the document breaks the product's rules on its own, before any store is
    /// consulted: names, descriptions, rule IDs, repeats. Each problem has its JSON path.
    public func validationProblems() -> [DocumentProblem] {
        var problems: [DocumentProblem] = []
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
        func check(name: String, at path: String) {
            if let problem = NameRules.problem(in: name) {
                problems.append(DocumentProblem(path: path, offendingText: name, message: problem.explanation))
            }
        }
        /// Checks a name, and that no earlier entry of `list` has it, ignoring letter case.
        func check(_ kind: ObjectKind, name: String, list: String, index: Int, places: inout FirstPlaces) {
            let path = "\(list)[\(index)].name"
            check(name: name, at: path)
            if NameRules.problem(in: name) == nil, let first = places.repeated(name, at: index) {
                problems.append(DocumentProblem(
                    path: path, offendingText: name,
                    message: "the \(kind) is already listed at \(list)[\(first)].name (names are unique ignoring letter case); list it once"))
            }
        }
        func check<Content: ObjectContent>(_ content: Content, at path: String) {
            for field in Content.Field.allCases {
                if let problem = Content.problem(of: content[field], for: field) {
                    problems.append(DocumentProblem(path: "\(path).\(field.rawValue)", offending: content[field].json, message: problem))
                }
            }
        }
        var rulesetPlaces = FirstPlaces()
        var policyPlaces = FirstPlaces()

        for (index, ruleset) in rulesets.enumerated() {
            let path = "rulesets[\(index)]"
            check(.ruleset, name: ruleset.name, list: "rulesets", index: index, places: &rulesetPlaces)
            check(ruleset.content, at: path)
            for (ruleIndex, rule) in ruleset.rules.enumerated() where !RuleReference.isValidID(rule.id) {
                problems.append(DocumentProblem(
                    path: "\(path).rules[\(ruleIndex)].id", offendingText: rule.id,
                    message: "is not a managed rule ID: write TM- followed by 8 digits, like TM-00000001"))
            }
            var rulePlaces = FirstPlaces()
            for (ruleIndex, rule) in ruleset.rules.enumerated() where RuleReference.isValidID(rule.id) {
                if let first = rulePlaces.repeated(rule.id, at: ruleIndex) {
                    problems.append(DocumentProblem(
                        path: "\(path).rules[\(ruleIndex)].id", offendingText: rule.id,
                        message: "the rule is already listed at \(path).rules[\(first)].id; list it once"))
                }
            }
        }
        for (index, policy) in policies.enumerated() {
            let path = "policies[\(index)]"
            check(.policy, name: policy.name, list: "policies", index: index, places: &policyPlaces)
            check(policy.content, at: path)
            for (rulesetIndex, name) in policy.rulesets.enumerated() {
                check(name: name, at: "\(path).runtime.rulesets[\(rulesetIndex)].name")
            }
        }
        return problems
    }
}
