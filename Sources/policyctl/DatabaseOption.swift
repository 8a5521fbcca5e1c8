import ArgumentParser
import ContainerPolicyStore
import Foundation

/// `--db PATH` and `--actor NAME`: the database every command except `demo` works on, who
/// its changes are recorded as, and how to open it.
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

    @Option(
        name: .customLong("actor"),
        help: ArgumentHelp(
            "Who the changes are recorded as in the history (default: your user name).", valueName: "name"))
    var explicitActor: String?

    /// `--db`, else `$POLICYCTL_DB` when it is set and not empty, else `./policies.sqlite`.
    var path: String {
        if let explicitPath { return explicitPath }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable],
           !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultPath
    }

    /// `--actor`, else the name of the user running the tool.
    var actor: String {
        explicitActor ?? Self.userName()
    }

    /// How every command opens a store: the history records its changes as `actor`.
    var storeOptions: StoreOptions {
        var options = StoreOptions()
        options.actor = actor
        return options
    }

    /// Opens the database, which must exist, for a command that changes existing objects:
    /// such commands never create a file.
    func existingStore() throws(ExitCode) -> PolicyStore {
        var options = storeOptions
        options.createIfMissing = false
        return try exitOnRefusal { try PolicyStore(path: path, options: options) }
    }

    /// Opens the database for a dry run, which only reads: when there is no file yet (or an
    /// empty one), an empty store in memory stands in for it, so the plan shows what the
    /// first real run would do, and no file is created. The flag says which it was.
    func storeOrEmptyStandIn() throws(ExitCode) -> (store: PolicyStore, isStandIn: Bool) {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        guard size == nil || size == 0 else { return (try readingStore(), false) }
        return (try exitOnRefusal { try PolicyStore.inMemory(options: storeOptions) }, true)
    }

    /// Opens the database, which must exist, for a command that only reads. A file whose
    /// schema was changed outside the library is opened read-only, with a warning that names
    /// the changes: it can be read (and exported, and checked), not written.
    func readingStore() throws(ExitCode) -> PolicyStore {
        var options = storeOptions
        options.createIfMissing = false
        return try exitOnRefusal {
            do {
                return try PolicyStore(path: path, options: options)
            } catch PolicyStoreError.incompatibleDatabase(_, .alteredSchema(let differences)) {
                options.readOnly = true
                let store = try PolicyStore(path: path, options: options)
                let shown = differences.map(\.description).joined(separator: "; ")
                StandardError.line(terminalSafe(
                    "warning: the schema of \(path) was changed outside ContainerPolicyStore (\(shown)): reading it read-only; commands that write refuse it, and 'policyctl check' lists the changes"))
                return store
            }
        }
    }

    /// Runs the operation of a command that may create the database file (a create, an
    /// import), creating the file when it is missing.
    ///
    /// A refused operation must not leave a new file behind, nor turn an empty one into a
    /// database, so against a missing or empty file the operation is first rehearsed on an
    /// empty in-memory store, which is what a new file starts as. `operation` may therefore
    /// run twice: it must not print.
    func create<Result>(_ operation: (PolicyStore) throws -> Result) throws(ExitCode) -> Result {
        try exitOnRefusal {
            // An empty file is what a new database starts as, too (`touch policies.sqlite`).
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
            if size == nil || size == 0 {
                _ = try operation(PolicyStore.inMemory(options: storeOptions))
            }
            return try operation(PolicyStore(path: path, options: storeOptions))
        }
    }

    /// The user the process runs as: the password database's name for the effective user ID,
    /// else `$USER` (a container may run under an ID with no passwd entry), else empty, which
    /// the history shows as unknown.
    private static func userName() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessInfo.processInfo.environment["USER"] ?? ""
    }
}
