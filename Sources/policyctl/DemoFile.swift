import ArgumentParser
import ContainerPolicyStore
import Foundation

/// Where `demo` builds its database, and the rule that keeps it from destroying anything:
/// only an earlier demo database is ever replaced.
enum DemoFile {
    static let name = "policyctl-demo.sqlite"
    /// What SQLite keeps beside a database: the write-ahead log, its index, the rollback
    /// journal. They belong to the database and go with it.
    static let sidecars = ["-wal", "-shm", "-journal"].map { name + $0 }

    /// Makes way for a new demo database in the current directory and returns whether an
    /// earlier one was removed. Anything else at that path is refused and left untouched.
    static func makeWay(demoPolicies: Set<String>, demoRulesets: Set<String>) throws(ExitCode) -> Bool {
        let files = FileManager.default
        guard files.fileExists(atPath: name) else {
            if let orphan = sidecars.first(where: { files.fileExists(atPath: $0) }) {
                throw refuse("""
                    found \(orphan) but no \(name); a new database would take it for its own: \
                    move it away (or delete it if you do not need it), then run demo again
                    """)
            }
            return false
        }
        try checkIsEarlierDemo(demoPolicies: demoPolicies, demoRulesets: demoRulesets)
        for file in [name] + sidecars where files.fileExists(atPath: file) {
            do {
                try files.removeItem(atPath: file)
            } catch {
                throw refuse("cannot remove the earlier demo file \(file): \(error.localizedDescription)")
            }
        }
        return true
    }

    /// Refuses unless the file opens as a policy store and holds only objects the demo makes.
    private static func checkIsEarlierDemo(demoPolicies: Set<String>, demoRulesets: Set<String>) throws(ExitCode) {
        let advice = "move or rename it, or run demo in another directory"
        var options = StoreOptions()
        options.createIfMissing = false
        let store: PolicyStore
        do {
            store = try PolicyStore(path: name, options: options)
        } catch {
            throw refuse("\(name) exists and is not an earlier demo database, so demo leaves it alone (\(error)); \(advice)")
        }
        let stranger = try exitOnRefusal { () -> (kind: ObjectKind, name: String)? in
            if let policy = try firstName(notIn: demoPolicies, name: \Policy.name, nextPage: { try store.perform(.policies(after: $0, limit: $1)) }) {
                return (.policy, policy)
            }
            return try firstName(notIn: demoRulesets, name: \Ruleset.name, nextPage: { try store.perform(.rulesets(after: $0, limit: $1)) }).map { (.ruleset, $0) }
        }
        if let stranger {
            throw refuse("""
                \(name) holds the \(stranger.kind) \(stranger.name), which the demo does not make, \
                so demo leaves the file alone: \(advice)
                """)
        }
    }

    /// The first name in the listing that is not in `expected`.
    private static func firstName<Object>(
        notIn expected: Set<String>, name: (Object) -> String,
        nextPage: (_ after: String?, _ limit: Int) throws -> [Object]
    ) throws -> String? {
        var stranger: String?
        try forEachPage(name: name, nextPage: nextPage) { page in
            stranger = page.lazy.map(name).first { !expected.contains($0) }
            return stranger == nil
        }
        return stranger
    }
}
