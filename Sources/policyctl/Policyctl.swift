import ArgumentParser

/// The `policyctl` command: the root of the command tree. It runs nothing itself.
@main
struct Policyctl: PolicyctlCommand {
    /// The tool's version, printed by `--version`.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "policyctl",
        abstract: "Keep Container Security policies for Amazon ECS clusters in a SQLite file.",
        discussion: """
            The database is --db PATH, else $POLICYCTL_DB, else ./policies.sqlite. Only \
            'policy create', 'ruleset create', 'rules import', 'import' and 'remote pull' (without \
            --dry-run) and 'demo' create a missing file. The history records every change as made by --actor NAME, else your \
            user name.

            Exit codes: 0 success, 1 refused (the database is left unchanged) or 'check' found \
            problems, 64 usage error.

            New here? Run 'policyctl demo'.
            """,
        version: version,
        subcommands: [
            DemoCommand.self, PolicyCommand.self, RulesetCommand.self, RulesCommand.self, ClusterCommand.self,
            StoreHistoryCommand.self, ExportCommand.self, ImportCommand.self, CheckCommand.self, GraphCommand.self,
            RemoteCommand.self,
        ])

    // Declared here as well as in each subcommand so that `--db` and `--actor` may come before the
    // subcommand too; the subcommands receive this parsed value.
    @OptionGroup var database: DatabaseOption

    /// The root's own options are those of `DatabaseOption`: asking the parser about
    /// `Policyctl` would describe every subcommand too, at a cost of milliseconds a run.
    func validate() throws {
        try SingleValueOptions.refuseContradictoryRepeats(of: DatabaseOption.self, in: Array(CommandLine.arguments.dropFirst()))
    }

    static func main() {
        StandardOutput.checkWhenExiting()
        main(nil)
    }
}
