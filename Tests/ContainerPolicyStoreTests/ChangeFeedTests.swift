import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// `store.changes(after:)` delivers every change, of any writer, in order, once; and
/// `store.observe(policyNamed:)` follows one policy.
@Suite struct ChangeFeedTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// A store on a new WAL file; synchronous NORMAL, so that thousands of commits take no
    /// time to reach the disk.
    func fileStore(
        _ name: String = "feed.sqlite", pollInterval: Duration = .milliseconds(20)
    ) throws -> (store: PolicyStore, path: String) {
        var options = StoreOptions()
        options.synchronous = .normal
        options.actor = "feed-test"
        options.changePollInterval = pollInterval
        let path = directory.path(name)
        return (try PolicyStore(path: path, options: options), path)
    }

    @Test func aPageOfTheWholeHistoryIsInSequenceOrder() throws {
        let store = try PolicyStore.inMemory()
        #expect(try store.perform(.lastChangeSequence()) == 0)
        try store.perform(.createRuleset(named: "baseline"))
        try store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
        try store.perform(.modify(Ruleset.self, named: "baseline") { $0.description = "every cluster" })
        let all = try store.perform(.changes(after: 0, limit: 100))
        #expect(all.map(\.sequence) == [1, 2, 3])
        #expect(all.map(\.kind) == [.ruleset, .policy, .ruleset])
        #expect(all.map(\.action) == [.create, .create, .modify])
        #expect(try store.perform(.changes(after: 1, limit: 1)).map(\.sequence) == [2])
        #expect(try store.perform(.changes(after: 3, limit: 100)).isEmpty)
        #expect(try store.perform(.lastChangeSequence()) == 3)
        #expect(throws: PolicyStoreError.invalidPageSize(0)) { try store.perform(.changes(after: 0, limit: 0)) }
    }

    /// A page finds each change's life as the history of one object does, wherever the page
    /// begins: a policy deleted and created again starts a new life.
    @Test(arguments: [1, 2, 3, 100])
    func aPageGivesEachChangeItsLife(pageSize: Int) throws {
        let store = try PolicyStore.inMemory()
        try store.perform(.createPolicy(named: "web.prod"))
        try store.perform(.createRuleset(named: "baseline"))
        try store.perform(.modify(Policy.self, named: "web.prod") { $0.description = "first life" })
        try store.perform(.delete(Policy.self, named: "web.prod"))
        try store.perform(.createPolicy(named: "WEB.prod"))
        try store.perform(.modify(Policy.self, named: "web.prod") { $0.xdrEnabled = false })
        try store.perform(.assignPolicy(named: "web.prod", toCluster: Self.web))
        try store.perform(.restorePolicy(named: "web.prod", toRevision: 1))
        try store.perform(.modify(Ruleset.self, named: "baseline") { $0.description = "every cluster" })
        var paged: [Change] = []
        var page = try store.perform(.changes(after: 0, limit: pageSize))
        while let last = page.last {
            paged += page
            page = try store.perform(.changes(after: last.sequence, limit: pageSize))
        }
        let history = try store.read { tx in try tx.everyChange() }
        #expect(paged.map { $0.living(nil) } == history, "the same changes (the integrity check's read leaves lives out)")
        #expect(paged.filter { $0.kind == .policy }.map(\.life) == [1, 1, 1, 5, 5, 5])
        #expect(try store.perform(.history(ofPolicy: "web.prod", limit: pageSize)).filter { $0.kind == .policy }.map(\.life)
            == Array([1, 1, 1, 5, 5, 5].prefix(pageSize)), "a page of one policy's history knows the lives too")
        #expect(paged.filter { $0.kind == .ruleset }.map(\.life) == [2, 2])
        let cluster = try #require(paged.first { $0.kind == .cluster })
        #expect(cluster.life == nil && cluster.policy == "WEB.prod")
        #expect(paged.last { $0.kind == .policy }?.restoredRevision == 1)
    }

    static let web = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
    static let batch = "arn:aws:ecs:us-east-1:123456789012:cluster/batch"

    /// A cluster's assigns and unassigns come through the feed, the shell's too, and
    /// `belongs(to:named:)` picks out of it what each object's history holds: a policy's own
    /// changes and its clusters' assigns and unassigns.
    @Test func deliversClusterChangesAndPicksOutEachObjectsHistory() async throws {
        let (store, path) = try fileStore()
        try await store.perform(.createPolicy(named: "web.prod"))
        try await store.perform(.createPolicy(named: "other"))
        let start = try await store.perform(.lastChangeSequence())
        let consumer = FeedConsumer(store.changes(after: start))
        try await store.perform(.assignPolicy(named: "web.prod", toCluster: Self.web))
        try await store.perform(.modify(Policy.self, named: "other") { $0.xdrEnabled = false })
        try await store.perform(.assignPolicy(named: "other", toCluster: Self.web))
        try await inBackground {
            try shellEdit(path, """
                INSERT INTO clusters (arn, policy_id, assigned_at)
                SELECT '\(Self.batch)', id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM policies WHERE name = 'web.prod';
                """)
        }
        try await store.perform(.modify(Policy.self, named: "web.prod") { $0.description = "front end" })
        // The move from web.prod to other is two changes: an unassign and an assign.
        let delivered = try await consumer.waitFor(count: 6)
        #expect(delivered == (try recordedChanges(store, after: start)))
        #expect(delivered.map(\.kind) == [.cluster, .policy, .cluster, .cluster, .cluster, .policy])
        #expect(delivered.filter { $0.kind == .cluster }.map(\.action) == [.assign, .unassign, .assign, .assign])
        #expect(delivered.last { $0.kind == .cluster }?.actor == "")

        let history = try await store.read { tx throws(PolicyStoreError) in
            (
                web: try tx.history(ofPolicy: "web.prod", after: start), other: try tx.history(ofPolicy: "other", after: start),
                cluster: try tx.history(ofCluster: Self.web, after: start)
            )
        }
        #expect(delivered.filter { $0.belongs(to: .policy, named: "WEB.PROD") } == history.web)
        #expect(history.web.map(\.action) == [.assign, .unassign, .assign, .modify])
        #expect(delivered.filter { $0.belongs(to: .policy, named: "other") } == history.other)
        #expect(delivered.filter { $0.belongs(to: .cluster, named: Self.web) } == history.cluster)
        #expect(history.cluster.map(\.action) == [.assign, .unassign, .assign])
        #expect(await consumer.stop() == nil)
    }

    @Test(arguments: [false, true])
    func deliversWhatIsRecordedThenThisProcessesChangesAsTheyCommit(onFile: Bool) async throws {
        let store = onFile ? try fileStore().store : try PolicyStore.inMemory()
        try await store.perform(.createRuleset(named: "baseline"))
        try await store.perform(.createPolicy(named: "web.prod"))
        let consumer = FeedConsumer(store.changes(after: 0))
        #expect(try await consumer.waitFor(count: 2).map(\.sequence) == [1, 2])
        try await store.perform(.modify(Policy.self, named: "web.prod") { $0.addRuleset("baseline") })
        try await store.write { tx in
            try tx.modify(Policy.self, named: "web.prod") { $0.xdrEnabled = false }
            try tx.delete(Policy.self, named: "web.prod")
        }
        let changes = try await consumer.waitFor(count: 5)
        #expect(changes.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(changes.map(\.action) == [.create, .create, .link, .modify, .delete])
        #expect(changes == (try recordedChanges(store, after: 0)))
        #expect(await consumer.stop() == nil)
    }

    @Test func deliversTheChangesOfAnotherProcess() async throws {
        let (store, path) = try fileStore()
        let start = try await store.perform(.lastChangeSequence())
        let consumer = FeedConsumer(store.changes(after: start))
        _ = try await inBackground {
            try StoreStress.run(["write-changes", "--db", path, "--count", "50", "--synchronous", "normal"])
        }
        // The writer's create of its policy, then its 50 modifies.
        let changes = try await consumer.waitFor(count: 51)
        #expect(changes.count == 51)
        #expect(changes.map(\.sequence) == Array(start + 1...start + 51))
        #expect(changes.allSatisfy { $0.actor == "store-stress" && $0.name == "feed.writer" })
        #expect(changes == (try recordedChanges(store, after: start)))
        #expect(await consumer.stop() == nil)
    }

    @Test func deliversAnEditMadeInTheSqlite3Shell() async throws {
        let (store, path) = try fileStore()
        try await store.perform(.createPolicy(named: "web.prod"))
        let start = try await store.perform(.lastChangeSequence())
        let consumer = FeedConsumer(store.changes(after: start))
        try await inBackground { try shellEdit(path, "UPDATE policies SET xdr_enabled = 0 WHERE name = 'web.prod';") }
        let change = try #require(try await consumer.waitFor(count: 1).first)
        #expect(change.sequence == 2 && change.kind == .policy && change.name == "web.prod" && change.action == .modify)
        #expect(change.actor == "")
        #expect(change.before?.policy?.xdrEnabled == true && change.after?.policy?.xdrEnabled == false)
        #expect(await consumer.stop() == nil)
    }

    /// Three writers at once (this process, another process through the library, the shell),
    /// over 10,000 changes, and a consumer slower than they are: the table holds what the
    /// consumer has not read yet, and it gets every change once, in order.
    @Test func tenThousandChangesOfThreeWritersReachASlowConsumerInOrderOnce() async throws {
        let (store, path) = try fileStore()
        try await store.perform(.createPolicy(named: "local"))
        let start = try await store.perform(.lastChangeSequence())
        let consumer = FeedConsumer(store.changes(after: start)) { count in
            if count % 10 == 0 { try? await Task.sleep(for: .milliseconds(2)) }
        }
        async let otherProcess = inBackground {
            try StoreStress.run(["write-changes", "--db", path, "--count", "3000", "--synchronous", "normal"])
        }
        async let shell: Void = inBackground {
            for batch in 0..<10 {
                try shellEdit(path, """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                    INSERT INTO rulesets (name) SELECT 'shell\(batch)_' || i FROM n;
                    """)
            }
        }
        for index in 0..<3_000 {
            try await store.perform(.modify(Policy.self, named: "local") { $0.description = "local \(index)" })
        }
        _ = try await (otherProcess, shell)
        // Last, 3,000 changes in one commit: the consumer is behind them all when it lands.
        try await inBackground {
            try shellEdit(path, """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                INSERT INTO rulesets (name) SELECT 'bulk_' || i FROM n;
                """)
        }
        let behindWhenTheWritersWereDone = try await store.perform(.lastChangeSequence()) - start - consumer.count
        let recorded = try await inBackground { try recordedChanges(store, after: start) }
        let delivered = try await consumer.waitFor(count: recorded.count)
        #expect(recorded.count >= 10_000)
        #expect(behindWhenTheWritersWereDone > 1_000)
        #expect(delivered.count == recorded.count)
        #expect(delivered.map(\.sequence) == recorded.map(\.sequence))
        #expect(delivered == recorded)
        #expect(Set(delivered.map(\.actor)) == ["feed-test", "store-stress", ""])
        #expect(await consumer.stop() == nil)
    }

    @Test func resumesAfterARestartFromTheLastSequenceSeen() async throws {
        let (store, path) = try fileStore()
        for name in ["a", "b", "c"] { try await store.perform(.createPolicy(named: name)) }
        let first = FeedConsumer(store.changes(after: 0))
        let seen = try await first.waitFor(count: 3)
        #expect(await first.stop() == nil)
        store.close()
        let last = try #require(seen.last).sequence

        // While no store is open: another process, and the shell.
        try await inBackground {
            _ = try StoreStress.run(["write-changes", "--db", path, "--count", "5", "--synchronous", "normal"])
            try shellEdit(path, "UPDATE policies SET description = 'from the shell' WHERE name = 'a';")
        }

        let reopened = try fileStore().store
        let missed = try recordedChanges(reopened, after: last)
        #expect(missed.count == 7)
        let second = FeedConsumer(reopened.changes(after: last))
        let resumed = try await second.waitFor(count: 7)
        #expect(resumed == missed)
        #expect(resumed.first?.sequence == last + 1)
        try await reopened.perform(.delete(Policy.self, named: "b"))
        #expect(try await second.waitFor(count: 8).last?.action == .delete)
        #expect(await second.stop() == nil)
    }

    /// With a poll ten minutes apart, a feed that waited for its next poll to notice would
    /// take ten minutes. (The bound is loose: a full test run can keep a task from running
    /// for two minutes; alone, it ends within milliseconds.)
    @Test func cancellingTheTaskEndsAWaitingFeedPromptly() async throws {
        let (store, _) = try fileStore(pollInterval: .seconds(600))
        let consumer = FeedConsumer(store.changes(after: 0))
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        #expect(await consumer.stop() == nil)
        #expect(ContinuousClock.now - started < .seconds(240))
        #expect(consumer.count == 0)

        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            var changes = store.changes(after: 0).makeAsyncIterator()
            return try await changes.next()
        }
        try await store.perform(.createPolicy(named: "web.prod"))
        #expect(try await cancelledFirst.value == nil)
    }

    /// Closing a store ends its waiting feeds with `.storeClosed`, even while another store of
    /// the same file keeps the connections open; at once, not at the next poll (ten minutes
    /// apart here; the bound is loose for the reason above).
    @Test func closingTheStoreEndsItsWaitingFeedWithStoreClosed() async throws {
        let (store, path) = try fileStore(pollInterval: .seconds(600))
        let other = try fileStore().store
        let consumer = FeedConsumer(store.changes(after: 0))
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        store.close()
        #expect(await consumer.ending() == .storeClosed(path: path))
        #expect(ContinuousClock.now - started < .seconds(240))
        try await other.perform(.createPolicy(named: "still.open"))
    }

    /// Between polls the feed holds no read transaction, which would keep the WAL from being
    /// checkpointed: a TRUNCATE checkpoint completes at once while a feed waits.
    @Test func aWaitingFeedLetsTheWALBeCheckpointed() async throws {
        let (store, _) = try fileStore()
        try await store.perform(.createPolicy(named: "web.prod"))
        let consumer = FeedConsumer(store.changes(after: 0))
        _ = try await consumer.waitFor(count: 1)
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        let (busy, frames) = try store.withConnection { connection in
            try #require(try connection.queryFirst("PRAGMA wal_checkpoint(TRUNCATE)") { ($0.int(0), $0.int(1)) })
        }
        #expect(busy == 0 && frames == 0)
        #expect(ContinuousClock.now - started < .seconds(4), "at once, not after the 5 s busy timeout")
        #expect(await consumer.stop() == nil)
    }

    @Test func observeYieldsOnALinkAndARuleChangeAndNotOnAnotherPolicy() async throws {
        let (store, path) = try fileStore()
        try await store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001")]))
        try await store.perform(.createRuleset(named: "strict"))
        try await store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
        try await store.perform(.createPolicy(named: "other"))
        var values = store.observe(policyNamed: "WEB.PROD").makeAsyncIterator()

        let first = try #require(try await values.next() ?? nil)
        #expect(first.policy.name == "web.prod" && first.policy.revision == 1)
        #expect(first.rulesets.map(\.name) == ["baseline"])

        // Neither touches web.prod: the next value is the link's.
        try await store.perform(.modify(Policy.self, named: "other") { $0.xdrEnabled = false })
        try await store.perform(.modify(Ruleset.self, named: "strict") { $0.description = "not linked yet" })
        try await inBackground {
            try shellEdit(path, """
                INSERT INTO policy_rulesets (policy_id, ruleset_id)
                SELECT p.id, r.id FROM policies AS p, rulesets AS r WHERE p.name = 'web.prod' AND r.name = 'strict';
                """)
        }
        let linked = try #require(try await values.next() ?? nil)
        #expect(linked.policy.revision == 2 && linked.policy.rulesets == ["baseline", "strict"])
        #expect(linked.rulesets.map(\.name) == ["baseline", "strict"])
        #expect(linked.rulesets.last?.description == "not linked yet")

        try await store.perform(.modify(Ruleset.self, named: "strict") { $0.rules = [RuleReference(id: "TM-00000002", mitigation: .isolate)] })
        let ruleChanged = try #require(try await values.next() ?? nil)
        #expect(ruleChanged.policy == linked.policy)
        #expect(ruleChanged.rulesets.last?.rules == [RuleReference(id: "TM-00000002", mitigation: .isolate)])

        try await store.perform(.delete(Policy.self, named: "web.prod"))
        let deleted = try #require(try await values.next())
        #expect(deleted == nil)
    }

    @Test func observeStartsWithNilForAMissingPolicyAndEndsOnCancellation() async throws {
        let store = try PolicyStore.inMemory()
        var values = store.observe(policyNamed: "web.prod").makeAsyncIterator()
        let missing = try await values.next()
        #expect(missing == .some(nil))
        try await store.perform(.createPolicy(named: "web.prod"))
        let created = try await values.next()
        #expect(created??.policy.name == "web.prod")

        let waiting = Task { () -> PolicyWithRulesets?? in
            var values = store.observe(policyNamed: "web.prod").makeAsyncIterator()
            _ = try await values.next()
            return try await values.next()
        }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        let ending = try await waiting.value
        #expect(ending == nil)
    }
}
