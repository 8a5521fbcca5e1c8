import ContainerPolicyStore
import Foundation

/// `store-stress write-changes --db PATH --count N [--policy NAME] [--pause-ms N]`
///
/// Another process that writes through the library, for the change feed's tests: `N`
/// changes, each a transaction of its own, modifies of the policy `NAME` (default
/// `feed.writer`, created first when it is missing, which is one change more), `--pause-ms`
/// apart (default 0). Prints `wrote N changes, the last one sequence S`, and exits 0.
enum ChangeWriter {
    static func run(_ arguments: Arguments) throws -> Int32 {
        let store = try StressStore.open(path: try arguments.string("db"), options: try StressStore.options(arguments))
        let count = try arguments.int("count", default: 100)
        let pause = try arguments.int("pause-ms", default: 0)
        let name = arguments.string("policy", default: "feed.writer")
        if try store.perform(.fetch(Policy.self, named: name)) == nil { try store.perform(.createPolicy(named: name)) }
        for index in 0..<count {
            try store.perform(.modify(Policy.self, named: name) { $0.description = "change \(index)" })
            if pause > 0 { Thread.sleep(forTimeInterval: Double(pause) / 1_000) }
        }
        Output.line("wrote \(count) changes, the last one sequence \(try store.perform(.lastChangeSequence()))")
        return 0
    }
}
