import ArgumentParser
import ContainerPolicyStore

/// `policyctl rules ...`: the product's catalogue of managed rules, imported as the API lists
/// it; once there is one, rulesets may apply only the rules it holds.
struct RulesCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Import the product's managed-rule catalogue; list and show its rules.",
        discussion: """
            Without a catalogue, a rule ID is checked for its form only (TM- and 8 digits). Once one \
            is imported, a ruleset may apply only the rules it holds, and 'ruleset show' and \
            'policy show' name each rule.
            """,
        subcommands: [Import.self, List.self, Show.self])

    struct Import: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the catalogue with the API's list of managed rules; creates the database file if it is missing.",
            discussion: """
                FILE is what GET /v3.0/containerSecurity/managedRules answers, as it came: one page, \
                or every page one after another. The whole list is checked first and every problem is \
                listed with its path; a list that lacks a rule a ruleset applies is refused, naming the \
                rulesets. Then the catalogue is replaced in one transaction.
                """)

        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp("The API's JSON, or - for standard input.", valueName: "file"), completion: .file())
        var inputPath: String

        func run() throws {
            let data = try InputFile.read(inputPath, limit: ManagedRuleCatalogue.maximumSize, document: "managed-rule list")
            let catalogue = try exitOnRefusal { try ManagedRuleCatalogue(json: data) }
            let result = try database.create { try $0.perform(.importManagedRules(catalogue)) }
            let changes = "\(result.added.count) added, \(result.changed.count) changed, \(result.removed.count) removed, \(result.unchanged) unchanged"
            try StandardOutput.line(
                "Imported \(result.total) managed rule\(result.total == 1 ? "" : "s") into \(terminalSafe(database.path)): \(changes).")
        }
    }

    struct List: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the catalogue's managed rules by ID, each with its ATT&CK techniques and name.")

        @OptionGroup var database: DatabaseOption
        @Flag(help: "Print JSON (see Docs/cli.md).")
        var json = false

        func run() throws {
            let store = try database.readingStore()
            let output: any ListOutput<ManagedRule> = json ? JSONList<ManagedRule>(key: "managedRules") : ManagedRuleTable()
            try printListing(output, name: \.id) { after, limit in try store.perform(.managedRules(after: after, limit: limit)) }
        }
    }

    struct Show: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one managed rule and, without --json, the rulesets that apply it.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The rule's ID, TM- and 8 digits.")
        var id: String
        @Flag(help: "Print JSON (see Docs/cli.md).")
        var json = false

        func run() throws {
            let store = try database.readingStore()
            let (rule, users) = try exitOnRefusal {
                try store.read { tx in
                    guard let rule = try tx.managedRule(id: id) else {
                        throw PolicyStoreError.managedRuleNotFound(id: id, closest: try tx.managedRuleIDs(closestTo: id))
                    }
                    return (rule, try tx.rulesets(applyingRule: rule.id))
                }
            }
            try StandardOutput.write(json ? String(decoding: ProductJSON.data(rule), as: UTF8.self) : ManagedRuleDetails.text(rule, usedBy: users) + "\n")
        }
    }
}
