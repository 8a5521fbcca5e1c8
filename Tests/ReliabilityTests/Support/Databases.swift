import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import store_stress

/// Builds databases for the hostile-file tests.
enum Databases {
    /// A good policy database with a few objects, closed, so the file stands alone (a WAL file
    /// is checkpointed and removed when its last connection closes).
    static func good(_ path: String, journal: StoreOptions.JournalMode = .wal) throws {
        var options = StoreOptions()
        options.journalMode = journal
        let store = try PolicyStore(path: path, options: options)
        try store.perform(.createRuleset(named: "baseline", description: "every cluster", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createPolicy(named: "web.prod", description: "front end", rulesets: ["baseline"]))
        try store.perform(.duplicate(Policy.self, named: "web.prod"))
    }

    /// The rows of every table, read with the sqlite3 shell: equal before and after means
    /// nothing was written. The shell opens the file for writing, so that, as the last
    /// connection, it removes the -wal and -shm files when it closes (a read-only connection
    /// would leave them behind).
    static func rows(_ path: String) throws -> String {
        try shell(path, """
            SELECT * FROM policies ORDER BY id; SELECT * FROM rulesets ORDER BY id; SELECT * FROM ruleset_rules;
            SELECT * FROM policy_rulesets; SELECT count(*), max(sequence) FROM changes;
            """).output
    }
}

extension PolicyStoreError {
    /// The catch-all case: SQLite's own words, no advice.
    var isUntypedSQLiteError: Bool {
        if case .sqlite = self { return true }
        return false
    }
}

/// The outcome of a `store-stress probe` run: one step per line.
func probe(_ path: String, _ actions: [String], options: [String] = [], asUnprivilegedUser: Bool = false) throws -> [String: ProbeStep] {
    let result = try Subprocess.run(
        try Binaries.storeStress, ["probe", "--db", path] + options + actions, asUnprivilegedUser: asUnprivilegedUser)
    var steps: [String: ProbeStep] = [:]
    for line in result.output.split(separator: "\n") {
        if let step = try? JSONDecoder().decode(ProbeStep.self, from: Data(line.utf8)) { steps[step.action] = step }
    }
    if steps.isEmpty { Issue.record("probe printed nothing: \(result.ending) \(result.error)") }
    return steps
}
