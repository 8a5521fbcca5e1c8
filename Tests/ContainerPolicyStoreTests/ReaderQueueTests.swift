import Foundation
import Synchronization
import Testing
import ContainerPolicyStore

/// Where a store's async reads run, seen from the rest of the process.
@Suite struct ReaderQueueTests {
    /// Sixteen async reads wait inside their transactions until all sixteen are inside, or
    /// 10 s have passed: reads run side by side up to `maximumReaderCount` on any machine.
    /// Run on a concurrent dispatch queue, they could not: on Linux those queues share one
    /// pool of threads, about as many as there are cores, with the tasks of Swift's
    /// cooperative pool, and it grows by about a thread a second. So a few long reads also
    /// held up every task of the process. Each reader connection has a serial queue of its own.
    @Test func asyncReadsRunSideBySideUpToTheReaderCountWhateverTheCores() async throws {
        let readers = 16
        let directory = try TemporaryDirectory()
        var options = StoreOptions()
        options.maximumReaderCount = readers
        let store = try PolicyStore(path: directory.path("reads.sqlite"), options: options)
        try await store.perform(.createPolicy(named: "web"))

        let inside = ReadersInside()
        let started = ContinuousClock.now
        let deadline = started + .seconds(10)
        // The tasks run on a thread of their own: in a full test run, the cooperative pool's
        // queue holds hundreds of tests, and a task that waits there for its turn would make
        // the reads late for another reason.
        let counts = try await withTaskExecutorPreference(OwnThreadExecutor()) {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<readers {
                    group.addTask {
                        try await store.read { tx throws(PolicyStoreError) in
                            inside.count.add(1, ordering: .acquiringAndReleasing)
                            while inside.count.load(ordering: .acquiring) < readers, ContinuousClock.now < deadline {
                                Thread.sleep(forTimeInterval: 0.001)
                            }
                            return try tx.count(Policy.self)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let waited = ContinuousClock.now - started
        #expect(ContinuousClock.now < deadline, "the reads ran side by side only after \(waited)")
        #expect(counts == Array(repeating: 1, count: readers))
    }
}

/// How many reads are inside their transactions.
private final class ReadersInside: Sendable {
    let count = Atomic<Int>(0)
}

/// Runs the jobs of the tasks that prefer it on one serial dispatch queue, which gets a thread
/// of its own, outside the cooperative pool.
private final class OwnThreadExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "ReaderQueueTests tasks")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
