import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

@Suite struct StoreTests {
    let directory: TemporaryDirectory
    let store: PolicyStore
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        (store, path) = try makeStore(in: directory)
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createRuleset(named: "strict", rules: [RuleReference(id: "TM-00000002")]))
        try store.perform(.createPolicy(named: "web", description: "Front end", rulesets: ["baseline"]))
    }

    @Test func everyRefusedOperationLeavesTheDatabaseUnchanged() throws {
        try store.perform(.createPolicy(named: "webPolicy"))
        let before = try snapshot(store)
        let refusals: [(String, () throws -> Void)] = [
            ("bad name", { try store.perform(.createPolicy(named: "bad name")) }),
            ("taken", { try store.perform(.createPolicy(named: "WEB")) }),
            ("missing ruleset", { try store.perform(.createPolicy(named: "api", rulesets: ["baseline", "nope"])) }),
            ("long description", { try store.perform(.createPolicy(named: "api", description: String(repeating: "x", count: 1_001))) }),
            ("NUL description", { try store.perform(.createPolicy(named: "api", description: "a\u{0}b")) }),
            ("duplicate taken", { try store.perform(.duplicate(Policy.self, named: "web")) }),
            ("duplicate missing", { try store.perform(.duplicate(Policy.self, named: "nope")) }),
            ("modify missing", { try store.perform(.modify(Policy.self, named: "nope") { $0.xdrEnabled = false }) }),
            ("modify stale", { try store.perform(.modify(Policy.self, named: "web", expectedRevision: 7) { $0.xdrEnabled = false }) }),
            ("modify unknown ruleset", { try store.perform(.modify(Policy.self, named: "web") { $0.xdrEnabled = false; $0.addRuleset("nope") }) }),
            ("modify long description", { try store.perform(.modify(Policy.self, named: "web") { $0.description = String(repeating: "y", count: 2_000) }) }),
            ("delete missing", { try store.perform(.delete(Policy.self, named: "nope")) }),
            ("ruleset in use", { try store.perform(.delete(Ruleset.self, named: "baseline")) }),
            ("bad rule", { try store.perform(.createRuleset(named: "r", rules: [RuleReference(id: "TM-1")])) }),
            ("bad rule on modify", { try store.perform(.modify(Ruleset.self, named: "strict") { $0.rules.append(RuleReference(id: "bad")) }) }),
            ("ruleset copy too long", { try store.perform(.duplicate(Ruleset.self, named: "strict", as: String(repeating: "s", count: 65))) }),
            ("page size", { _ = try store.perform(.list(Policy.self, limit: 0)) }),
        ]
        for (label, refusal) in refusals {
            #expect(throws: PolicyStoreError.self, "\(label)") { try refusal() }
            #expect(try snapshot(store) == before, "\(label) wrote something")
        }
        try expectHealthy(store)
    }

    @Test func modifyChangesOnlyWhatDiffersAndCountsOneRevision() throws {
        let web = try #require(try store.perform(.fetch(Policy.self, named: "web")))
        #expect(web.revision == 1)  // created with its ruleset: one operation, one revision
        let unchanged = try store.perform(.modify(Policy.self, named: "web") { _ in })
        #expect(unchanged.revision == web.revision)
        #expect(unchanged.updatedAt == web.updatedAt)
        let modified = try store.perform(.modify(Policy.self, named: "web", expectedRevision: web.revision) { policy in
            policy.xdrEnabled = false
            policy.removeRuleset("BASELINE")
            policy.addRuleset("strict")
        })
        #expect(modified.xdrEnabled == false)
        #expect(modified.rulesets == ["strict"])
        #expect(modified.revision == web.revision + 1)
        #expect(modified.updatedAt >= web.updatedAt)
        #expect(modified.rulesetsUpdatedAt >= web.rulesetsUpdatedAt)
        #expect(modified.createdAt == web.createdAt)
        try expectHealthy(store)
    }

    @Test func aStaleExpectedRevisionIsRefusedAndChangesNothing() throws {
        let web = try #require(try store.perform(.fetch(Policy.self, named: "web")))
        // Someone changes the policy at the shell after we read it.
        let shell = try sqliteShell(path, "UPDATE policies SET description = 'changed at the shell' WHERE name = 'web';")
        #expect(shell.succeeded, "\(shell.errorOutput)")
        let before = try snapshot(store)
        let error = #expect(throws: PolicyStoreError.revisionConflict(.policy, name: "web", expected: web.revision, actual: web.revision + 1)) {
            try store.perform(.modify(Policy.self, named: "web", expectedRevision: web.revision) { $0.description = "mine" })
        }
        #expect(error?.description.contains("read it again") == true)
        #expect(try snapshot(store) == before)
        #expect(try store.perform(.fetch(Policy.self, named: "web"))?.description == "changed at the shell")
    }

    @Test func duplicatingAPolicyWithTwentyRulesetsIsOneTransaction() throws {
        let names = (1...20).map { String(format: "rs%02d", $0) }
        for name in names { try store.perform(.createRuleset(named: name)) }
        try store.perform(.createPolicy(named: "big", rulesets: names))
        let before = try snapshot(store)
        // A failure injected after the tenth link of the copy.
        try store.withConnection { connection in
            try connection.execute("""
                CREATE TEMP TRIGGER fail_midway AFTER INSERT ON main.policy_rulesets
                WHEN (SELECT count(*) FROM main.policy_rulesets WHERE policy_id = NEW.policy_id) = 10
                 AND NEW.policy_id = (SELECT id FROM main.policies WHERE name = 'bigPolicy')
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
                """)
        }
        let error = #expect(throws: PolicyStoreError.self) { try store.perform(.duplicate(Policy.self, named: "big")) }
        guard case .sqlite(let sqliteError)? = error else {
            Issue.record("expected the injected SQLite error, got \(String(describing: error))")
            return
        }
        #expect(sqliteError.message == "injected failure")
        #expect(try snapshot(store) == before)
        #expect(try store.perform(.fetch(Policy.self, named: "bigPolicy")) == nil)
        try store.withConnection { try $0.execute("DROP TRIGGER temp.fail_midway") }
        #expect(try store.perform(.duplicate(Policy.self, named: "big")).rulesets == names)
        try expectHealthy(store)
    }

    @Test func writeRunsSeveralOperationsAsOne() throws {
        struct Abandon: Error {}
        let before = try snapshot(store)
        #expect(throws: Abandon.self) {
            try store.write { tx in
                try tx.createRuleset(named: "extra")
                try tx.createPolicy(named: "api", rulesets: ["extra"])
                try tx.modify(Policy.self, named: "web") { $0.addRuleset("extra") }
                throw Abandon()
            }
        }
        #expect(try snapshot(store) == before)
        // A store error inside write arrives as a PolicyStoreError and undoes the earlier work.
        #expect(throws: PolicyStoreError.notFound(.ruleset, name: "missing")) {
            try store.write { tx in
                try tx.createPolicy(named: "api")
                try tx.createPolicy(named: "worker", rulesets: ["missing"])
            }
        }
        #expect(try snapshot(store) == before)
        let count = try store.write { tx in
            try tx.createRuleset(named: "extra")
            try tx.createPolicy(named: "api", rulesets: ["extra"])
            return try tx.count(Policy.self)
        }
        #expect(count == 2)
        try expectHealthy(store)
    }

    @Test func insideWriteEachOperationIsAllOrNothingOnItsOwn() throws {
        let names = (1...12).map { "rs\($0)" }
        for name in names { try store.perform(.createRuleset(named: name)) }
        try store.perform(.createPolicy(named: "big", rulesets: names))
        try store.withConnection { connection in
            try connection.execute("""
                CREATE TEMP TRIGGER fail_midway AFTER INSERT ON main.policy_rulesets
                WHEN (SELECT count(*) FROM main.policy_rulesets WHERE policy_id = NEW.policy_id) = 6
                 AND NEW.policy_id = (SELECT id FROM main.policies WHERE name = 'bigPolicy')
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
                """)
        }
        let caught = try store.write { tx -> String in
            try tx.createPolicy(named: "before")
            var caught = ""
            do {
                try tx.duplicate(Policy.self, named: "big")
            } catch {
                caught = "\(error)"
            }
            try tx.createPolicy(named: "after")
            return caught
        }
        #expect(caught.contains("injected failure"))
        #expect(try store.perform(.fetch(Policy.self, named: "before")) != nil && store.perform(.fetch(Policy.self, named: "after")) != nil)
        #expect(try store.perform(.fetch(Policy.self, named: "bigPolicy")) == nil)
        #expect(throws: PolicyStoreError.notFound(.policy, name: "bigPolicy"), "no trace, not even in the history") {
            try store.perform(.history(ofPolicy: "bigPolicy"))
        }
        try expectHealthy(store)
    }

    @Test func aReadCannotWrite() throws {
        let before = try snapshot(store)
        #expect(throws: PolicyStoreError.self) {
            try store.read { tx in try tx.createPolicy(named: "sneaky") }
        }
        #expect(try snapshot(store) == before)
        #expect(try store.perform(.createPolicy(named: "allowed")).name == "allowed")
    }

    @Test func callingTheStoreFromInsideItsOwnClosureIsRefusedNotADeadlock() throws {
        let error = #expect(throws: PolicyStoreError.self) {
            try store.write { _ in try store.perform(.createPolicy(named: "inner")) }
        }
        #expect(error?.description.contains("use the closure's transaction") == true)
        #expect(try store.perform(.fetch(Policy.self, named: "inner")) == nil)
        #expect(throws: PolicyStoreError.self) { try store.read { _ in try store.perform(.count(Policy.self)) } }
    }

    @Test func readSeesOneConsistentState() throws {
        let (count, names) = try store.read { tx in
            (try tx.count(Policy.self), try tx.list(Policy.self).map(\.name))
        }
        #expect(count == names.count)
    }

    @Test func listsAreSortedByNameIgnoringCaseAndPaged() throws {
        let names = (0..<250).map { index in index.isMultiple(of: 2) ? "P\(index)" : "p\(index)_x" }
        try store.write { tx in
            for name in names { try tx.createPolicy(named: name) }
        }
        var seen: [String] = []
        var page = try store.perform(.list(Policy.self, limit: 100))
        while let last = page.last {
            #expect(page.count <= 100)
            seen += page.map(\.name)
            page = try store.perform(.list(Policy.self, after: last.name, limit: 100))
        }
        let expected = (names + ["web"]).sorted { $0.lowercased() < $1.lowercased() }
        #expect(seen == expected)
        #expect(try store.perform(.count(Policy.self)) == 251)
        #expect(throws: PolicyStoreError.invalidPageSize(10_001)) {
            try store.perform(.list(Policy.self, limit: 10_001))
        }
    }

    @Test func lookupIgnoresLetterCase() throws {
        #expect(try store.perform(.fetch(Policy.self, named: "WEB"))?.name == "web")
        #expect(try store.perform(.fetch(Ruleset.self, named: "Baseline"))?.name == "baseline")
        #expect(try store.perform(.fetch(Policy.self, named: "nope")) == nil)
    }

    @Test func deletingAPolicyRemovesItsLinksButKeepsItsRulesets() throws {
        try store.perform(.delete(Policy.self, named: "WEB"))
        #expect(try store.perform(.fetch(Policy.self, named: "web")) == nil)
        #expect(try store.perform(.policies(usingRuleset: "baseline")).isEmpty)
        try store.perform(.delete(Ruleset.self, named: "baseline"))
        try expectHealthy(store)
        #expect(throws: PolicyStoreError.notFound(.policy, name: "web")) { try store.perform(.delete(Policy.self, named: "web")) }
    }

    @Test func modifyingARulesetWritesOnlyTheRulesThatDiffer() throws {
        let before = try #require(try store.perform(.fetch(Ruleset.self, named: "baseline")))
        let after = try store.perform(.modify(Ruleset.self, named: "baseline", expectedRevision: before.revision) { ruleset in
            ruleset.description = "Basics"
            ruleset.rules = [
                RuleReference(id: "TM-00000001", mitigation: .isolate),
                RuleReference(id: "TM-00000003"),
            ]
        })
        #expect(after.rules == [RuleReference(id: "TM-00000001", mitigation: .isolate), RuleReference(id: "TM-00000003")])
        #expect(after.description == "Basics")
        #expect(after.revision == before.revision + 1)
        #expect(throws: PolicyStoreError.revisionConflict(.ruleset, name: "baseline", expected: before.revision, actual: after.revision)) {
            try store.perform(.modify(Ruleset.self, named: "baseline", expectedRevision: before.revision) { $0.rules = [] })
        }
        let emptied = try store.perform(.modify(Ruleset.self, named: "baseline") { $0.rules = [] })
        #expect(emptied.rules.isEmpty)
        try expectHealthy(store)
    }

    @Test func timestampsAreUTCWithMilliseconds() throws {
        let web = try #require(try store.perform(.fetch(Policy.self, named: "web")))
        #expect(abs(web.createdAt.timeIntervalSinceNow) < 60)
        let text = try store.withConnection { connection in
            try connection.queryFirst("SELECT created_at FROM policies WHERE name = 'web'") { $0.text(0) } ?? ""
        }
        #expect(Timestamp.text(from: web.createdAt) == text)
        for sample in ["1970-01-01T00:00:00.000Z", "2000-02-29T23:59:59.999Z", "2026-11-29T05:07:21.123Z", "1969-12-31T23:59:59.001Z"] {
            #expect(Timestamp.date(from: sample).map(Timestamp.text(from:)) == sample)
        }
        for malformed in ["", "2026-11-29 05:07:21.123Z", "2026-11-29T05:07:21.12Z", "2026-11-29T05:07:21.123", "2026-1a-29T05:07:21.123Z"] {
            #expect(Timestamp.date(from: malformed) == nil, "\(malformed)")
        }
    }

    @Test func theStoreIsSharedSafelyAcrossTasks() async throws {
        let store = store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<25 {
                        try await store.perform(.createPolicy(named: "w\(worker)_\(index)", rulesets: ["baseline"]))
                        _ = try await store.perform(.fetch(Policy.self, named: "w\(worker)_\(index)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.perform(.count(Policy.self)) == 201)
        #expect(try await store.perform(.policies(usingRuleset: "baseline")).count == 201)
    }

    @Test func twoStoresOnOneFileSeeEachOthersWrites() throws {
        let other = try PolicyStore(path: path)
        try other.perform(.createPolicy(named: "api"))
        #expect(try store.perform(.fetch(Policy.self, named: "api")) != nil)
        #expect(throws: PolicyStoreError.nameTaken(.policy, name: "API", existing: "api")) { try store.perform(.createPolicy(named: "API")) }
    }
}
