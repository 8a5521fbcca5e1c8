import ContainerPolicyStore

/// A rule as an operation line carries it.
struct RuleSpec: Codable, Hashable, Sendable {
    var id: String
    var mitigation: String
}

/// A ruleset's whole editable state.
struct RulesetSpec: Codable, Hashable, Sendable {
    var name: String
    var description: String
    var rules: [RuleSpec]
}

/// A policy's whole editable state.
struct PolicySpec: Codable, Hashable, Sendable {
    var name: String
    var description: String
    var xdr: Bool
    var rulesets: [String]
}

/// One write of the crash workload, printed as JSON on its `begin` line so that the test can
/// replay it on its own model of the store.
indirect enum StressOperation: Codable, Hashable, Sendable {
    case createRuleset(RulesetSpec)
    case createPolicy(PolicySpec)
    /// `explicitName` false: the library's default name (`<source>Policy`), which is `copy`.
    case duplicatePolicy(source: String, copy: String, explicitName: Bool)
    /// Sets the policy's description, XDR switch and rulesets to the spec's.
    case modifyPolicy(PolicySpec)
    case modifyRuleset(RulesetSpec)
    case deletePolicy(String)
    case deleteRuleset(String)
    /// One `importDocument` (no prune): creates or modifies every entry, keyed by name.
    case importDocument(rulesets: [RulesetSpec], policies: [PolicySpec])
    /// Several operations in one `write { tx in ... }`.
    case batch([StressOperation])

    var kind: String {
        switch self {
        case .createRuleset: "createRuleset"
        case .createPolicy: "createPolicy"
        case .duplicatePolicy: "duplicatePolicy"
        case .modifyPolicy: "modifyPolicy"
        case .modifyRuleset: "modifyRuleset"
        case .deletePolicy: "deletePolicy"
        case .deleteRuleset: "deleteRuleset"
        case .importDocument: "importDocument"
        case .batch: "batch"
        }
    }
}

/// What the store should hold: every ruleset and policy with its editable state. Built from
/// an export, or by applying operations; two models are equal when the stores they describe
/// hold the same things.
struct StoreModel: Hashable, Sendable {
    struct RulesetState: Hashable, Sendable {
        var description: String
        /// Rule ID to mitigation.
        var rules: [String: String]
    }

    struct PolicyState: Hashable, Sendable {
        var description: String
        var xdr: Bool
        var rulesets: Set<String>
    }

    var rulesets: [String: RulesetState] = [:]
    var policies: [String: PolicyState] = [:]

    init() {}

    init(_ document: PolicyDocument) {
        for ruleset in document.rulesets {
            rulesets[ruleset.name] = RulesetState(
                description: ruleset.description,
                rules: Dictionary(uniqueKeysWithValues: ruleset.rules.map { ($0.id, $0.mitigation.rawValue) }))
        }
        for policy in document.policies {
            policies[policy.name] = PolicyState(
                description: policy.description, xdr: policy.xdrEnabled, rulesets: Set(policy.rulesets))
        }
    }

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Applies an operation as the library should, or throws when the library should refuse
    /// it (the workload never generates such an operation).
    mutating func apply(_ operation: StressOperation) throws(Refusal) {
        switch operation {
        case .createRuleset(let spec):
            try requireFree(spec.name, in: rulesets.keys)
            rulesets[spec.name] = Self.state(spec)
        case .createPolicy(let spec):
            try requireFree(spec.name, in: policies.keys)
            try requireRulesets(spec.rulesets)
            policies[spec.name] = PolicyState(description: spec.description, xdr: spec.xdr, rulesets: Set(spec.rulesets))
        case .duplicatePolicy(let source, let copy, _):
            guard let state = policies[source] else { throw Refusal(description: "no policy \(source)") }
            try requireFree(copy, in: policies.keys)
            policies[copy] = state
        case .modifyPolicy(let spec):
            guard policies[spec.name] != nil else { throw Refusal(description: "no policy \(spec.name)") }
            try requireRulesets(spec.rulesets)
            policies[spec.name] = PolicyState(description: spec.description, xdr: spec.xdr, rulesets: Set(spec.rulesets))
        case .modifyRuleset(let spec):
            guard rulesets[spec.name] != nil else { throw Refusal(description: "no ruleset \(spec.name)") }
            rulesets[spec.name] = Self.state(spec)
        case .deletePolicy(let name):
            guard policies.removeValue(forKey: name) != nil else { throw Refusal(description: "no policy \(name)") }
        case .deleteRuleset(let name):
            guard rulesets[name] != nil else { throw Refusal(description: "no ruleset \(name)") }
            if let user = policies.first(where: { $0.value.rulesets.contains(name) }) {
                throw Refusal(description: "ruleset \(name) is used by \(user.key)")
            }
            rulesets[name] = nil
        case .importDocument(let rulesetSpecs, let policySpecs):
            for spec in rulesetSpecs { rulesets[spec.name] = Self.state(spec) }
            for spec in policySpecs {
                try requireRulesets(spec.rulesets)
                policies[spec.name] = PolicyState(description: spec.description, xdr: spec.xdr, rulesets: Set(spec.rulesets))
            }
        case .batch(let operations):
            for operation in operations { try apply(operation) }
        }
    }

    private static func state(_ spec: RulesetSpec) -> RulesetState {
        RulesetState(description: spec.description, rules: Dictionary(uniqueKeysWithValues: spec.rules.map { ($0.id, $0.mitigation) }))
    }

    private func requireFree(_ name: String, in names: Dictionary<String, some Any>.Keys) throws(Refusal) {
        let folded = name.lowercased()
        if names.contains(where: { $0.lowercased() == folded }) { throw Refusal(description: "\(name) is taken") }
    }

    private func requireRulesets(_ names: [String]) throws(Refusal) {
        for name in names where rulesets[name] == nil { throw Refusal(description: "no ruleset \(name)") }
    }

    /// What differs between two models, for messages; empty when they are equal.
    func differences(from other: StoreModel, limit: Int = 10) -> [String] {
        var found: [String] = []
        for name in Set(rulesets.keys).union(other.rulesets.keys).sorted() where rulesets[name] != other.rulesets[name] {
            found.append("ruleset \(name): \(rulesets[name].map { "\($0)" } ?? "absent") vs \(other.rulesets[name].map { "\($0)" } ?? "absent")")
        }
        for name in Set(policies.keys).union(other.policies.keys).sorted() where policies[name] != other.policies[name] {
            let mine = policies[name].map { "\($0.rulesets.count) rulesets, xdr \($0.xdr), \($0.description.debugDescription.prefix(40))" } ?? "absent"
            let theirs = other.policies[name].map { "\($0.rulesets.count) rulesets, xdr \($0.xdr), \($0.description.debugDescription.prefix(40))" } ?? "absent"
            found.append("policy \(name): \(mine) vs \(theirs)")
        }
        return Array(found.prefix(limit))
    }
}
