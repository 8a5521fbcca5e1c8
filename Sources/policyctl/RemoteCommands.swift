import ArgumentParser
import ContainerPolicyStore
import ContainerPolicySync
import Foundation

/// `policyctl remote ...`: the database and a Trend Vision One tenant, kept in step through
/// the Container Security API (see Docs/vision-one.md).
struct RemoteCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Plan, push and pull the policies and rulesets of a Trend Vision One tenant.",
        discussion: """
            The database remembers, per endpoint, what it last synced of each object, so a plan \
            tells a change made here from one made in Vision One; changed on both sides is a \
            conflict, refused unless --force. The tenant is --endpoint URL or --region CODE, else \
            $\(RemoteOptions.endpointVariable). The token is read from --token-file FILE, else from \
            the file $\(RemoteOptions.tokenFileVariable) names, and never printed. See \
            Docs/vision-one.md.
            """,
        subcommands: [Plan.self, Push.self, Pull.self])

    struct Plan: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a push would change in Vision One; send nothing.",
            discussion: """
                '+' creates, '~' modifies (naming what changes), '-' deletes (only with --prune), \
                '!' is a conflict, '?' what is reported and left alone.
                """)

        @OptionGroup var planning: PlanOptions
        @Flag(help: "Plan the steps that conflicts would hold back (they overwrite changes made in Vision One).")
        var force = false
        @Flag(help: "Print the plan as JSON: the steps as 'import --json' prints them, then conflicts and findings.")
        var json = false

        func run() throws {
            let store = try planning.database.readingStore()
            // Closed here rather than when released: the task that used it may still hold it
            // as the process exits, and a store never closed leaves its -wal and -shm behind.
            defer { store.close() }
            let sync = VisionOneSync(store: store, client: try planning.remote.client())
            let plan = try planning.plan(sync, force: force)
            if json { return try StandardOutput.write(ProductJSON.data(plan)) }
            try printLines(plan.description)
            let endpoint = terminalSafe(sync.endpoint)
            if plan.isRefused {
                try StandardOutput.line("A push would be refused: pull the conflicting objects, or push with --force to overwrite them in \(endpoint).")
            } else if plan.steps.isEmpty {
                try StandardOutput.line("No change: \(endpoint) matches the database.")
            } else {
                try StandardOutput.line("Plan only: nothing was sent to \(endpoint); 'policyctl remote push' with the same options applies it.")
            }
        }
    }

    struct Push: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make Vision One match the database, step by step; each step is recorded as it is done.",
            discussion: """
                Prints the plan, then each step as it is done. A push stopped half way (an error, a \
                kill) is resumed by pushing again: the next plan shows only what is left, and no \
                object is created twice. 429 and 5xx answers are retried with bounded backoff; any \
                other error stops the push, naming the object, the status and the x-trace-id.
                """)

        @OptionGroup var planning: PlanOptions
        @Flag(help: "Go ahead over conflicts, overwriting or deleting what was changed in Vision One.")
        var force = false
        @Flag(help: "Print the plan carried out as JSON instead of text.")
        var json = false
        @Option(
            name: .customLong("policy-platform"),
            help: ArgumentHelp(
                "The 'platform' sent with each policy created (default: none); the API reference does not say the Amazon ECS value.",
                valueName: "value"))
        var policyPlatform: String?

        func run() throws {
            let store = try planning.database.existingStore()
            defer { store.close() }
            let sync = VisionOneSync(store: store, client: try planning.remote.client(policyPlatform: policyPlatform))
            let json = json
            let plan = try planning.plan(sync, force: force)
            if !json { try printLines(plan.steps.map(\.description) + plan.conflicts.map(\.description) + plan.findings.map(\.description)) }
            if plan.isRefused, json { try StandardOutput.write(ProductJSON.data(plan)) }
            let done = try remoteOperation { () async throws(SyncError) in
                try await sync.push(plan) { progress in
                    // Flushed at once: a log shows each step as it is done, even if the push is killed.
                    if !json { try? StandardOutput.line(terminalSafe(progress.description)); try? StandardOutput.flush() }
                }
            }
            if json { return try StandardOutput.write(ProductJSON.data(done)) }
            let endpoint = terminalSafe(sync.endpoint)
            let steps = "\(done.steps.count) step\(done.steps.count == 1 ? "" : "s")"
            try StandardOutput.line(done.steps.isEmpty
                ? "No change: \(endpoint) matches the database (\(done.unchanged) unchanged)."
                : "Pushed \(steps) to \(endpoint); \(done.unchanged) unchanged.")
        }
    }

    struct Pull: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the database match Vision One, in one transaction; creates the database file if it is missing.",
            discussion: """
                The plan is printed as 'import' prints it, then what Vision One holds that the \
                database does not take (names it cannot hold, Kubernetes-only parts), marked '?'. \
                A pull is refused as an import is, and then writes nothing. It overwrites changes                 made here and not pushed: 'remote plan' lists them. --dry-run with no database                 plans against an empty store.
                """)

        @OptionGroup var database: DatabaseOption
        @OptionGroup var remote: RemoteOptions
        @Flag(name: .customLong("dry-run"), help: "Print the plan and write nothing.")
        var dryRun = false
        @Flag(help: "Also delete the policies and rulesets that Vision One does not have.")
        var prune = false
        @Flag(help: "Print the plan as JSON: the steps as 'import --json' prints them, then the findings.")
        var json = false

        func run() throws {
            // As for 'import --dry-run': with no database yet, the plan against an empty store.
            let planned = dryRun ? try database.storeOrEmptyStandIn() : nil
            let client = try remote.client()
            let (prune, dryRun) = (prune, dryRun)
            let state = try remoteOperation { () async throws(SyncError) in
                do throws(VisionOneError) { return try await client.state() } catch { throw .remote(error) }
            }
            let pull = { (store: PolicyStore) throws(ExitCode) -> SyncPullResult in
                defer { store.close() }
                return try remoteOperation { () async throws(SyncError) in
                    try await VisionOneSync(store: store, client: client).pull(state, prune: prune, dryRun: dryRun)
                }
            }
            let result = try planned.map { try pull($0.store) } ?? database.create { try pull($0) }
            if json { return try StandardOutput.write(ProductJSON.data(result)) }
            try printLines(result.description)
            let path = terminalSafe(database.path)
            if result.plan.applied {
                try StandardOutput.line("Pulled \(terminalSafe(result.endpoint)) into \(path).")
            } else if planned?.isStandIn == true {
                try StandardOutput.line(
                    "Dry run: there is no database at \(path) yet, so this is the plan against an empty store; nothing was written. Run without --dry-run to create it and pull.")
            } else {
                try StandardOutput.line("Dry run: nothing was written to \(path); run without --dry-run to apply this plan.")
            }
        }
    }
}

