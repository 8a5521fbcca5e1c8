import ArgumentParser
import ContainerPolicyStore

/// `policyctl check`: the library's `checkIntegrity()`.
struct CheckCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the database: integrity_check, foreign_key_check and the domain rules on every row.",
        discussion: "Prints each problem on a line of its own and exits 1 if there is any.")

    @OptionGroup var database: DatabaseOption

    func run() throws {
        let store = try database.readingStore()
        let findings = try exitOnRefusal { try store.perform(.checkIntegrity()) }
        let path = terminalSafe(store.path)
        guard !findings.isEmpty else {
            try StandardOutput.line("ok: \(path) passed integrity_check, foreign_key_check and the domain checks.")
            return
        }
        for finding in findings { try StandardOutput.line(terminalSafe(finding.description)) }
        throw refuse("\(path) has \(findings.count) problem\(findings.count == 1 ? "" : "s")")
    }
}
