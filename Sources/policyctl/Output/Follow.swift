import ArgumentParser
import ContainerPolicyStore
import Foundation

/// `--follow` and `--from` of the history commands.
struct FollowOptions: ParsableArguments {
    @Flag(help: "Keep printing changes as they are committed, by any program (the sqlite3 shell too), one line each, until interrupted.")
    var follow = false

    @Option(help: ArgumentHelp(
        "Start with the change numbered SEQUENCE (default: the first; with --follow, the next one committed).",
        valueName: "sequence"))
    var from: Int?

    func validate() throws {
        if let from, from < 1 { throw ValidationError("--from takes the sequence of a change, 1 or more, not \(from)") }
    }

    /// The sequence the output starts after: before `--from`, else (following) the last
    /// change recorded now, else none.
    func start(_ store: PolicyStore) throws(ExitCode) -> Int {
        if let from { return from - 1 }
        return follow ? try exitOnRefusal { try store.perform(.lastChangeSequence()) } : 0
    }
}

/// Prints every change after `sequence` that `includes` takes, old ones first, then each new
/// one the moment it is committed, flushed line by line, like `tail -f`: as text
/// (`historyLine`) or as one JSON object per line. Runs until SIGINT or SIGTERM, which end it
/// cleanly: the lines printed are whole, and the command exits 0. A reader that goes away
/// ends it with SIGPIPE, as it does every command.
func followHistory(
    _ store: PolicyStore, after sequence: Int, json: Bool, including includes: @escaping @Sendable (Change) -> Bool
) throws(ExitCode) {
    // The signals stop the feed instead of the process.
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    // One task that prints: its writes to standard output may block while a pipe is full,
    // which holds one thread of the cooperative pool and nothing else.
    let following = Task {
        for try await change in store.changes(after: sequence) where includes(change) {
            try StandardOutput.write(json ? ProductJSON.line(change) : Data((historyLine(change) + "\n").utf8))
            try StandardOutput.flush()
        }
    }
    let interruptions = [SIGINT, SIGTERM].map { number in
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { following.cancel() }
        source.resume()
        return source
    }
    defer { interruptions.forEach { $0.cancel() } }
    let ending = Ending()
    Task {
        ending.result = await following.result
        ending.done.signal()
    }
    ending.done.wait()
    if case .failure(let error) = ending.result {
        try exitOnRefusal { throw error }
    }
}

/// How the following task ended, handed to the main thread, which waits for it.
private final class Ending: @unchecked Sendable {
    /// Written once, before `done` is signalled; read after.
    var result: Result<Void, any Error> = .success(())
    let done = DispatchSemaphore(value: 0)
}
