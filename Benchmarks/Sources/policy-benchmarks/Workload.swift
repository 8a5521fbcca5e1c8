import ContainerPolicyStore
import Foundation

/// What a timed run returned, compared across implementations after the first round.
enum Outcome {
    case tally(Tally)
    /// An exported document; implementations may lay the JSON out differently.
    case document(Data)
}

/// One workload at one store size: the same timed body runs against each implementation.
struct Workload {
    /// The numbering, 1 to 7.
    let number: Int
    let title: String
    /// Policies in the store when the workload starts.
    let storeSize: Int
    /// What the per-operation cost divides by.
    let operations: Int
    let template: StoreTemplate
    /// Runs on a fresh copy of the template, which it changes.
    let writes: Bool
    /// The target for ours/lean: at most this many times the lean raw store's time.
    var leanTarget: Double?
    let body: (any StoreUnderTest) throws -> Outcome

    /// Long enough that one run averages the machine's noise by itself: it writes 10,000
    /// policies or more, or works on a store of 100,000. Their rounds are set apart
    /// (`--large-runs`), so a quick run can give them fewer.
    var isLarge: Bool {
        storeSize >= 100_000 || (writes && operations >= 10_000)
    }
}

/// How much work each workload does.
struct Scale {
    var storeSizes: [Int]
    var creates: Int
    var duplicates: Int
    var modifications: Int
    var lookups: Int
    var interchangeSize: Int
    var memorySize: Int

    static let full = Scale(
        storeSizes: [1_000, 10_000, 100_000], creates: 10_000, duplicates: 1_000, modifications: 1_000,
        lookups: 10_000, interchangeSize: 10_000, memorySize: 100_000)

    /// A few hundred operations: proves that everything builds and runs, in seconds.
    static let smoke = Scale(
        storeSizes: [300], creates: 300, duplicates: 50, modifications: 50, lookups: 300, interchangeSize: 300,
        memorySize: 300)
}

/// The page size of the listings: the library's default page.
let listingPageSize = 100

/// The seven workloads, in order, with their inputs built before any timing.
func makeWorkloads(_ scale: Scale, numbers: Set<Int>, templates: TemplateBuilder) throws -> [Workload] {
    var workloads: [Workload] = []
    if numbers.contains(1) || numbers.contains(2) {
        let template = try templates.rulesetsOnly()
        let policies = (0..<scale.creates).map { Fixture.policy($0, prefix: "created.") }
        if numbers.contains(1) {
            workloads.append(Workload(
                number: 1, title: "create, one transaction each", storeSize: 0, operations: policies.count,
                template: template, writes: true, leanTarget: 1.2
            ) { store in
                var tally = Tally()
                for policy in policies { tally.add(try store.createPolicy(policy)) }
                return .tally(tally)
            })
        }
        if numbers.contains(2) {
            workloads.append(Workload(
                number: 2, title: "create, one transaction (bulk)", storeSize: 0, operations: policies.count,
                template: template, writes: true, leanTarget: 1.3
            ) { store in
                var tally = Tally()
                try store.createPolicies(policies).forEach { tally.add($0) }
                return .tally(tally)
            })
        }
    }
    for size in scale.storeSizes where !numbers.isDisjoint(with: 3...6) {
        let template = try templates.store(policies: size)
        if numbers.contains(3) {
            let copyNames = (0..<scale.duplicates).map { Fixture.policy($0, prefix: "copy.").name }
            workloads.append(Workload(
                number: 3, title: "duplicate (20 rulesets)", storeSize: size, operations: copyNames.count,
                template: template, writes: true, leanTarget: 1.2
            ) { store in
                var tally = Tally()
                for name in copyNames {
                    tally.add(try store.duplicatePolicy(named: Fixture.duplicateSourceName, as: name))
                }
                return .tally(tally)
            })
        }
        if numbers.contains(4) {
            let edits = Fixture.spread(scale.modifications, over: size).map { index in
                (name: Fixture.policyName(index),
                 adding: Fixture.rulesetName(Fixture.unlinkedRuleset(ofPolicy: index)),
                 removing: Fixture.rulesetName(Fixture.linkedRulesets(ofPolicy: index)[0]))
            }
            let revision = template.policyRevision
            workloads.append(Workload(
                number: 4, title: "modify (XDR, +1 ruleset, -1, expected revision)", storeSize: size,
                operations: edits.count, template: template, writes: true, leanTarget: 1.3
            ) { store in
                var tally = Tally()
                for edit in edits {
                    tally.add(try store.modifyPolicy(
                        named: edit.name, expectedRevision: revision, adding: edit.adding, removing: edit.removing))
                }
                return .tally(tally)
            })
        }
        if numbers.contains(5) {
            // A prime stride visits the whole store in an order that defeats locality.
            let names = (0..<scale.lookups).map { Fixture.policyName($0 * 7_919 % size) }
            workloads.append(Workload(
                number: 5, title: "get by name", storeSize: size, operations: names.count, template: template,
                writes: false, leanTarget: 1.2
            ) { store in
                var tally = Tally()
                for name in names {
                    guard let policy = try store.policy(named: name) else { throw BenchmarkFailure("no policy \(name)") }
                    tally.add(policy)
                }
                return .tally(tally)
            })
        }
        if numbers.contains(6) {
            workloads.append(Workload(
                number: 6, title: "list all with ruleset names (pages of \(listingPageSize))", storeSize: size,
                operations: size + 1, template: template, writes: false, leanTarget: 1.3
            ) { store in
                var tally = Tally()
                try store.forEachPolicy(pageSize: listingPageSize) { tally.add($0) }
                return .tally(tally)
            })
        }
    }
    if numbers.contains(7) {
        let source = try templates.store(policies: scale.interchangeSize)
        let document = try PolicyStore(path: source.path).perform(.export())
        workloads.append(Workload(
            number: 7, title: "export the whole store", storeSize: scale.interchangeSize,
            operations: scale.interchangeSize + 1, template: source, writes: false
        ) { store in
            .document(try store.exportDocument())
        })
        workloads.append(Workload(
            number: 7, title: "import it into an empty store", storeSize: 0, operations: scale.interchangeSize + 1,
            template: try templates.empty(), writes: true, leanTarget: 1.3
        ) { store in
            try store.importDocument(document)
            return .tally(Tally())  // Nothing is returned: the runner compares the stores written.
        })
    }
    return workloads
}
