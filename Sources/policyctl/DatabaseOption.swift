import ArgumentParser
import ContainerPolicyStore
import Foundation

/// `--db PATH`, the database every command except `demo` works on, and how to open it.
struct DatabaseOption: ParsableArguments {
    static let environmentVariable = "POLICYCTL_DB"
    static let defaultPath = "./policies.sqlite"

    @Option(
        name: .customLong("db"),
        help: ArgumentHelp(
            "The policy database (default: $\(environmentVariable), else \(defaultPath)).",
            valueName: "path"),
        completion: .file())
    var explicitPath: String?

    /// `--db`, else `$POLICYCTL_DB` when it is set and not empty, else `./policies.sqlite`.
    var path: String {
        if let explicitPath { return explicitPath }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable],
           !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultPath
    }

    /// Opens the database, which must exist: commands that only read or change existing
    /// objects never create a file.
    func existingStore() throws(ExitCode) -> PolicyStore {
        var options = StoreOptions()
        options.createIfMissing = false
        return try exitOnRefusal { try PolicyStore(path: path, options: options) }
    }

    /// Runs a create command's operation, creating the database file when it is missing.
    ///
    /// A refused create must not leave a new empty file behind, so against a missing file the
    /// operation is first rehearsed on an empty in-memory store, which is what a new file
    /// starts as. `operation` may therefore run twice: it must not print.
    func create<Result>(_ operation: (PolicyStore) throws -> Result) throws(ExitCode) -> Result {
        try exitOnRefusal {
            if !FileManager.default.fileExists(atPath: path) {
                _ = try operation(PolicyStore.inMemory())
            }
            return try operation(PolicyStore(path: path))
        }
    }
}
