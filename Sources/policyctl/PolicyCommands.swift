import ArgumentParser
import ContainerPolicyStore

/// `policyctl policy ...`: policies and the rulesets of their Runtime.
struct PolicyCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Create, duplicate, modify, delete, list and show policies; read their history and restore them.",
        subcommands: [
            Create.self, DuplicateCommand<Policy>.self, Modify.self, DeleteCommand<Policy>.self, ListCommand<Policy>.self, Show.self, HistoryCommand<Policy>.self, Restore.self,
        ])

    struct Create: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a policy; creates the database file if it is missing.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The name: letters, digits, '_' and '.'; it cannot be changed later.")
        var name: String
        @Option(help: ArgumentHelp("Shown under the name in the policy list.", valueName: "text"))
        var description = ""
        @Option(help: ArgumentHelp("XDR Telemetry.", valueName: "on|off"))
        var xdr = XDRSetting.on
        @Option(name: .customLong("ruleset"), help: "A ruleset to add to the policy's Runtime (repeatable).")
        var rulesets: [String] = []

        func run() throws {
            let policy = try database.create { store in
                try store.perform(.createPolicy(named: name, description: description, xdrEnabled: xdr.isEnabled, rulesets: rulesets))
            }
            try StandardOutput.line(Report.created(.policy, name: policy.name))
        }
    }

    struct Modify: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a policy's description, XDR setting and rulesets.",
            discussion: "Removals apply before additions. The name cannot be changed.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The policy to change.")
        var name: String
        @Option(help: ArgumentHelp("The new description.", valueName: "text"))
        var description: String?
        @Option(help: ArgumentHelp("XDR Telemetry.", valueName: "on|off"))
        var xdr: XDRSetting?
        @Option(
            name: .customLong("add-ruleset"),
            help: ArgumentHelp("A ruleset to add (repeatable).", valueName: "ruleset"))
        var addedRulesets: [String] = []
        @Option(
            name: .customLong("remove-ruleset"),
            help: ArgumentHelp("A ruleset to remove (repeatable).", valueName: "ruleset"))
        var removedRulesets: [String] = []
        @Option(
            name: .customLong("expect-revision"),
            help: ArgumentHelp("Refuse unless the policy is still at this revision.", valueName: "n"))
        var expectedRevision: Int?

        func run() throws {
            let store = try database.existingStore()
            let (before, policy) = try exitOnRefusal {
                try store.write { tx in
                    let before = try tx.fetch(Policy.self, named: name)
                    var missing: [String] = []
                    let policy = try tx.modify(Policy.self, named: name, expectedRevision: expectedRevision) { edit in
                        // The library's own matching of names says what is linked. A removal of
                        // what is not changes nothing here, so nothing is written, and is refused
                        // below.
                        let current = edit
                        missing = removedRulesets.filter { ruleset in
                            var probe = current
                            probe.removeRuleset(ruleset)
                            return probe.rulesets.count == current.rulesets.count
                        }
                        guard missing.isEmpty else { return }
                        if let description { edit.description = description }
                        if let xdr { edit.xdrEnabled = xdr.isEnabled }
                        removedRulesets.forEach { edit.removeRuleset($0) }
                        addedRulesets.forEach { edit.addRuleset($0) }
                    }
                    guard missing.isEmpty else {
                        throw CommandRefusal.nothingToRemove(
                            .policy, name: policy.name, missing: missing, noun: ("ruleset", "rulesets"),
                            present: policy.rulesets.map(quotedName))
                    }
                    return (before, policy)
                }
            }
            // The library returns the policy as it was when nothing changed.
            try StandardOutput.line(policy.revision == before?.revision
                ? Report.unchanged(.policy, name: policy.name, revision: policy.revision)
                : Report.modified(.policy, name: policy.name, revision: policy.revision))
        }
    }

    struct Show: PolicyctlCommand {
        static let configuration = CommandConfiguration(abstract: "Show one policy and the clusters it is assigned to.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The policy to show.")
        var name: String
        @Flag(help: "Print JSON (see Docs/cli.md).")
        var json = false

        func run() throws {
            let store = try database.readingStore()
            let (policy, clusters, ruleNames) = try exitOnRefusal {
                try store.read { tx in
                    guard let policy = try tx.fetch(Policy.self, named: name) else { throw PolicyStoreError.notFound(.policy, name: name) }
                    return (policy, try tx.clusters(usingPolicy: policy.name), try tx.ruleNames(forPolicy: policy.name))
                }
            }
            try StandardOutput.line(PolicyCommand.details(policy, clusters: clusters, ruleNames: ruleNames, json: json))
        }
    }

    struct Restore: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a policy back the description, XDR setting and rulesets of an earlier revision.",
            discussion: """
                The restore is a change like any other: the policy moves on to a new revision, \
                recorded as a restore of the one named, and the history keeps everything in \
                between. The revision is one of the current policy's life unless --life names \
                another: a policy deleted and created again under its name starts a new life, \
                and 'policy history' shows each change's life (in --json). Refused when a \
                ruleset the revision used no longer exists.
                """)

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The policy to restore.")
        var name: String
        @Option(help: ArgumentHelp("The revision to restore (see 'policy history').", valueName: "n"))
        var revision: Int
        @Option(help: ArgumentHelp(
            "The life the revision belongs to: the sequence of the change that created it (the history's life); by default the current policy's.",
            valueName: "sequence"))
        var life: Int?
        @Option(help: ArgumentHelp("Refuse unless the policy is still at this revision.", valueName: "n"))
        var expectRevision: Int?

        func run() throws {
            let store = try database.existingStore()
            let (before, policy, clusters, ruleNames) = try exitOnRefusal {
                try store.write { tx in
                    let before = try tx.fetch(Policy.self, named: name)
                    let policy = try tx.restorePolicy(named: name, toRevision: revision, ofLife: life, expectedRevision: expectRevision)
                    return (before, policy, try tx.clusters(usingPolicy: policy.name), try tx.ruleNames(forPolicy: policy.name))
                }
            }
            try StandardOutput.line(policy.revision == before?.revision
                ? Report.alreadyRestored(policy: policy, to: revision, life: life)
                : Report.restored(policy: policy, from: revision, life: life))
            try StandardOutput.line(PolicyCommand.details(policy, clusters: clusters, ruleNames: ruleNames, json: false))
        }
    }

    /// A policy as `policy show` prints it; `ruleNames` is nil without a managed-rule catalogue.
    static func details(_ policy: Policy, clusters: [String], ruleNames: [String: String]?, json: Bool) -> String {
        json
            ? String(decoding: ProductJSON.data(PolicyDetailsJSON(policy: policy, clusters: clusters, ruleNames: ruleNames)).dropLast(), as: UTF8.self)
            : PolicyDetails.text(policy, clusters: clusters, ruleNames: ruleNames)
    }
}