/// What `remote plan` and `remote push` make a plan from: the database, the tenant, and
/// whether to prune. Each command says what its own `--force` does.
struct PlanOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOption
    @OptionGroup var remote: RemoteOptions
    @Flag(help: "Also delete in Vision One the policies and rulesets that the database does not have.")
    var prune = false

    /// The plan of `sync` with these options; with `force`, its steps go ahead over conflicts.
    func plan(_ sync: VisionOneSync, force: Bool) throws(ExitCode) -> SyncPlan {
        let prune = prune
        return try remoteOperation { () async throws(SyncError) in try await sync.plan(prune: prune, force: force) }
    }
}

/// Runs async work from a command's synchronous `run()`: the argument parser's root command is
/// synchronous, and only `remote` waits on a network. The calling thread waits; the work runs
/// on the concurrency pool.
private func waitFor<Value: Sendable>(_ work: @escaping @Sendable () async throws -> Value) throws -> Value {
    let outcome = Outcome<Value>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            outcome.result = .success(try await work())
        } catch {
            outcome.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

/// Where `waitFor` leaves the result: written once by the task before it signals, read once
/// by the waiting thread after, so the semaphore orders the two.
private final class Outcome<Value: Sendable>: @unchecked Sendable {
    var result: Result<Value, any Error>?
}

/// Runs one `remote` operation, with its refusals printed as every command prints the
/// library's: a store's refusal (a pull's document) as `import` prints it, the others as one
/// `error:` line with policyctl's advice.
private func remoteOperation<Value: Sendable>(_ work: @escaping @Sendable () async throws(SyncError) -> Value) throws(ExitCode) -> Value {
    try exitOnRefusal {
        do {
            return try waitFor { () async throws -> Value in try await work() }
        } catch SyncError.store(let error) {
            throw error
        }
    }
}

/// Prints text line by line, each made safe for a terminal.
private func printLines(_ text: String) throws(ExitCode) {
    try printLines(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
}

private func printLines(_ lines: [String]) throws(ExitCode) {
    for line in lines { try StandardOutput.line(terminalSafe(line)) }
}
