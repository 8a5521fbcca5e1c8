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
    /// earlier one was removed. A file there is removed only when it holds what `build`
    /// makes (the demo's steps) and nothing else; anything else is refused and left byte for
    /// byte.
    static func makeWay(build: (PolicyStore) throws -> Void) throws(ExitCode) -> Bool {
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
        try checkIsEarlierDemo(build: build)
        for file in [name] + sidecars where files.fileExists(atPath: file) {
            do {
                try files.removeItem(atPath: file)
            } catch {
                throw refuse("cannot remove the earlier demo file \(file): \(error.localizedDescription)")
            }
        }
        return true
    }

    /// Refuses unless the file opens as a policy store and holds what the demo makes, as the
    /// demo made it: compared with the same steps run in memory, by content and by history
    /// (who ran them and when aside). Nothing is written to a refused file. (It is not opened
    /// read-only: the library's read-only connection leaves -wal and -shm files behind.)
    private static func checkIsEarlierDemo(build: (PolicyStore) throws -> Void) throws(ExitCode) {
        let advice = "so demo leaves the file alone: move or rename it, or run demo in another directory"
        var options = StoreOptions()
        options.createIfMissing = false
        let store: PolicyStore
        do {
            store = try PolicyStore(path: name, options: options)
        } catch {
            throw refuse("\(name) exists and is not an earlier demo database, so demo leaves it alone (\(error)); move or rename it, or run demo in another directory")
        }
        let difference = try exitOnRefusal { () -> String? in
            let sample = try PolicyStore.inMemory()
            try build(sample)
            return try firstDifference(of: store, from: sample)
        }
        if let difference { throw refuse("\(name) holds \(difference), \(advice)") }
    }

    /// What `file` holds that `sample`, the demo's own result, does not, in words; nil when
    /// nothing.
    private static func firstDifference(of file: PolicyStore, from sample: PolicyStore) throws -> String? {
        if let cluster = try file.perform(.clusters(limit: 1)).first {
            return "the cluster \(cluster.arn), which the demo does not make"
        }
        if try file.perform(.managedRuleCount()) > 0 {
            return "a managed-rule catalogue, which the demo does not make"
        }
        let samplePolicies = try sample.perform(.list(Policy.self))
        let sampleRulesets = try sample.perform(.list(Ruleset.self))
        if let stranger = try firstName(
            notIn: Set(samplePolicies.map(\.name)), name: \Policy.name, nextPage: { try file.perform(.list(Policy.self, after: $0, limit: $1)) }) {
            return "the policy \(stranger), which the demo does not make"
        }
        if let stranger = try firstName(
            notIn: Set(sampleRulesets.map(\.name)), name: \Ruleset.name, nextPage: { try file.perform(.list(Ruleset.self, after: $0, limit: $1)) }) {
            return "the ruleset \(stranger), which the demo does not make"
        }
        for policy in samplePolicies {
            let stored = try file.perform(.fetch(Policy.self, named: policy.name))
            let history = try file.perform(.history(ofPolicy: policy.name))
            let sampleHistory = try sample.perform(.history(ofPolicy: policy.name))
            let same = stored.map { $0.content == policy.content }
            if same != true || recorded(history) != recorded(sampleHistory) {
                return "changes to the policy \(policy.name) that the demo did not make"
            }
        }
        for ruleset in sampleRulesets {
            let stored = try file.perform(.fetch(Ruleset.self, named: ruleset.name))
            let history = try file.perform(.history(ofRuleset: ruleset.name))
            let sampleHistory = try sample.perform(.history(ofRuleset: ruleset.name))
            let same = stored.map { $0.content == ruleset.content }
            if same != true || recorded(history) != recorded(sampleHistory) {
                return "changes to the ruleset \(ruleset.name) that the demo did not make"
            }
        }
        return nil
    }

    /// A history as the demo decides it: which change, in which order, from which state to
    /// which; not when or by whom.
    private static func recorded(_ changes: [Change]) -> [RecordedChange] {
        changes.map { RecordedChange(sequence: $0.sequence, name: $0.name, action: $0.action, revision: $0.revision, before: $0.before, after: $0.after) }
    }

    private struct RecordedChange: Equatable {
        let sequence: Int
        let name: String
        let action: Change.Action
        let revision: Int
        let before: RecordedContent?
        let after: RecordedContent?
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
