import ContainerPolicyStore
import Foundation

/// The data every implementation works on: 100 rulesets of 5 rules; each policy links 5 of
/// them; one policy, the source of the duplicates, links 20.
enum Fixture {
    static let rulesetCount = 100
    static let rulesPerRuleset = 5
    static let rulesetsPerPolicy = 5
    static let duplicateSourceName = "duplicate.source"
    static let duplicateSourceRulesetCount = 20

    static func rulesetName(_ index: Int) -> String { "ruleset." + padded(index, width: 3) }

    static func rules(ofRuleset index: Int) -> [RuleReference] {
        (0..<rulesPerRuleset).map { offset in
            let number = index * rulesPerRuleset + offset + 1
            return RuleReference(id: "TM-" + padded(number, width: 8), mitigation: Mitigation.allCases[number % 3])
        }
    }

    /// The rulesets that policy number `index` links: 5 distinct ones, spread over all 100.
    static func linkedRulesets(ofPolicy index: Int) -> [Int] {
        (0..<rulesetsPerPolicy).map { (index * 7 + $0 * 20) % rulesetCount }
    }

    /// A ruleset that policy number `index` does not link.
    static func unlinkedRuleset(ofPolicy index: Int) -> Int {
        (index * 7 + 10) % rulesetCount
    }

    static func policyName(_ index: Int) -> String { "policy." + padded(index, width: 7) }

    /// Policy number `index` of a store, or of a batch of new policies under another prefix.
    static func policy(_ index: Int, prefix: String = "policy.") -> PolicySpec {
        PolicySpec(
            name: prefix + padded(index, width: 7),
            description: "Policy \(index) of the benchmark",
            rulesets: linkedRulesets(ofPolicy: index).map(rulesetName))
    }

    /// `count` indices spread evenly over a store of `size` policies: every part of the store
    /// is visited, and no page stays hot in the cache.
    static func spread(_ count: Int, over size: Int) -> [Int] {
        (0..<count).map { $0 * size / count }
    }

    private static func padded(_ number: Int, width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// A store file built once with the library, copied for every run that writes, so that the
/// implementations of the library's schema start from the same bytes; and its twin in the lean
/// store's schema with the same rows.
struct StoreTemplate {
    let path: String
    let leanPath: String
    /// Policies in the store, the duplicate source not counted.
    let policyCount: Int
    /// The revision every policy of the store is at.
    let policyRevision: Int

    func path(for implementation: Implementation) -> String {
        implementation.usesLibrarySchema ? path : leanPath
    }
}

/// Builds the store templates in one folder, each once.
final class TemplateBuilder {
    private let directory: URL
    private let synchronous: Synchronous
    private var built: [String: StoreTemplate] = [:]

    init(directory: URL, synchronous: Synchronous) {
        self.directory = directory
        self.synchronous = synchronous
    }

    /// Migrated, nothing in it: what an import starts from.
    func empty() throws -> StoreTemplate {
        try template(named: "empty") { _ in }
    }

    /// The 100 rulesets and no policy: what the create workloads start from.
    func rulesetsOnly() throws -> StoreTemplate {
        try template(named: "rulesets") { tx in try Self.createRulesets(tx) }
    }

    /// The 100 rulesets, `policyCount` policies and the duplicate source.
    func store(policies policyCount: Int) throws -> StoreTemplate {
        try template(named: "store-\(policyCount)", policyCount: policyCount) { tx in
            try Self.createRulesets(tx)
            for index in 0..<policyCount {
                let policy = Fixture.policy(index)
                try tx.createPolicy(named: policy.name, description: policy.description, rulesets: policy.rulesets)
            }
            try tx.createPolicy(
                named: Fixture.duplicateSourceName, description: "The policy the benchmark duplicates",
                rulesets: (0..<Fixture.duplicateSourceRulesetCount).map { Fixture.rulesetName($0 * 5) })
        }
    }

    private func template(
        named name: String, policyCount: Int = 0, _ fill: (borrowing StoreTransaction) throws -> Void
    ) throws -> StoreTemplate {
        if let template = built[name] { return template }
        let path = directory.appendingPathComponent("template-\(name).sqlite").path
        var options = StoreOptions()
        options.synchronous = synchronous == .full ? .full : .normal
        let store = try PolicyStore(path: path, options: options)
        try store.write { tx in try fill(tx) }
        let revision = policyCount > 0 ? try store.perform(.fetch(Policy.self, named: Fixture.policyName(0)))?.revision ?? 0 : 0
        let leanPath = directory.appendingPathComponent("template-\(name)-lean.sqlite").path
        try LeanRawStore.makeTemplate(copying: path, to: leanPath)
        let template = StoreTemplate(path: path, leanPath: leanPath, policyCount: policyCount, policyRevision: revision)
        built[name] = template
        return template
    }

    private static func createRulesets(_ tx: borrowing StoreTransaction) throws {
        for index in 0..<Fixture.rulesetCount {
            try tx.createRuleset(
                named: Fixture.rulesetName(index), description: "Ruleset \(index) of the benchmark",
                rules: Fixture.rules(ofRuleset: index))
        }
    }
}
