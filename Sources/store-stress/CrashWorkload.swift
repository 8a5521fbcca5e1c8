import ContainerPolicyStore
import Foundation

/// `store-stress crash --db PATH --tag T --seed N [--ops N] [--journal ...] [--unsafe-duplicate]`
///
/// A stream of writes on a real file, for a test that kills the process with SIGKILL at
/// random moments. Each operation is printed as `begin <seq> <json>` before it starts and
/// `ack <seq> <µs>` once the library has returned from it (committed), each line written straight
/// to the pipe. After a kill, every acknowledged operation must be in the file and the one
/// in flight wholly there or wholly absent.
///
/// `--unsafe-duplicate` makes duplicates in two transactions with a pause between them: a
/// deliberately broken workload, so the test can show that it catches a half-made duplicate.
enum CrashWorkload {
    static func run(_ arguments: Arguments) throws -> Int32 {
        let path = try arguments.string("db")
        let tag = try arguments.string("tag")
        var random = SeededRandom(seed: UInt64(try arguments.int("seed", default: 1)))
        let limit = try arguments.int("ops", default: 1_000_000)
        let unsafeDuplicate = arguments.has("unsafe-duplicate")
        let store = try StressStore.open(path: path, options: StressStore.options(arguments))
        var model = StoreModel(try store.perform(.exportDocument()))
        Output.line("ready \(model.rulesets.count) \(model.policies.count)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var generator = Generator(tag: tag)
        for sequence in 0..<limit {
            let operation = generator.next(model, &random)
            let json = String(decoding: try encoder.encode(operation), as: UTF8.self)
            Output.line("begin \(sequence) \(json)")
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                try execute(operation, on: store, unsafeDuplicate: unsafeDuplicate)
            } catch {
                Output.line("fail \(sequence) \(String(describing: error).replacingOccurrences(of: "\n", with: " "))")
                return 2
            }
            do {
                try model.apply(operation)
            } catch {
                Output.line("fail \(sequence) the workload's own model refused it: \(error)")
                return 2
            }
            // The time the library took, so the test can aim its kills inside operations.
            Output.line("ack \(sequence) \((DispatchTime.now().uptimeNanoseconds - started) / 1_000)")
        }
        Output.line("done")
        return 0
    }

    /// Runs one operation through the library's public API, each as its own transaction
    /// (a batch as one `write`).
    static func execute(_ operation: StressOperation, on store: PolicyStore, unsafeDuplicate: Bool = false) throws {
        switch operation {
        case .createRuleset(let spec):
            try store.perform(.createRuleset(named: spec.name, description: spec.description, rules: rules(spec.rules)))
        case .createPolicy(let spec):
            try store.perform(.createPolicy(named: spec.name, description: spec.description, xdrEnabled: spec.xdr, rulesets: spec.rulesets))
        case .duplicatePolicy(let source, let copy, let explicitName):
            if unsafeDuplicate {
                // Deliberately wrong: the copy exists for a while without its links.
                guard let original = try store.perform(.fetch(Policy.self, named: source)) else { throw PolicyStoreError.notFound(.policy, name: source) }
                try store.perform(.createPolicy(named: copy, description: original.description, xdrEnabled: original.xdrEnabled))
                usleep(40_000)
                try store.perform(.modify(Policy.self, named: copy) { $0.rulesets = original.rulesets })
                return
            }
            let made = try store.perform(.duplicate(Policy.self, named: source, as: explicitName ? copy : nil))
            guard made.name == copy else { throw WorkloadError("the copy of \(source) is named \(made.name), not \(copy)") }
        case .modifyPolicy(let spec):
            // Read, then modify with the revision read: the optimistic path a tool would take.
            guard let current = try store.perform(.fetch(Policy.self, named: spec.name)) else { throw PolicyStoreError.notFound(.policy, name: spec.name) }
            try store.perform(.modify(Policy.self, named: spec.name, expectedRevision: current.revision) {
                $0.description = spec.description
                $0.xdrEnabled = spec.xdr
                $0.rulesets = spec.rulesets
            })
        case .modifyRuleset(let spec):
            guard let current = try store.perform(.fetch(Ruleset.self, named: spec.name)) else { throw PolicyStoreError.notFound(.ruleset, name: spec.name) }
            try store.perform(.modify(Ruleset.self, named: spec.name, expectedRevision: current.revision) {
                $0.description = spec.description
                $0.rules = rules(spec.rules)
            })
        case .deletePolicy(let name):
            try store.perform(.delete(Policy.self, named: name))
        case .deleteRuleset(let name):
            try store.perform(.delete(Ruleset.self, named: name))
        case .importDocument(let rulesets, let policies):
            try store.perform(.importDocument(document(rulesets: rulesets, policies: policies)))
        case .batch(let operations):
            try store.write { tx in
                for operation in operations { try execute(operation, in: tx) }
            }
        }
    }

