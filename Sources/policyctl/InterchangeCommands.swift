import ArgumentParser
import ContainerPolicyStore
import Foundation

/// `policyctl export`: the whole database as one JSON document, for keeping in git.
struct ExportCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every ruleset and policy as one JSON document (see Docs/policy-as-code.md).",
        discussion: "Two exports of the same database are byte for byte the same.")

    @OptionGroup var database: DatabaseOption
    @Option(
        name: .customLong("output"),
        help: ArgumentHelp("Write the document to this file, replacing it (default: standard output).", valueName: "file"),
        completion: .file())
    var outputPath: String?

    func run() throws {
        let store = try database.readingStore()
        guard let outputPath else {
            _ = try exportToStandardOutput(store)
            return
        }
        let summary: ExportSummary
        switch try ExportTarget.resolve(outputPath) {
        case .file(let path):
            var progress = ProgressLine("export")
            summary = try exitOnRefusal { try store.read { tx in try tx.export(to: URL(fileURLWithPath: path)) { progress.show($0) } } }
        case .stream(let path):
            summary = try ExportTarget.writeStream(path, from: store)
        case .standardOutput:
            summary = try exportToStandardOutput(store)
        }
        let rulesets = counted(summary.rulesets, "ruleset", "rulesets")
        let policies = counted(summary.policies, "policy", "policies")
        try StandardOutput.line("Exported \(rulesets) and \(policies) to \(terminalSafe(outputPath)).")
    }

    /// Streamed: the export of a large store never sits whole in memory.
    private func exportToStandardOutput(_ store: PolicyStore) throws(ExitCode) -> ExportSummary {
        try exitOnRefusal { try store.read { tx in try tx.export { try StandardOutput.write($0) } } }
    }

    private func counted(_ count: Int, _ singular: String, _ plural: String) -> String {
        "\(count) \(count == 1 ? singular : plural)"
    }
}

/// `policyctl import`: makes the database match a JSON document, printing the plan.
struct ImportCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Make the database match a JSON document: create, modify and, with --prune, delete.",
        discussion: """
            The whole document is checked first and every problem is listed with its JSON path; \
            then it is applied in one transaction, all or nothing. The plan is printed either \
            way: '+' creates, '~' modifies, '-' deletes; a dry run also prints its fingerprint. To apply a plan \
            exactly as it was reviewed, pass the fingerprint --dry-run printed to \
            --expect-plan: the import is refused, with the new plan, if the plan is now another. \
            Creates the database file if it is missing, except with --dry-run, which plans \
            against an empty store then. See Docs/policy-as-code.md.
            """)

    @OptionGroup var database: DatabaseOption
    @Argument(help: ArgumentHelp("The document, or - for standard input.", valueName: "file"), completion: .file())
    var inputPath: String
    @Flag(name: .customLong("dry-run"), help: "Print the plan and its fingerprint, and write nothing.")
    var dryRun = false
    @Flag(help: "Also delete the policies and rulesets that the document does not have.")
    var prune = false
    @Option(
        name: .customLong("expect-plan"),
        help: ArgumentHelp("Apply only if the plan's fingerprint is still this one: the 64 hexadecimal digits --dry-run printed.", valueName: "fingerprint"))
    var expectedPlan: PlanFingerprint?
    @Flag(help: "Print the plan as JSON: each step with exactly what it creates or changes, and the fingerprint.")
    var json = false

    func run() throws {
        let data = try InputFile.read(inputPath, limit: PolicyDocument.maximumSize)
        let document = try exitOnRefusal { try PolicyDocument(json: data) }
        let plan: ImportPlan
        var onlyPlannedAgainstEmpty = false
        if dryRun {
            let (store, isStandIn) = try database.storeOrEmptyStandIn()
            onlyPlannedAgainstEmpty = isStandIn
            plan = try exitOnRefusal {
                try store.perform(.importDocument(document, prune: prune, dryRun: true, expectedPlan: expectedPlan?.text))
            }
        } else {
            var progress = ProgressLine("import")
            plan = try database.create { store in
                try store.write { tx in
                    try tx.importDocument(document, prune: prune, expectedPlan: expectedPlan?.text) { step in
                        // `create` first tries a new database's import in memory: show only the real one.
                        if store.path != ":memory:" { progress.show(step) }
                    }
                }
            }
        }
        if json { return try StandardOutput.write(ProductJSON.data(plan)) }
        for line in String(describing: plan).split(separator: "\n", omittingEmptySubsequences: false) {
            try StandardOutput.line(terminalSafe(String(line)))
        }
        let path = terminalSafe(database.path)
        if plan.applied { return try StandardOutput.line("Applied to \(path).") }
        try StandardOutput.line("Plan fingerprint: \(plan.fingerprint)")
        if onlyPlannedAgainstEmpty {
            try StandardOutput.line(
                "Dry run: there is no database at \(path) yet, so this is the plan against an empty store; nothing was written. Run without --dry-run to create it and apply this plan.")
        } else {
            try StandardOutput.line(
                "Dry run: nothing was written to \(path); run without --dry-run to apply this plan, or with --expect-plan \(plan.fingerprint) to apply only this plan.")
        }
    }
}

/// The fingerprint of an import plan: 64 hexadecimal digits, as --dry-run prints it.
struct PlanFingerprint: ExpressibleByArgument {
    let text: String

    init?(argument: String) {
        guard argument.utf8.count == 64, argument.utf8.allSatisfy({ $0 < 0x80 && Character(Unicode.Scalar($0)).isHexDigit }) else { return nil }
        text = argument.lowercased()
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
