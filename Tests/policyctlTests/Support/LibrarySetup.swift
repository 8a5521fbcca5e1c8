import ContainerPolicyStore
import Foundation

extension Workspace {
    /// The sample database of `makeSampleDatabase()`, built with the library in this process:
    /// for tests with many cases, so that their setup does not start three processes a case
    /// (the test run's threads wait on every process a test starts).
    func makeSampleDatabaseWithTheLibrary(actor: String = "") throws {
        var options = StoreOptions()
        options.actor = actor
        let store = try PolicyStore(path: database.path, options: options)
        try store.write { tx in
            try tx.createRuleset(named: "base", description: "Base rules", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
            try tx.createRuleset(named: "spare")
            try tx.createPolicy(named: "web", description: "Front end", rulesets: ["base"])
        }
    }

    /// Runs `body` on the workspace's database opened with `actor` as the history's actor.
    func withStore<T>(actor: String, _ body: (PolicyStore) throws -> T) throws -> T {
        var options = StoreOptions()
        options.createIfMissing = false
        options.actor = actor
        return try body(PolicyStore(path: database.path, options: options))
    }
}
