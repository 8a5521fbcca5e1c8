import ArgumentParser
import ContainerPolicyStore

/// `policyctl history`: the changes to every policy, ruleset and cluster, in the order they
/// were made, page by page; with `--follow`, then every new one as it is committed.
struct StoreHistoryCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show every recorded change to policies, rulesets and clusters, oldest first; with --follow, new ones as they come.",
        discussion: """
            An ACTOR of - is unknown: a change made outside the library (in the sqlite3 shell, \
            say) or with --actor ''. --follow prints one line per change (--json: one JSON \
            object per line) until interrupted (Ctrl-C), and then exits 0.
            """)

    /// Changes read from the library at a time.
    static let pageSize = 500

    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print JSON (see Docs/cli.md); with --follow, one JSON object per line.")
    var json = false
    @OptionGroup var following: FollowOptions

    func run() throws {
        let store = try database.readingStore()
        var after = try following.start(store)
        if following.follow {
            return try followHistory(store, after: after, json: json) { _ in true }
        }
        var list = ProductJSON.ListWriter(key: "changes")
        var first = true
        while true {
            let page = try exitOnRefusal { try store.perform(.changes(after: after, limit: Self.pageSize)) }
            if json {
                for change in page { try StandardOutput.write(list.element(change)) }
            } else if first, page.isEmpty {
                try StandardOutput.line("No recorded changes.")
            } else {
                try printStoreHistoryPage(page, first: first)
            }
            first = false
            guard page.count == Self.pageSize, let last = page.last else { break }
            after = last.sequence
        }
        if json { try StandardOutput.write(list.end()) }
    }
}
