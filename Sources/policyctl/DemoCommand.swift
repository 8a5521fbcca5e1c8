import ArgumentParser
import ContainerPolicyStore

/// `policyctl demo`: builds a sample database and walks through the product's procedure,
/// printing each step with the policyctl command that does the same.
struct DemoCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a sample database at ./\(DemoFile.name) and show each step.",
        discussion: """
            Replaces an earlier demo database of that name (with its -wal and -shm files), and \
            nothing else: a file that is not a policy database, or that holds objects the demo \
            does not make, is left alone and the demo stops with an error. --db and \
            $\(DatabaseOption.environmentVariable) do not apply.
            """)

    @ParentCommand var root: Policyctl

    private struct SampleRuleset {
        let name: String
        let description: String
        let rules: [RuleReference]
    }

    private static let rulesets = [
        SampleRuleset(
            name: "baseline.runtime", description: "Stops container escapes and shells in production",
            rules: [
                RuleReference(id: "TM-00000001", mitigation: .terminate),
                RuleReference(id: "TM-00000005", mitigation: .isolate),
                RuleReference(id: "TM-00000012"),
            ]),
        SampleRuleset(
            name: "crypto.mining", description: "Catches coin miners and their pool connections",
            rules: [
                RuleReference(id: "TM-00000023", mitigation: .terminate),
                RuleReference(id: "TM-00000031"),
            ]),
    ]
    private static let policyName = "web.prod"
    private static let policyDescription = "Front-end services on the production ECS cluster"
    /// The product names a duplicate after its source with `Policy` appended.
    private static let copyName = "web.prodPolicy"
    private static let copyDescription = "Staging copy: baseline rules only, XDR Telemetry off"
    private static let spacedName = "web staging"

    func validate() throws {
        try refuseContradictoryRepeats()
        if root.database.explicitPath != nil {
            throw ValidationError("demo always builds ./\(DemoFile.name); --db does not apply to it")
        }
    }

    func run() throws {
        let replaced = try DemoFile.makeWay { try Self.build(in: $0, narrating: false) }
        try StandardOutput.line("Building a sample policy database at ./\(DemoFile.name).")
        if replaced { try StandardOutput.line("Replaced the earlier demo database ./\(DemoFile.name).") }
        try StandardOutput.line("Each step shows the policyctl command that does the same; to try them, first run")
        try StandardOutput.line("  export \(DatabaseOption.environmentVariable)=\(DemoFile.name)")
        let store = try exitOnRefusal { try PolicyStore(path: DemoFile.name, options: root.database.storeOptions) }
        try Self.build(in: store, narrating: true)
        try StandardOutput.line("""

            Done. Open the database in the sqlite3 shell, with foreign keys on and a 5-second wait for locks:
              sqlite3 -cmd 'PRAGMA foreign_keys=ON' -cmd '.timeout 5000' \(DemoFile.name)
            and try:
              SELECT * FROM policy_overview;
            """)
    }

    /// The demo's steps, made in `store`; when `narrating`, each is printed with the policyctl
    /// command that does the same and its result. `DemoFile` runs them silently in memory to
    /// know what an earlier demo file holds.
    static func build(in store: PolicyStore, narrating: Bool) throws {
        let say: (String) throws(ExitCode) -> Void = { line throws(ExitCode) in
            if narrating { try StandardOutput.line(line) }
        }
        func step(_ number: Int, _ title: String) throws(ExitCode) {
            try say("\nStep \(number). \(title)")
        }
        /// The policyctl command line of a step, quoted for a POSIX shell.
        func command(_ arguments: [String]) throws(ExitCode) {
            try say("$ " + (["policyctl"] + arguments).map(shellWord).joined(separator: " "))
        }

        try step(1, "Create two runtime rulesets of managed rules, each with its mitigation.")
        for ruleset in rulesets {
            let ruleOptions = ruleset.rules.flatMap { ["--rule", shownRule($0)] }
            try command(["ruleset", "create", ruleset.name, "--description", ruleset.description] + ruleOptions)
            let created = try exitOnRefusal {
                try store.perform(.createRuleset(named: ruleset.name, description: ruleset.description, rules: ruleset.rules))
            }
            try say(Report.created(.ruleset, name: created.name))
        }

        try step(2, "Create a policy with a description and XDR Telemetry on.")
        try command(["policy", "create", policyName, "--description", policyDescription, "--xdr", "on"])
        let policy = try exitOnRefusal {
            try store.perform(.createPolicy(named: policyName, description: policyDescription, xdrEnabled: true))
        }
        try say(Report.created(.policy, name: policy.name))

        try step(3, "Add the rulesets to the policy's Runtime.")
        try command(["policy", "modify", policy.name] + rulesets.flatMap { ["--add-ruleset", $0.name] })
        let linked = try exitOnRefusal {
            try store.perform(.modify(Policy.self, named: policy.name) { edit in rulesets.forEach { edit.addRuleset($0.name) } })
        }
        try say(Report.modified(.policy, name: linked.name, revision: linked.revision))

        try step(4, "Duplicate the policy: the copy is named with 'Policy' appended.")
        try command(["policy", "duplicate", policy.name])
        let copy = try exitOnRefusal { try store.perform(.duplicate(Policy.self, named: policy.name)) }
        try say(Report.duplicated(.policy, name: policy.name, copy: copy.name))

        try step(5, "Modify the copy: a new description, XDR Telemetry off, one ruleset fewer.")
        let dropped = rulesets[1].name
        try command(["policy", "modify", copy.name, "--description", copyDescription, "--xdr", "off", "--remove-ruleset", dropped])
        let modified = try exitOnRefusal {
            try store.perform(.modify(Policy.self, named: copy.name) { edit in
                edit.description = copyDescription
                edit.xdrEnabled = false
                edit.removeRuleset(dropped)
            })
        }
        try say(Report.modified(.policy, name: modified.name, revision: modified.revision))

        try step(6, "The policy list: each name with its description under it.")
        try command(["policy", "list"])
        if narrating {
            try printListing(PolicyTable(), name: \.name) { after, limit in
                try store.perform(.list(Policy.self, after: after, limit: limit))
            }
        }

        try step(7, "A name with a space in it is refused, with the reason.")
        try command(["policy", "create", spacedName])
        let outcome: String
        do {
            outcome = Report.created(.policy, name: try store.perform(.createPolicy(named: spacedName)).name)
        } catch {
            outcome = refusalMessage(error)
        }
        try say(outcome)
    }

    /// A rule as a user would type it: the mitigation is left out when it is the library's
    /// default.
    private static func shownRule(_ rule: RuleReference) -> String {
        rule.mitigation == RuleReference(id: rule.id).mitigation ? rule.id : ruleArgument(rule)
    }

    private static func shellWord(_ word: String) -> String {
        let plain = word.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.:/=".unicodeScalars.contains($0))
        }
        return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
