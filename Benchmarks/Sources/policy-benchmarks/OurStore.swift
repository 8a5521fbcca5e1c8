import ContainerPolicyStore
import Foundation

/// ContainerPolicyStore used as a library user would: its public API only.
final class OurStore: StoreUnderTest {
    private let store: PolicyStore

    init(path: String, synchronous: Synchronous) throws {
        var options = StoreOptions()
        options.journalMode = .wal
        options.synchronous = synchronous == .full ? .full : .normal
        options.createIfMissing = false
        store = try PolicyStore(path: path, options: options)
    }

    func createPolicy(_ policy: PolicySpec) throws -> Policy {
        try store.perform(.createPolicy(
            named: policy.name, description: policy.description, xdrEnabled: policy.xdrEnabled, rulesets: policy.rulesets))
    }

    func createPolicies(_ policies: [PolicySpec]) throws -> [Policy] {
        try store.write { tx in
            try policies.map {
                try tx.createPolicy(named: $0.name, description: $0.description, xdrEnabled: $0.xdrEnabled, rulesets: $0.rulesets)
            }
        }
    }

    func duplicatePolicy(named name: String, as copyName: String) throws -> Policy {
        try store.perform(.duplicate(Policy.self, named: name, as: copyName))
    }

    func modifyPolicy(named name: String, expectedRevision: Int, adding: String, removing: String) throws -> Policy {
        try store.perform(.modify(Policy.self, named: name, expectedRevision: expectedRevision) { policy in
            policy.xdrEnabled.toggle()
            policy.addRuleset(adding)
            policy.removeRuleset(removing)
        })
    }

    func policy(named name: String) throws -> Policy? {
        try store.perform(.fetch(Policy.self, named: name))
    }

    func forEachPolicy(pageSize: Int, _ body: (Policy) -> Void) throws {
        var page = try store.perform(.list(Policy.self, limit: pageSize))
        while let last = page.last {
            page.forEach(body)
            page = try store.perform(.list(Policy.self, after: last.name, limit: pageSize))
        }
    }

    func exportDocument() throws -> Data {
        try store.perform(.export())
    }

    func exportDocument(to file: URL) throws {
        try store.perform(.export(to: file))
    }

    func importDocument(_ json: Data) throws {
        try store.perform(.importDocument(PolicyDocument(json: json)))
    }
}
