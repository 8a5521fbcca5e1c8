import ContainerPolicyStore
import Foundation

/// Prints every ruleset of a policy database with the policies that use it, and the
/// rulesets no policy uses: what a team checks before cleaning up rulesets.
///
///     ruleset-usage policies.sqlite
@main
struct RulesetUsage {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.count == 1, let path = arguments.first else {
            printError("usage: ruleset-usage DATABASE")
            exit(64)
        }
        var options = StoreOptions()
        options.createIfMissing = false
        do {
            let store = try PolicyStore(path: path, options: options)
            var unused: [String] = []
            var page = try store.perform(.list(Ruleset.self, limit: 100))
            while let last = page.last {
                for ruleset in page {
                    let users = try store.perform(.policies(usingRuleset: ruleset.name))
                    if users.isEmpty { unused.append(ruleset.name) }
                    print("\(ruleset.name) (\(ruleset.rules.count) rules): \(users.isEmpty ? "unused" : users.joined(separator: ", "))")
                }
                page = try store.perform(.list(Ruleset.self, after: last.name, limit: 100))
            }
            print(unused.isEmpty ? "every ruleset is in use" : "unused: \(unused.joined(separator: ", "))")
        } catch {
            printError("error: \(error)")
            exit(1)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
