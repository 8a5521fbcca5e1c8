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
            summary = try exitOnRefusal { try store.perform(.export(to: URL(fileURLWithPath: path))) }
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
            way: '+' creates, '~' modifies, '-' deletes. Creates the database file if it is \
            missing, except with --dry-run. See Docs/policy-as-code.md.
            """)

    @OptionGroup var database: DatabaseOption
    @Argument(help: ArgumentHelp("The document, or - for standard input.", valueName: "file"), completion: .file())
    var inputPath: String
    @Flag(name: .customLong("dry-run"), help: "Print the plan and write nothing.")
    var dryRun = false
    @Flag(help: "Also delete the policies and rulesets that the document does not have.")
    var prune = false
    @Flag(help: "Print the plan as JSON: each step with exactly what it creates or changes.")
    var json = false

    func run() throws {
        let data = try InputFile.read(inputPath, limit: PolicyDocument.maximumSize)
        let document = try exitOnRefusal { try PolicyDocument(json: data) }
        let plan: ImportPlan
        if dryRun {
            let store = try database.readingStore()
            plan = try exitOnRefusal { try store.perform(.importDocument(document, prune: prune, dryRun: true)) }
        } else {
            plan = try database.create { try $0.perform(.importDocument(document, prune: prune)) }
        }
        if json { return try StandardOutput.write(ProductJSON.data(plan)) }
        for line in String(describing: plan).split(separator: "\n", omittingEmptySubsequences: false) {
            try StandardOutput.line(terminalSafe(String(line)))
        }
        let path = terminalSafe(database.path)
        try StandardOutput.line(plan.applied
            ? "Applied to \(path)."
            : "Dry run: nothing was written to \(path); run without --dry-run to apply this plan.")
    }
}