    /// The same operations inside a transaction of the caller's.
    static func execute(_ operation: StressOperation, in tx: borrowing StoreTransaction) throws {
        switch operation {
        case .createRuleset(let spec):
            try tx.createRuleset(named: spec.name, description: spec.description, rules: rules(spec.rules))
        case .createPolicy(let spec):
            try tx.createPolicy(named: spec.name, description: spec.description, xdrEnabled: spec.xdr, rulesets: spec.rulesets)
        case .duplicatePolicy(let source, let copy, let explicitName):
            try tx.duplicate(Policy.self, named: source, as: explicitName ? copy : nil)
        case .modifyPolicy(let spec):
            try tx.modify(Policy.self, named: spec.name) {
                $0.description = spec.description
                $0.xdrEnabled = spec.xdr
                $0.rulesets = spec.rulesets
            }
        case .modifyRuleset(let spec):
            try tx.modify(Ruleset.self, named: spec.name) {
                $0.description = spec.description
                $0.rules = rules(spec.rules)
            }
        case .deletePolicy(let name):
            try tx.delete(Policy.self, named: name)
        case .deleteRuleset(let name):
            try tx.delete(Ruleset.self, named: name)
        case .importDocument(let rulesets, let policies):
            _ = try tx.importDocument(document(rulesets: rulesets, policies: policies))
        case .batch(let operations):
            for operation in operations { try execute(operation, in: tx) }
        }
    }

    static func rules(_ specs: [RuleSpec]) -> [RuleReference] {
        specs.map { RuleReference(id: $0.id, mitigation: Mitigation(rawValue: $0.mitigation) ?? .log) }
    }

    static func document(rulesets: [RulesetSpec], policies: [PolicySpec]) -> PolicyDocument {
        PolicyDocument(
            rulesets: rulesets.map { .init(name: $0.name, description: $0.description, rules: rules($0.rules)) },
            policies: policies.map { .init(name: $0.name, description: $0.description, xdrEnabled: $0.xdr, rulesets: $0.rulesets) })
    }

    /// Chooses each next operation from what the store holds, so every operation is one the
    /// library must accept. Names carry the run's tag and the sequence number, so runs on one
    /// file never collide.
    struct Generator {
        let tag: String
        private var counter = 0

        init(tag: String) { self.tag = tag }

        private mutating func fresh(_ prefix: String) -> String {
            counter += 1
            return "\(prefix)\(tag)_\(counter)"
        }

