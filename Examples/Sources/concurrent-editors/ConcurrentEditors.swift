import ContainerPolicyStore
import Foundation

/// Several editors change one policy at the same time, each from what it read, the way a
/// team's tools do: read, decide, write with the revision that was read, and on a conflict
/// read again and retry. Every editor's ruleset ends up linked: no update is lost.
///
///     concurrent-editors DATABASE [EDITORS]
@main
struct ConcurrentEditors {
    static let policyName = "shared.edits"

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard (1...2).contains(arguments.count), let editors = Int(arguments.count == 2 ? arguments[1] : "8"), editors > 0 else {
            printError("usage: concurrent-editors DATABASE [EDITORS]")
            exit(64)
        }
        do {
            let store = try PolicyStore(path: arguments[0])
            defer { store.close() }
            try await store.write { tx in
                if try tx.fetch(Policy.self, named: policyName) != nil { try tx.delete(Policy.self, named: policyName) }
                for editor in 0..<editors where try tx.fetch(Ruleset.self, named: rulesetName(editor)) == nil {
                    try tx.createRuleset(named: rulesetName(editor), rules: [RuleReference(id: "TM-00000001")])
                }
                try tx.createPolicy(named: policyName, description: "edited by \(editors) editors at once")
            }
            let retries = try await withThrowingTaskGroup(of: Int.self) { group in
                for editor in 0..<editors {
                    group.addTask { try await addRuleset(rulesetName(editor), in: store) }
                }
                var retries = 0
                for try await editorRetries in group { retries += editorRetries }
                return retries
            }
            guard let policy = try await store.perform(.fetch(Policy.self, named: policyName)) else {
                throw Failure(message: "\(policyName) is gone")
            }
            let expected = Set((0..<editors).map(rulesetName))
            guard Set(policy.rulesets) == expected, policy.revision == 1 + editors else {
                throw Failure(message: "lost updates: \(policy.name) links \(policy.rulesets) at revision \(policy.revision)")
            }
            print("\(editors) editors linked \(editors) rulesets to \(policy.name) (revision \(policy.revision)), retrying \(retries) times after conflicts; no update lost")
        } catch {
            printError("error: \(error)")
            exit(1)
        }
    }

    static func rulesetName(_ editor: Int) -> String { "editor\(editor)" }

    /// Links `ruleset` to the shared policy from what this editor read, with the revision it
    /// read; returns how many times a concurrent edit made it start again.
    static func addRuleset(_ ruleset: String, in store: PolicyStore) async throws -> Int {
        var retries = 0
        while true {
            guard let seen = try await store.perform(.fetch(Policy.self, named: policyName)) else {
                throw Failure(message: "\(policyName) is gone")
            }
            do {
                try await store.perform(.modify(Policy.self, named: policyName, expectedRevision: seen.revision) {
                    $0.rulesets = seen.rulesets + [ruleset]
                })
                return retries
            } catch PolicyStoreError.revisionConflict {
                retries += 1
                await Task.yield()
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
