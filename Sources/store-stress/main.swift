// store-stress: the workload driver of the reliability suites (Tests/ReliabilityTests,
// Docs/reliability.md). It links the library as any program would and uses only its public
// API.
//
//   store-stress crash --db PATH --tag T --seed N [--ops N] [--journal wal|rollback] [--synchronous full|normal] [--unsafe-duplicate]
//   store-stress concurrency-setup --db PATH        (once, before the workers)
//   store-stress concurrency --db PATH --worker W --threads T --ops N --increments C --seed S
//   store-stress probe --db PATH [--read-only] [--no-create] [--timeout-ms N] ACTION...
//   store-stress import-json --db PATH FILE [--dry-run]
//   store-stress write-changes --db PATH --count N [--policy NAME] [--pause-ms N]
//
// Exit codes: 0 done, 1 the workload met an unexpected refusal, 2 an operation failed, 64
// usage error.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let status: Int32
do {
    let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
    switch arguments.command {
    case "crash": status = try CrashWorkload.run(arguments)
    case "concurrency": status = try ConcurrencyWorkload.run(arguments)
    case "concurrency-setup":
        try ConcurrencyWorkload.prepare(StressStore.open(path: arguments.string("db"), options: StressStore.options(arguments)))
        status = 0
    case "probe": status = try Probe.run(arguments)
    case "import-json": status = try ImportJSON.run(arguments)
    case "write-changes": status = try ChangeWriter.run(arguments)
    default: throw UsageError("unknown command \(arguments.command)")
    }
} catch let error as UsageError {
    Output.error("store-stress: \(error)")
    status = 64
} catch {
    Output.error("store-stress: \(error)")
    status = 2
}
exit(status)
