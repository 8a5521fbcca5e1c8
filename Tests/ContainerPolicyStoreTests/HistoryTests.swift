import Foundation
import Testing
@testable import ContainerPolicyStore

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
        try store.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
        try store.createRuleset(named: "strict")
    }

    /// A policy's state as the history records it, read back with Foundation's decoder.
    struct PolicyState: Decodable, Equatable {
        var name: String
        var description: String
        var xdrEnabled: Bool
        var rulesets: [String]
    }

    struct RulesetState: Decodable, Equatable {
        var name: String
        var description: String
        var rules: [RuleReference]
    }

    func state<State: Decodable>(_ json: String?, as type: State.Type = PolicyState.self) throws -> State? {
        guard let json else { return nil }
        return try JSONDecoder().decode(State.self, from: Data(json.utf8))
    }

    func policyState(_ description: String, _ xdr: Bool, _ rulesets: [String], name: String = "web") -> PolicyState {
        PolicyState(name: name, description: description, xdrEnabled: xdr, rulesets: rulesets)
    }

    @Test func everyActionAppearsOnceWithItsStates() throws {
        try store.createPolicy(named: "web", description: "Front \"end\"\n\tsecond line \\", rulesets: ["baseline"])
        try store.modifyPolicy(named: "web") { $0.xdrEnabled = false; $0.addRuleset("strict"); $0.removeRuleset("baseline") }
        try store.deletePolicy(named: "web")
        let history = try store.history(ofPolicy: "WEB")
        let description = "Front \"end\"\n\tsecond line \\"
        #expect(history.map(\.action) == [.create, .link, .modify, .unlink, .link, .delete])
        #expect(history.map(\.revision) == [1, 2, 3, 4, 5, 5])
        #expect(history.allSatisfy { $0.actor == "alice" && $0.kind == .policy && $0.name == "web" })
        #expect(history.map(\.sequence) == history.map(\.sequence).sorted())
        let expected: [(PolicyState?, PolicyState?)] = [
            (nil, policyState(description, true, [])),
            (policyState(description, true, []), policyState(description, true, ["baseline"])),
            (policyState(description, true, ["baseline"]), policyState(description, false, ["baseline"])),
            (policyState(description, false, ["baseline"]), policyState(description, false, [])),
            (policyState(description, false, []), policyState(description, false, ["strict"])),
            (policyState(description, false, ["strict"]), nil),
        ]
        for (change, (before, after)) in zip(history, expected) {
            #expect(try state(change.before) == before, "\(change.action) before")
            #expect(try state(change.after) == after, "\(change.action) after")
        }
    }

    @Test func aDuplicateIsRecordedAsTheCreateOfTheCopy() throws {
        try store.createPolicy(named: "web", rulesets: ["baseline", "strict"])
        try store.duplicatePolicy(named: "web")
        let copy = try store.history(ofPolicy: "webPolicy")
        #expect(copy.map(\.action) == [.create, .link, .link])
        #expect(try state(copy.last?.after) == policyState("", true, ["baseline", "strict"], name: "webPolicy"))
        #expect(try store.history(ofPolicy: "web").count == 3)
    }

    @Test func rulesetChangesAreRecorded() throws {
        try store.modifyRuleset(named: "baseline") { ruleset in
            ruleset.description = "Basics"
            ruleset.rules = [RuleReference(id: "TM-00000001", mitigation: .isolate), RuleReference(id: "TM-00000002")]
        }
        try store.deleteRuleset(named: "strict")
        let history = try store.history(ofRuleset: "baseline")
        #expect(history.map(\.action) == [.create, .modify, .modify, .modify, .modify])
        #expect(try state(history.last?.after, as: RulesetState.self) == RulesetState(
            name: "baseline", description: "Basics",
            rules: [RuleReference(id: "TM-00000001", mitigation: .isolate), RuleReference(id: "TM-00000002")]))
        let strict = try store.history(ofRuleset: "strict")
        #expect(strict.map(\.action) == [.create, .delete])
        #expect(strict.last?.after == nil)
    }

    @Test func theActorCanBeGivenPerWrite() throws {
        try store.write(actor: "bob") { tx in
            try tx.createPolicy(named: "api")
        }
        try store.createPolicy(named: "web")
        #expect(try store.history(ofPolicy: "api").map(\.actor) == ["bob"])
        #expect(try store.history(ofPolicy: "web").map(\.actor) == ["alice"])
        // The actor row never outlives its transaction.
        #expect(try sqliteShell(path, "SELECT count(*) FROM change_actor;").output == "0\n")
    }

    @Test func aShellChangeIsRecordedWithAnEmptyActor() throws {
        try store.createPolicy(named: "web")
        #expect(try sqliteShell(path, "UPDATE policies SET description = 'from the shell' WHERE name = 'web';").succeeded)
        let last = try #require(try store.history(ofPolicy: "web").last)
        #expect(last.action == .modify && last.actor == "" && last.revision == 2)
        #expect(try state(last.after)?.description == "from the shell")
    }

    @Test func theHistoryIsAppendOnly() throws {
        try store.createPolicy(named: "web")
        let before = try snapshot(store)
        for statement in ["UPDATE changes SET actor = 'mallory';", "DELETE FROM changes;", "UPDATE changes SET after = NULL;"] {
            let result = try sqliteShell(path, statement)
            #expect(result.status != 0 && result.errorOutput.contains("append-only"), "\(statement)")
        }
        #expect(try snapshot(store) == before)
    }

    @Test func historyOutlivesTheObject() throws {
        try store.createPolicy(named: "web")
        try store.deletePolicy(named: "web")
        #expect(try store.history(ofPolicy: "web").map(\.action) == [.create, .delete])
    }

    @Test func restoreWritesAnOldRevisionBackAsANewOne() throws {
        try store.createPolicy(named: "web", description: "v1", rulesets: ["baseline"])  // revisions 1, 2
        try store.modifyPolicy(named: "web") { $0.description = "v2"; $0.xdrEnabled = false; $0.addRuleset("strict") }  // 3, 4
        let restored = try store.restorePolicy(named: "web", toRevision: 2)
        #expect(restored.description == "v1" && restored.xdrEnabled && restored.rulesets == ["baseline"])
        #expect(restored.revision > 4)
        let again = try store.restorePolicy(named: "web", toRevision: 4)
        #expect(again.description == "v2" && !again.xdrEnabled && again.rulesets == ["baseline", "strict"])
        #expect(throws: PolicyStoreError.unknownRevision(.policy, name: "web", revision: 99)) {
            try store.restorePolicy(named: "web", toRevision: 99)
        }
        try expectHealthy(store)
    }

    @Test func restoreIsRefusedWhenARulesetItNeedsIsGone() throws {
        try store.createPolicy(named: "web", rulesets: ["strict"])  // revisions 1, 2
        try store.modifyPolicy(named: "web") { $0.removeRuleset("strict") }
        try store.deleteRuleset(named: "strict")
        let before = try snapshot(store)
        #expect(throws: PolicyStoreError.restoreNeedsRuleset(policy: "web", revision: 2, ruleset: "strict")) {
            try store.restorePolicy(named: "web", toRevision: 2)
        }
        #expect(try snapshot(store) == before)
    }

    @Test func restoreLooksOnlyAtTheCurrentPolicyOfThatName() throws {
        try store.createPolicy(named: "web", description: "first life", rulesets: ["baseline"])  // 1, 2
        try store.deletePolicy(named: "web")
        try store.createPolicy(named: "web", description: "second life")  // 1
        #expect(throws: PolicyStoreError.unknownRevision(.policy, name: "web", revision: 2)) {
            try store.restorePolicy(named: "web", toRevision: 2)
        }
    }
}
