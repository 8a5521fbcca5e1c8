import Foundation
import Synchronization
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// The store as a Swift 6 dependency: transactions that cannot outlive their closure, async
/// calls that suspend and honour cancellation, readers beside the writer, typed errors, and
/// what happens after `close()`.
@Suite struct ConcurrencyAPITests {
    let directory: TemporaryDirectory
    let path: String
    let store: PolicyStore

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("concurrency.sqlite")
        store = try PolicyStore(path: path)
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001")]))
        try store.perform(.createPolicy(named: "web", rulesets: ["baseline"]))
    }

    // MARK: A transaction cannot leave its closure

    @Test func keepingATransactionDoesNotCompile() throws {
        let leak = """
            import ContainerPolicyStore
            func leak(_ store: PolicyStore) throws {
                var kept: StoreTransaction?
                try store.read { tx in kept = tx }
                _ = kept
            }
            """
        let refused = try typeCheck(leak)
        #expect(refused.status != 0)
        #expect(refused.output.contains("implicit conversion to 'StoreTransaction?' is consuming"), "\(refused.output)")

        let consumed = try typeCheck(leak.replacingOccurrences(of: "kept = tx", with: "kept = consume tx"))
        #expect(consumed.status != 0)
        #expect(consumed.output.contains("'tx' is borrowed and cannot be consumed"), "\(consumed.output)")

        // The same code without the leak compiles: the failures above are the leak's.
        let borrowed = try typeCheck(leak.replacingOccurrences(of: "kept = tx", with: "_ = try tx.count(Policy.self)"))
        #expect(borrowed.status == 0, "\(borrowed.output)")
    }

    /// What the compiler cannot see (a transaction's innards kept through `@testable`, as
    /// unsafe code could) is refused at run time, while another task writes, and the file
    /// stays whole.
    @Test func aLeakedTransactionIsRefusedAndNeverTouchesTheFile() async throws {
        nonisolated(unsafe) var leaked: TransactionScope?
        try await store.read { tx in leaked = tx.scope }
        let kept = StoreTransaction(scope: try #require(leaked))

        let box = LeakedScope()
        try await store.write { tx in box.scope = tx.scope }
        let keptAsync = StoreTransaction(scope: try #require(box.scope))

        let store = store
        let writer = Task.detached {
            for index in 0..<200 { try await store.perform(.createPolicy(named: "w\(index)")) }
        }
        for _ in 0..<200 {
            #expect(throws: PolicyStoreError.transactionEnded) { try kept.count(Policy.self) }
            #expect(throws: PolicyStoreError.transactionEnded) { try keptAsync.createPolicy(named: "leaked") }
        }
        try await writer.value
        #expect(try await store.perform(.count(Policy.self)) == 201)
        #expect(try await store.perform(.fetch(Policy.self, named: "leaked")) == nil)
        try expectHealthy(store)
        let shell = try sqliteShell(path, "PRAGMA integrity_check;")
        #expect(shell.output == "ok\n")
    }

    // MARK: Async calls

    /// The holder keeps the writer until the cancelled waiter has given up, or 300 s.
    @Test func aCancelledWaitThrowsCancellationErrorAndWritesNothing() async throws {
        let holding = DispatchSemaphore(value: 0)
        let gaveUp = DispatchSemaphore(value: 0)
        let releasedOnTimeout = Atomic<Bool>(false)
        let store = store
        Thread {
            _ = try? store.write { tx in
                try tx.createPolicy(named: "holder")
                holding.signal()
                if gaveUp.wait(timeout: .now() + 300) == .timedOut {
                    releasedOnTimeout.store(true, ordering: .releasing)
                }
            }
        }.start()
        holding.wait()
        let waiter = Task { try await store.perform(.createPolicy(named: "waiter")) }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        let stillHeld = !releasedOnTimeout.load(ordering: .acquiring)
        gaveUp.signal()
        #expect(stillHeld, "the cancelled task waited for the writer instead of giving up")
        // The writer is free again, and the cancelled write never ran.
        try await store.perform(.createPolicy(named: "after"))
        #expect(try await store.perform(.fetch(Policy.self, named: "holder")) != nil)
        #expect(try await store.perform(.fetch(Policy.self, named: "waiter")) == nil)
    }

    @Test func aCancelledRunningWriteRollsBack() async throws {
        let started = DispatchSemaphore(value: 0)
        let cancelled = DispatchSemaphore(value: 0)
        let store = store
        let task = Task {
            try await store.write { tx in
                _ = try tx.createPolicy(named: "first")
                started.signal()
                cancelled.wait()
                // Every operation after the cancellation is refused.
                do {
                    try tx.createPolicy(named: "second")
                    Issue.record("an operation ran after the task was cancelled")
                } catch PolicyStoreError.cancelled {
                } catch {
                    Issue.record("unexpected \(error)")
                }
                // A closure that swallows the error still does not commit.
                return 1
            }
        }
        started.wait()
        task.cancel()
        cancelled.signal()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await store.perform(.fetch(Policy.self, named: "first")) == nil)
        #expect(try await store.perform(.count(Policy.self)) == 1)
        try expectHealthy(store)
    }

    @Test func cancellingALongImportInterruptsItAndLeavesNothing() async throws {
        let document = PolicyDocument(
            rulesets: [PolicyDocument.RulesetEntry(name: "imported")],
            policies: (0..<20_000).map { PolicyDocument.PolicyEntry(name: "p\($0)", rulesets: ["imported"]) })
        let store = store
        let task = Task { try await store.perform(.importDocument(document)) }
        try await Task.sleep(for: .milliseconds(150))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await store.perform(.count(Policy.self)) == 1)
        #expect(try await store.perform(.fetch(Ruleset.self, named: "imported")) == nil)
        try expectHealthy(store)
    }

    /// A write holds the writer until a probe task has run, or 300 s have passed. If the 16
    /// writers queued behind it each blocked a thread of Swift's cooperative pool (2 threads
    /// on 2 cores), the probe could not run before the writer let go.
    @Test func waitingWritesDoNotHoldThreadsOfTheCooperativePool() async throws {
        let store = store
        let probeRan = DispatchSemaphore(value: 0)
        let holderReleasedOnTimeout = Atomic<Bool>(false)
        let holding = DispatchSemaphore(value: 0)
        Thread {
            _ = try? store.write { _ in
                holding.signal()
                if probeRan.wait(timeout: .now() + 300) == .timedOut {
                    holderReleasedOnTimeout.store(true, ordering: .releasing)
                }
            }
        }.start()
        holding.wait()
        let waiters = (0..<16).map { index in
            Task { try await store.perform(.createPolicy(named: "queued\(index)")) }
        }
        try await Task.sleep(for: .milliseconds(50))
        await Task { _ = probeRan.signal() }.value
        for waiter in waiters { _ = try await waiter.value }
        let timedOut = holderReleasedOnTimeout.load(ordering: .acquiring)
        #expect(!timedOut, "the probe ran only after the writer let go")
        #expect(try await store.perform(.count(Policy.self)) == 17)
    }

    // MARK: Readers beside the writer

    /// The write holds its transaction until the reads are done, or 300 s have passed: a read
    /// that waited for the write would see the write released by the timeout.
    @Test func aReadReturnsTheLastCommitWithoutWaitingForALongWrite() async throws {
        let holding = DispatchSemaphore(value: 0)
        let readsDone = DispatchSemaphore(value: 0)
        let releasedOnTimeout = Atomic<Bool>(false)
        let store = store
        Thread {
            _ = try? store.write { tx in
                try tx.createPolicy(named: "uncommitted")
                try tx.modify(Policy.self, named: "web") { $0.xdrEnabled = false }
                holding.signal()
                if readsDone.wait(timeout: .now() + 300) == .timedOut {
                    releasedOnTimeout.store(true, ordering: .releasing)
                }
            }
        }.start()
        holding.wait()
        let (count, web) = try await store.read { tx throws(PolicyStoreError) in
            (try tx.count(Policy.self), try tx.fetch(Policy.self, named: "web"))
        }
        let asyncWeb = try await store.perform(.fetch(Policy.self, named: "web"))
        let writerStillHeld = !releasedOnTimeout.load(ordering: .acquiring)
        readsDone.signal()
        #expect(writerStillHeld, "the reads waited for the write")
        #expect(count == 1)
        #expect(web?.xdrEnabled == true)
        #expect(asyncWeb?.revision == 1)
    }

    @Test func readsOfOneTransactionSeeOneSnapshot() throws {
        let seen = try store.read { tx throws(PolicyStoreError) in
            let before = try tx.count(Policy.self)
            // A write from another thread commits between the two reads.
            let committed = DispatchSemaphore(value: 0)
            let store = store
            Thread {
                _ = try? store.perform(.createPolicy(named: "meanwhile"))
                committed.signal()
            }.start()
            committed.wait()
            return (before, try tx.count(Policy.self))
        }
        #expect(seen.0 == 1)
        #expect(seen.1 == 1)
        #expect(try store.perform(.count(Policy.self)) == 2)
    }

    // MARK: One writer per file per process

    @Test func twoStoresOnOneFileShareTheWriter() throws {
        let second = try PolicyStore(path: path)
        let started = ContinuousClock.now
        #expect(throws: PolicyStoreError.reentrantCall) {
            try store.write { _ throws(PolicyStoreError) in try second.perform(.createPolicy(named: "inner")) }
        }
        #expect(ContinuousClock.now - started < .seconds(4), "refused at once, not after the 5 s busy timeout")
        try second.perform(.createPolicy(named: "api"))
        #expect(try store.perform(.fetch(Policy.self, named: "api")) != nil)
    }

    @Test func theSharedWriterKeepsTheStrongestDurabilityAskedFor() throws {
        var normal = StoreOptions()
        normal.synchronous = .normal
        let normalPath = directory.path("normal.sqlite")
        let first = try PolicyStore(path: normalPath, options: normal)
        #expect(try first.withConnection { try $0.queryFirst("PRAGMA synchronous") { $0.int(0) } } == 1)
        let second = try PolicyStore(path: normalPath)
        #expect(try first.withConnection { try $0.queryFirst("PRAGMA synchronous") { $0.int(0) } } == 2)
        _ = try PolicyStore(path: normalPath, options: normal)
        #expect(try second.withConnection { try $0.queryFirst("PRAGMA synchronous") { $0.int(0) } } == 2)
    }

    @Test func anotherConnectionsLockIsWaitedForUpToTheBusyTimeout() throws {
        var options = StoreOptions()
        options.busyTimeout = .milliseconds(300)
        let busyPath = directory.path("busy.sqlite")
        let store = try PolicyStore(path: busyPath, options: options)
        // Another connection, as another process would hold it.
        let holder = try Connection(.file(path: busyPath), options: ConnectionOptions())
        try holder.execute("BEGIN IMMEDIATE")
        let started = ContinuousClock.now
        let error = #expect(throws: PolicyStoreError.self) { try store.perform(.createPolicy(named: "late")) }
        let waited = ContinuousClock.now - started
        try holder.execute("ROLLBACK")
        guard case .busy? = error else {
            Issue.record("expected busy, got \(String(describing: error))")
            return
        }
        #expect(waited >= .milliseconds(250))
        #expect(waited < .seconds(4), "not the default 5 s")
        try store.perform(.createPolicy(named: "later"))
    }

    // MARK: Typed errors, and the caller's own

    @Test func typedCatchesAfterWriteCompile() throws {
        var caught: (name: String, actual: Int)?
        do {
            try store.write { tx throws(PolicyStoreError) in
                try tx.modify(Policy.self, named: "web", expectedRevision: 7) { $0.xdrEnabled = false }
            }
        } catch .revisionConflict(_, let name, _, let actual) {
            caught = (name, actual)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(caught?.name == "web")
        #expect(caught?.actual == 1)

        let count = try store.read { tx throws(PolicyStoreError) in try tx.count(Policy.self) }
        #expect(count == 1)
    }

    struct Stop: Error, Equatable {}

    @Test func theCallersOwnErrorIsRethrownUnchanged() async throws {
        #expect(throws: Stop()) { try store.write { tx in try tx.createPolicy(named: "a"); throw Stop() } }
        #expect(throws: Stop()) { try store.read { _ in throw Stop() } }
        #expect(throws: Stop()) { try store.read { tx in try tx.export { _ in throw Stop() } } }
        await #expect(throws: Stop()) { try await store.write { tx in try tx.createPolicy(named: "b"); throw Stop() } }
        await #expect(throws: Stop()) { try await store.read { tx in try tx.export { _ in throw Stop() } } }
        #expect(try await store.perform(.count(Policy.self)) == 1, "nothing of the failed writes was kept")
    }

    // MARK: Closing

    @Test func closeIsIdempotentAndLaterCallsAreRefused() async throws {
        store.close()
        store.close()
        #expect(throws: PolicyStoreError.storeClosed(path: path)) { try store.perform(.count(Policy.self)) }
        #expect(throws: PolicyStoreError.storeClosed(path: path)) { try store.write { _ throws(PolicyStoreError) in } }
        await #expect(throws: PolicyStoreError.storeClosed(path: path)) { try await store.perform(.count(Policy.self)) }
        // The file's connections are closed: the writer checkpointed and removed the WAL.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(try await PolicyStore(path: path).perform(.count(Policy.self)) == 1)
    }

    @Test func aReleasedStoreClosesItsFile() throws {
        let other = directory.path("released.sqlite")
        do {
            let store = try PolicyStore(path: other)
            try store.perform(.createPolicy(named: "kept"))
            #expect(FileManager.default.fileExists(atPath: other + "-wal"))
        }
        #expect(!FileManager.default.fileExists(atPath: other + "-wal"))
        #expect(try PolicyStore(path: other).perform(.fetch(Policy.self, named: "kept")) != nil)
    }

    @Test func closeWaitsForTheWriteRunningOnAnotherThread() throws {
        let holding = DispatchSemaphore(value: 0)
        let finished = Atomic<Bool>(false)
        let store = store
        Thread {
            try? store.write { tx in
                holding.signal()
                Thread.sleep(forTimeInterval: 0.3)
                try tx.createPolicy(named: "late")
                finished.store(true, ordering: .releasing)
            }
        }.start()
        holding.wait()
        store.close()
        let writeFinished = finished.load(ordering: .acquiring)
        #expect(writeFinished)
        #expect(try PolicyStore(path: path).perform(.fetch(Policy.self, named: "late")) != nil)
    }

    // MARK: Helpers

    /// Type-checks `source` against the library as this test run built it.
    private func typeCheck(_ source: String) throws -> (status: Int32, output: String) {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let modules = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("Modules")
        try #require(FileManager.default.fileExists(atPath: modules.appendingPathComponent("ContainerPolicyStore.swiftmodule").path))
        let file = directory.path("leak.swift")
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swiftc", "-swift-version", "6", "-emit-sil", "-o", "/dev/null", "-I", modules.path,
            "-I", packageRoot.appendingPathComponent("Sources/CSQLite").path, file,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

/// Where an async closure hands a transaction's scope out, as unsafe code could.
private final class LeakedScope: @unchecked Sendable {
    var scope: TransactionScope?
}
