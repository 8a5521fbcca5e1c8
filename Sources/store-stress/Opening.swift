import ContainerPolicyStore

/// How every command of the driver opens its store: the library's public initializer with
/// the options given on the command line, and nothing else, so that what the driver proves
/// holds for any program that links the library.
enum StressStore {
    /// The options for `--journal wal|rollback`, `--synchronous full|normal`,
    /// `--timeout-ms N` (default: the library's 5 s) and `--read-only`.
    static func options(_ arguments: Arguments) throws(UsageError) -> StoreOptions {
        var options = StoreOptions()
        options.actor = "store-stress"
        switch arguments.string("journal", default: "wal") {
        case "wal": options.journalMode = .wal
        case "rollback": options.journalMode = .rollback
        case let other: throw UsageError("--journal takes wal or rollback, not \(other)")
        }
        switch arguments.string("synchronous", default: "full") {
        case "full": options.synchronous = .full
        case "normal": options.synchronous = .normal
        case let other: throw UsageError("--synchronous takes full or normal, not \(other)")
        }
        if let milliseconds = arguments.values["timeout-ms"] {
            guard let value = Int(milliseconds) else { throw UsageError("--timeout-ms takes a number") }
            options.busyTimeout = .milliseconds(value)
        }
        options.readOnly = arguments.has("read-only")
        options.createIfMissing = !arguments.has("no-create")
        return options
    }

    static func open(path: String, options: StoreOptions) throws(PolicyStoreError) -> PolicyStore {
        try PolicyStore(path: path, options: options)
    }
}
