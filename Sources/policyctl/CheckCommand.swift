import ArgumentParser
import ContainerPolicyStore

/// `policyctl check`: the library's `checkIntegrity()`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the database: integrity_check, foreign_key_check and the domain rules on every row.",
        discussion: "Prints each problem on a line of its own and exits 1 if there is any.")

    @OptionGroup var database: DatabaseOption

    func run() throws {
        let store = try database.readingStore()
        let findings = try exitOnRefusal { try store.perform(.checkIntegrity()) }
        guard !findings.isEmpty else {
            print("ok: \(store.path) passed integrity_check, foreign_key_check and the domain checks.")
            return
        }
        findings.forEach { print($0) }
        throw refuse("\(store.path) has \(findings.count) problem\(findings.count == 1 ? "" : "s")")
    }
}
