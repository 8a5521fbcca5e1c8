import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

@Suite struct HistoryTests {
    let directory: TemporaryDirectory
    let store: PolicyStore
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("history.sqlite")
        var options = StoreOptions()
        options.actor = "alice"
        store = try PolicyStore(path: path, options: options)
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createRuleset(named: "strict"))
    }

    func policyState(_ description: String, _ xdr: Bool, _ rulesets: [String]) -> RecordedContent {
        .policy(PolicyContent(description: description, xdrEnabled: xdr, rulesets: rulesets))
    }

    /// The stored text of a column of the change with this sequence.
    func storedState(_ column: String, sequence: Int) throws -> String? {
        try store.withConnection { connection in
            try connection.queryFirst("SELECT \(column) FROM changes WHERE sequence = ?", [SQLValue(sequence)]) { $0.optionalText(0) } ?? nil
        }
    }

    @Test func eachOperationIsOneChangeWithItsStates() throws {
        let description = "Front \"end\"\n\tsecond line \\"
        try store.perform(.createPolicy(named: "web", description: description, rulesets: ["baseline"]))
        try store.perform(.modify(Policy.self, named: "web") { $0.xdrEnabled = false; $0.addRuleset("strict"); $0.removeRuleset("baseline") })
        try store.perform(.modify(Policy.self, named: "web") { $0.addRuleset("baseline") })
        try store.perform(.modify(Policy.self, named: "web") { $0.removeRuleset("strict") })
        try store.perform(.delete(Policy.self, named: "web"))
        let history = try store.perform(.history(ofPolicy: "WEB"))
        #expect(history.map(\.action) == [.create, .modify, .link, .unlink, .delete])
        #expect(history.map(\.revision) == [1, 2, 3, 4, 4])
        #expect(history.allSatisfy { $0.actor == "alice" && $0.kind == .policy && $0.name == "web" })
        #expect(history.map(\.sequence) == history.map(\.sequence).sorted())
        let expected: [(RecordedContent?, RecordedContent?)] = [
            (nil, policyState(description, true, ["baseline"])),
            (policyState(description, true, ["baseline"]), policyState(description, false, ["strict"])),
            (policyState(description, false, ["strict"]), policyState(description, false, ["baseline", "strict"])),
            (policyState(description, false, ["baseline", "strict"]), policyState(description, false, ["baseline"])),
            (policyState(description, false, ["baseline"]), nil),
        ]
        for (change, (before, after)) in zip(history, expected) {
            #expect(change.before == before, "\(change.action) before")
            #expect(change.after == after, "\(change.action) after")
        }
    }

    /// The library writes a state from the values it holds; the schema's views write it for
    /// every other writer: the two must be the same text, or one history would hold two forms.
    @Test func theLibraryAndTheShellWriteTheSameStates() throws {
        try store.perform(.createPolicy(named: "web", description: "Front \"end\"\n\tsecond \\ line \u{202E}", rulesets: ["strict", "baseline"]))
        try store.perform(.modify(Ruleset.self, named: "baseline") { $0.description = "tab\there" })
        #expect(try sqliteShell(path, """
            UPDATE policies SET xdr_enabled = 0 WHERE name = 'web';
            UPDATE rulesets SET description = 'again' WHERE name = 'baseline';
            """).succeeded)
        let policy = try store.perform(.history(ofPolicy: "web"))
        let ruleset = try store.perform(.history(ofRuleset: "baseline"))
        #expect(try storedState("after", sequence: policy[0].sequence) == storedState("before", sequence: policy[1].sequence))
        #expect(try storedState("after", sequence: ruleset[1].sequence) == storedState("before", sequence: ruleset[2].sequence))
        #expect(policy.allSatisfy { $0.life == policy[0].sequence })
        let text = try #require(try storedState("after", sequence: policy[0].sequence))
        #expect(text.hasPrefix(#"{"name":"web","description":"Front \"end\"\n\tsecond \\ line"#), "\(text)")
        #expect(text.hasSuffix(#""xdrEnabled":true,"runtime":{"rulesets":[{"name":"baseline"},{"name":"strict"}]}}"#), "\(text)")
    }

    /// States recorded before migration 5 list a policy's rulesets as names; they still read.
    @Test func statesOfTheFormerShapeStillRead() throws {
        #expect(try sqliteShell(path, #"""
            INSERT INTO changes (object_kind, object_name, action, revision, before, after)
            VALUES ('policy', 'old', 'modify', 2, '{"name":"old","description":"","xdrEnabled":true,"rulesets":["baseline"]}',
                    '{"name":"old","description":"","xdrEnabled":false,"rulesets":["baseline","strict"]}');
            """#).succeeded)
        let change = try #require(try store.perform(.history(ofPolicy: "old")).first)
        #expect(change.before == policyState("", true, ["baseline"]))
        #expect(change.after == policyState("", false, ["baseline", "strict"]))
        #expect(change.life == nil && change.damage.isEmpty)
        #expect(change.changes?.description == "xdrEnabled off, rulesets +strict")
    }

    @Test func shellChangesAreRecordedRowByRow() throws {
        try store.perform(.createPolicy(named: "web"))
        let policy = "(SELECT id FROM policies WHERE name = 'web')"
        #expect(try sqliteShell(path, """
            INSERT INTO policy_rulesets VALUES (\(policy), (SELECT id FROM rulesets WHERE name = 'baseline'));
            INSERT INTO policy_rulesets VALUES (\(policy), (SELECT id FROM rulesets WHERE name = 'strict'));
            UPDATE policies SET xdr_enabled = 0 WHERE name = 'web';
            DELETE FROM policy_rulesets WHERE ruleset_id = (SELECT id FROM rulesets WHERE name = 'baseline');
            DELETE FROM policies WHERE name = 'web';
            """).succeeded)
        let history = try store.perform(.history(ofPolicy: "web"))
        #expect(history.map(\.action) == [.create, .link, .link, .modify, .unlink, .delete])
        #expect(history.map(\.revision) == [1, 2, 3, 4, 5, 5])
        #expect(history.dropFirst().allSatisfy { $0.actor == "" })
        let expected: [(RecordedContent?, RecordedContent?)] = [
            (policyState("", true, []), policyState("", true, ["baseline"])),
            (policyState("", true, ["baseline"]), policyState("", true, ["baseline", "strict"])),
            (policyState("", true, ["baseline", "strict"]), policyState("", false, ["baseline", "strict"])),
            (policyState("", false, ["baseline", "strict"]), policyState("", false, ["strict"])),
            (policyState("", false, ["strict"]), nil),
        ]
        for (change, (before, after)) in zip(history.dropFirst(), expected) {
            #expect(change.before == before, "\(change.action) before")
            #expect(change.after == after, "\(change.action) after")
        }
    }

    @Test func shellRuleChangesAreRecordedRowByRow() throws {
        let ruleset = "(SELECT id FROM rulesets WHERE name = 'strict')"
        #expect(try sqliteShell(path, """
            INSERT INTO ruleset_rules VALUES (\(ruleset), 'TM-00000007', 'log');
            UPDATE ruleset_rules SET mitigation = 'isolate' WHERE rule_id = 'TM-00000007';
            DELETE FROM ruleset_rules WHERE rule_id = 'TM-00000007';
            """).succeeded)
        let history = try store.perform(.history(ofRuleset: "strict"))
        #expect(history.map(\.action) == [.create, .modify, .modify, .modify])
        let rules = history.map { $0.after?.ruleset?.rules }
        #expect(rules == [[], [RuleReference(id: "TM-00000007")], [RuleReference(id: "TM-00000007", mitigation: .isolate)], []])
        let before = history.map { $0.before?.ruleset?.rules }
        #expect(before == [nil, [], [RuleReference(id: "TM-00000007")], [RuleReference(id: "TM-00000007", mitigation: .isolate)]])
    }

    @Test func aDuplicateIsRecordedAsTheCreateOfTheCopy() throws {
        try store.perform(.createPolicy(named: "web", rulesets: ["baseline", "strict"]))
        try store.perform(.duplicate(Policy.self, named: "web"))
        let copy = try store.perform(.history(ofPolicy: "webPolicy"))
        #expect(copy.map(\.action) == [.create])
        #expect(copy.map(\.revision) == [1])
        #expect(copy.last?.after == policyState("", true, ["baseline", "strict"]))
        #expect(try store.perform(.history(ofPolicy: "web")).count == 1)
    }

    @Test func rulesetChangesAreRecorded() throws {
        try store.perform(.modify(Ruleset.self, named: "baseline") { ruleset in
            ruleset.description = "Basics"
            ruleset.rules = [RuleReference(id: "TM-00000001", mitigation: .isolate), RuleReference(id: "TM-00000002")]
        })
        try store.perform(.delete(Ruleset.self, named: "strict"))
        let history = try store.perform(.history(ofRuleset: "baseline"))
        #expect(history.map(\.action) == [.create, .modify])
        #expect(history.map(\.revision) == [1, 2])
        #expect(history.last?.after == .ruleset(RulesetContent(
            description: "Basics",
            rules: [RuleReference(id: "TM-00000001", mitigation: .isolate), RuleReference(id: "TM-00000002")])))
        let strict = try store.perform(.history(ofRuleset: "strict"))
        #expect(strict.map(\.action) == [.create, .delete])
        #expect(strict.last?.after == nil)
    }

    @Test func theActorCanBeGivenPerWrite() throws {
        try store.write(actor: "bob") { tx in
            try tx.createPolicy(named: "api")
        }
        try store.perform(.createPolicy(named: "web"))
        #expect(try store.perform(.history(ofPolicy: "api")).map(\.actor) == ["bob"])
        #expect(try store.perform(.history(ofPolicy: "web")).map(\.actor) == ["alice"])
        // The actor row never outlives its transaction.
        #expect(try sqliteShell(path, "SELECT count(*) FROM write_context;").output == "0\n")
    }

    @Test func aShellChangeIsRecordedWithAnEmptyActor() throws {
        try store.perform(.createPolicy(named: "web"))
        #expect(try sqliteShell(path, "UPDATE policies SET description = 'from the shell' WHERE name = 'web';").succeeded)
        let last = try #require(try store.perform(.history(ofPolicy: "web")).last)
        #expect(last.action == .modify && last.actor == "" && last.revision == 2)
        #expect(last.after?.policy?.description == "from the shell")
    }

    @Test func aRowLeftInWriteContextNeitherFoolsTheLibraryNorGoesUnreported() throws {
        #expect(try sqliteShell(path, "INSERT INTO write_context (id, actor) VALUES (1, 'mallory');").succeeded)
        #expect(try store.perform(.checkIntegrity()).map(\.message).contains { $0.contains("write_context holds a row") })
        try store.perform(.createPolicy(named: "web"))
        #expect(try store.perform(.history(ofPolicy: "web")).map(\.actor) == ["alice"])
        // The library's write cleared the row it found.
        try expectHealthy(store)
    }

    @Test func theHistoryIsAppendOnly() throws {
        try store.perform(.createPolicy(named: "web"))
        let before = try snapshot(store)
        for statement in ["UPDATE changes SET actor = 'mallory';", "DELETE FROM changes;", "UPDATE changes SET after = NULL;"] {
            let result = try sqliteShell(path, statement)
            #expect(result.status != 0 && result.errorOutput.contains("append-only"), "\(statement)")
        }
        #expect(try snapshot(store) == before)
    }

    @Test func historyOutlivesTheObject() throws {
        try store.perform(.createPolicy(named: "web"))
        try store.perform(.delete(Policy.self, named: "web"))
        #expect(try store.perform(.history(ofPolicy: "web")).map(\.action) == [.create, .delete])
    }

    @Test func restoreWritesAnOldRevisionBackAsANewOne() throws {
        try store.perform(.createPolicy(named: "web", description: "v1", rulesets: ["baseline"]))  // revision 1
        try store.perform(.modify(Policy.self, named: "web") { $0.description = "v2"; $0.xdrEnabled = false; $0.addRuleset("strict") })  // 2
        let restored = try store.perform(.restorePolicy(named: "web", toRevision: 1))
        #expect(restored.description == "v1" && restored.xdrEnabled && restored.rulesets == ["baseline"])
        #expect(restored.revision == 3)
        let again = try store.perform(.restorePolicy(named: "web", toRevision: 2))
        #expect(again.description == "v2" && !again.xdrEnabled && again.rulesets == ["baseline", "strict"])
        #expect(again.revision == 4)
        let life = try #require(try store.perform(.history(ofPolicy: "web")).first?.life)
        #expect(throws: PolicyStoreError.unknownRevision(.policy, name: "web", revision: 99, life: life, livesWithRevision: [])) {
            try store.perform(.restorePolicy(named: "web", toRevision: 99))
        }
        try expectHealthy(store)
    }

    @Test func restoreIsRefusedWhenARulesetItNeedsIsGone() throws {
        try store.perform(.createPolicy(named: "web", rulesets: ["strict"]))  // revision 1
        try store.perform(.modify(Policy.self, named: "web") { $0.removeRuleset("strict") })  // 2
        try store.perform(.delete(Ruleset.self, named: "strict"))
        let before = try snapshot(store)
        #expect(throws: PolicyStoreError.restoreNeedsRuleset(policy: "web", revision: 1, ruleset: "strict")) {
            try store.perform(.restorePolicy(named: "web", toRevision: 1))
        }
        #expect(try snapshot(store) == before)
    }

    @Test func restoreLooksOnlyAtTheCurrentPolicyOfThatName() throws {
        try store.perform(.createPolicy(named: "web", description: "first life", rulesets: ["baseline"]))  // 1
        try store.perform(.modify(Policy.self, named: "web") { $0.description = "still the first life" })  // 2
        try store.perform(.delete(Policy.self, named: "web"))
        try store.perform(.createPolicy(named: "web", description: "second life"))  // 1
        let lives = Array(Set(try store.perform(.history(ofPolicy: "web")).compactMap(\.life))).sorted()
        #expect(lives.count == 2)
        #expect(throws: PolicyStoreError.unknownRevision(.policy, name: "web", revision: 2, life: lives[1], livesWithRevision: [lives[0]])) {
            try store.perform(.restorePolicy(named: "web", toRevision: 2))
        }
        let restored = try store.perform(.restorePolicy(named: "web", toRevision: 2, ofLife: lives[0]))
        #expect(restored.description == "still the first life" && restored.revision == 2)
        let last = try #require(try store.perform(.history(ofPolicy: "web")).last)
        #expect(last.action == .restore && last.restoredRevision == 2 && last.life == lives[1])
        // A change that began no life is not taken for one.
        let notALife = try #require(try store.perform(.history(ofPolicy: "web")).first { $0.action == .modify }?.sequence)
        #expect(throws: PolicyStoreError.unknownLife(.policy, name: "web", life: notALife, lives: lives)) {
            try store.perform(.restorePolicy(named: "web", toRevision: 2, ofLife: notALife))
        }
    }

    @Test func historyIsReadInPagesAfterASequence() throws {
        try store.perform(.createPolicy(named: "web"))
        for revision in 2...25 { try store.perform(.modify(Policy.self, named: "web") { $0.description = "revision \(revision)" }) }
        let whole = try store.perform(.history(ofPolicy: "web", limit: 1000))
        #expect(whole.count == 25)
        var pages: [[Change]] = []
        var page = try store.perform(.history(ofPolicy: "web", limit: 10))
        while let last = page.last {
            pages.append(page)
            page = try store.perform(.history(ofPolicy: "web", after: last.sequence, limit: 10))
        }
        #expect(pages.map(\.count) == [10, 10, 5])
        #expect(pages.flatMap { $0 } == whole)
        #expect(whole.allSatisfy { $0.life == whole[0].sequence }, "every page knows the life")
        // Past the end is an empty page, not "not found"; a name never known is not found.
        #expect(try store.perform(.history(ofPolicy: "web", after: whole[24].sequence)).isEmpty)
        #expect(throws: PolicyStoreError.notFound(.policy, name: "never")) { try store.perform(.history(ofPolicy: "never")) }
        #expect(throws: PolicyStoreError.notFound(.ruleset, name: "never")) { try store.perform(.history(ofRuleset: "never")) }
    }

    /// A modify closure that throws its caller's own error: the error comes back as it was
    /// thrown, and the transaction leaves no trace.
    @Test func aModifyClosureThatThrowsWritesNothing() throws {
        struct RefusedByCaller: Error, Equatable {}
        try store.perform(.createPolicy(named: "web", rulesets: ["baseline"]))
        try store.perform(.createRuleset(named: "third"))
        let before = try snapshot(store)
        #expect(throws: RefusedByCaller()) {
            try store.write { tx in
                _ = try tx.modify(Policy.self, named: "web") { content in
                    content.addRuleset("strict")
                    throw RefusedByCaller()
                }
            }
        }
        #expect(throws: RefusedByCaller()) {
            try store.write { tx in
                _ = try tx.modify(Ruleset.self, named: "third") { content in
                    content.description = "changed"
                    throw RefusedByCaller()
                }
            }
        }
        #expect(try snapshot(store) == before)
        #expect(try store.perform(.history(ofPolicy: "web")).map(\.action) == [.create])
        // The same closure, not throwing, writes.
        let modified = try store.write { tx in try tx.modify(Policy.self, named: "web") { (content: inout PolicyContent) throws in content.addRuleset("strict") } }
        #expect(modified.rulesets == ["baseline", "strict"])
    }
}
