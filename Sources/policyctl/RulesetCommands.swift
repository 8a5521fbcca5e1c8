import ArgumentParser
import ContainerPolicyStore

/// `policyctl ruleset ...`: runtime rulesets, made on their own and added to policies.
struct RulesetCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruleset",
        abstract: "Create, duplicate, modify, delete, list and show runtime rulesets; read their history.",
        subcommands: [Create.self, DuplicateCommand<Ruleset>.self, Modify.self, DeleteCommand<Ruleset>.self, ListCommand<Ruleset>.self, Show.self, HistoryCommand<Ruleset>.self])

    static let ruleHelp = "mitigation: log (the default), isolate or terminate"

    struct Create: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a ruleset; creates the database file if it is missing.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The name: letters, digits, '_' and '.'; it cannot be changed later.")
        var name: String
        @Option(help: ArgumentHelp("What the ruleset is for.", valueName: "text"))
        var description = ""
        @Option(
            name: .customLong("rule"),
            help: ArgumentHelp("A managed rule, TM- and 8 digits, with its \(ruleHelp) (repeatable).", valueName: "id[:mitigation]"),
            transform: parseRule)
        var rules: [RuleReference] = []

        func run() throws {
            let ruleset = try database.create { store in
                try store.perform(.createRuleset(named: name, description: description, rules: rules))
            }
            try StandardOutput.line(Report.created(.ruleset, name: ruleset.name))
        }
    }

    struct Modify: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a ruleset's description and rules.",
            discussion: """
                Removals apply before additions: to change a rule's mitigation, remove it and add \
                it again. The name cannot be changed.
                """)

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The ruleset to change.")
        var name: String
        @Option(help: ArgumentHelp("The new description.", valueName: "text"))
        var description: String?
        @Option(
            name: .customLong("add-rule"),
            help: ArgumentHelp("A rule to add, with its \(ruleHelp) (repeatable).", valueName: "id[:mitigation]"),
            transform: parseRule)
        var addedRules: [RuleReference] = []
        @Option(name: .customLong("remove-rule"), help: ArgumentHelp("A rule to remove (repeatable).", valueName: "id"))
        var removedRuleIDs: [String] = []
        @Option(
            name: .customLong("expect-revision"),
            help: ArgumentHelp("Refuse unless the ruleset is still at this revision.", valueName: "n"))
        var expectedRevision: Int?

        func run() throws {
            let store = try database.existingStore()
            let (before, ruleset) = try exitOnRefusal {
                try store.write { tx in
                    let before = try tx.fetch(Ruleset.self, named: name)
                    var missing: [String] = []
                    let ruleset = try tx.modify(Ruleset.self, named: name, expectedRevision: expectedRevision) { edit in
                        // A removal of a rule the ruleset does not have changes nothing here, so
                        // nothing is written, and is refused below.
                        missing = removedRuleIDs.filter { id in !edit.rules.contains { $0.id == id } }
                        guard missing.isEmpty else { return }
                        if let description { edit.description = description }
                        edit.rules.removeAll { removedRuleIDs.contains($0.id) }
                        edit.rules += addedRules
                    }
                    guard missing.isEmpty else {
                        throw CommandRefusal.nothingToRemove(
                            .ruleset, name: ruleset.name, missing: missing, noun: ("rule", "rules"),
                            present: ruleset.rules.map { terminalSafe($0.id) })
                    }
                    return (before, ruleset)
                }
            }
            // The library returns the ruleset as it was when nothing changed.
            try StandardOutput.line(ruleset.revision == before?.revision
                ? Report.unchanged(.ruleset, name: ruleset.name, revision: ruleset.revision)
                : Report.modified(.ruleset, name: ruleset.name, revision: ruleset.revision))
        }
    }

    struct Show: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one ruleset and, without --json, the policies that use it.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The ruleset to show.")
        var name: String
        @Flag(help: "Print JSON (see Docs/cli.md).")
        var json = false

        func run() throws {
            let store = try database.readingStore()
            let (ruleset, ruleNames) = try exitOnRefusal {
                try store.read { tx in
                    guard let ruleset = try tx.fetch(Ruleset.self, named: name) else { throw PolicyStoreError.notFound(.ruleset, name: name) }
                    return (ruleset, try tx.ruleNames(forRuleset: ruleset.name))
                }
            }
            if json {
                try StandardOutput.write(ProductJSON.data(RulesetDetailsJSON(ruleset: ruleset, ruleNames: ruleNames)))
            } else {
                let users = try exitOnRefusal { try store.perform(.policies(usingRuleset: ruleset.name)) }
                try StandardOutput.line(RulesetDetails.text(ruleset, usedBy: users, ruleNames: ruleNames))
            }
        }
    }

}