        mutating func next(_ model: StoreModel, _ random: inout SeededRandom) -> StressOperation {
            // Enough rulesets first, so policies can link many of them.
            if model.rulesets.count < 60 {
                let rulesets = (0..<60).map { _ in rulesetSpec(fresh("s"), &random) }
                return .importDocument(rulesets: rulesets, policies: [])
            }
            let policies = model.policies.keys.sorted()
            let rulesetNames = model.rulesets.keys.sorted()
            let bigPolicies = policies.filter { model.policies[$0]!.rulesets.count >= 30 }
            // Keep the file from growing without end across thousands of runs.
            if model.policies.count > 100, let victim = policies.randomElement(using: &random) {
                return .deletePolicy(victim)
            }
            if model.rulesets.count > 150 {
                let used = Set(model.policies.values.flatMap(\.rulesets))
                if let unused = rulesetNames.filter({ !used.contains($0) }).randomElement(using: &random) {
                    return .deleteRuleset(unused)
                }
            }
            switch random.int(0...99) {
            case 0..<8:
                return .createRuleset(rulesetSpec(fresh("r"), &random))
            case 8..<18:
                return .createPolicy(policySpec(fresh("p"), rulesetNames, count: random.int(0...6), &random))
            case 18..<24:
                // A policy with many rulesets, for duplicates that write many links.
                return .createPolicy(policySpec(fresh("b"), rulesetNames, count: random.int(30...60), &random))
            case 24..<46:
                guard let source = (random.chance(0.7) && !bigPolicies.isEmpty ? bigPolicies : policies).randomElement(using: &random)
                else { return .createPolicy(policySpec(fresh("p"), rulesetNames, count: 3, &random)) }
                let defaultName = source + "Policy"
                if random.chance(0.3), defaultName.utf8.count <= NameRules.maximumLength,
                   !policies.contains(where: { $0.lowercased() == defaultName.lowercased() }) {
                    return .duplicatePolicy(source: source, copy: defaultName, explicitName: false)
                }
                return .duplicatePolicy(source: source, copy: fresh("d"), explicitName: true)
            case 46..<64:
                guard let name = policies.randomElement(using: &random) else { break }
                let current = model.policies[name]!
                var linked = current.rulesets
                for _ in 0..<random.int(0...4) {
                    if random.chance(0.5), let gone = linked.randomElement(using: &random) { linked.remove(gone) }
                    else { linked.insert(random.element(rulesetNames)) }
                }
                return .modifyPolicy(PolicySpec(
                    name: name, description: description(&random), xdr: random.chance(0.5) ? !current.xdr : current.xdr,
                    rulesets: linked.sorted()))
            case 64..<72:
                let name = random.element(rulesetNames)
                return .modifyRuleset(rulesetSpec(name, &random))
            case 72..<78:
                guard let name = policies.randomElement(using: &random) else { break }
                return .deletePolicy(name)
            case 78..<90:
                let newRulesets = (0..<random.int(2...10)).map { _ in rulesetSpec(fresh("i"), &random) }
                let available = rulesetNames + newRulesets.map(\.name)
                var entries = (0..<random.int(2...10)).map { _ in
                    policySpec(fresh("q"), available, count: random.int(0...40), &random)
                }
                for name in policies.shuffled(using: &random).prefix(random.int(0...3)) {
                    entries.append(policySpec(name, available, count: random.int(0...8), &random))
                }
                return .importDocument(rulesets: newRulesets, policies: entries)
            default:
                // Several operations in one transaction: a ruleset, a policy that links it,
                // and a copy of that policy.
                let ruleset = rulesetSpec(fresh("r"), &random)
                var policy = policySpec(fresh("p"), rulesetNames, count: random.int(0...20), &random)
                policy.rulesets.append(ruleset.name)
                return .batch([
                    .createRuleset(ruleset), .createPolicy(policy),
                    .duplicatePolicy(source: policy.name, copy: fresh("d"), explicitName: true),
                ])
            }
            return .createRuleset(rulesetSpec(fresh("r"), &random))
        }

        func rulesetSpec(_ name: String, _ random: inout SeededRandom) -> RulesetSpec {
            var ids = Set<String>()
            for _ in 0..<random.int(0...8) {
                ids.insert("TM-" + String(format: "%08d", random.int(1...99_999_999)))
            }
            return RulesetSpec(
                name: name, description: description(&random),
                rules: ids.sorted().map { RuleSpec(id: $0, mitigation: random.element(["log", "isolate", "terminate"])) })
        }

        func policySpec(_ name: String, _ rulesets: [String], count: Int, _ random: inout SeededRandom) -> PolicySpec {
            PolicySpec(
                name: name, description: description(&random), xdr: random.chance(0.7),
                rulesets: Array(Set((0..<min(count, rulesets.count)).map { _ in random.element(rulesets) })).sorted())
        }

        /// Descriptions the history's triggers must escape (quotes, backslashes, line
        /// breaks, tabs) and non-ASCII text, now and then up to the 1,000-character limit.
        func description(_ random: inout SeededRandom) -> String {
            let pieces = ["web", " ", "front end", "\"quoted\"", "back\\slash", "line\nbreak", "tab\there", "\r\n",
                          "é", "e\u{301}", "日本", "😀", "Ω", "'; DROP TABLE policies; --", "{\"json\": [1]}", "%_*?"]
            switch random.int(0...9) {
            case 0: return ""
            case 1: return String(repeating: random.element(["a", "é", "😀"]), count: DescriptionRules.maximumLength)
            default: return (0..<random.int(1...12)).map { _ in random.element(pieces) }.joined()
            }
        }
    }
}

struct WorkloadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
