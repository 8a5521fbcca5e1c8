import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// The schema guards the data for any writer: here the real `sqlite3` shell, with foreign
/// keys off as the shell starts, and on.
@Suite struct ShellEnforcementTests {
    let directory: TemporaryDirectory
    let store: PolicyStore
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        (store, path) = try makeStore(in: directory)
        try store.perform(.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
        try store.perform(.createRuleset(named: "unused", rules: [RuleReference(id: "TM-00000002")]))
        try store.perform(.createPolicy(named: "web", description: "Front end", rulesets: ["baseline"]))
    }

    /// Statements a shell user might type that would break a rule of the product.
    static let refusedStatements: [String] = [
        // Names: spaces, emptiness, other types, NUL, non-ASCII look-alikes, bad UTF-8, length.
        "INSERT INTO policies (name) VALUES ('web prod')",
        "INSERT INTO policies (name) VALUES ('')",
        "INSERT INTO policies (name) VALUES (NULL)",
        "INSERT INTO policies (name) VALUES (x'617069')",
        "INSERT INTO policies (name) VALUES (CAST(x'61706900' AS TEXT))",
        "INSERT INTO policies (name) VALUES (CAST(x'6170690062' AS TEXT))",
        "INSERT INTO policies (name) VALUES ('w' || char(1077) || 'b')",
        "INSERT INTO policies (name) VALUES (char(65313, 65328, 65321))",
        "INSERT INTO policies (name) VALUES (char(8490) || 'ube')",
        "INSERT INTO policies (name) VALUES ('web' || char(10))",
        "INSERT INTO policies (name) VALUES ('e' || char(769))",
        "INSERT INTO policies (name) VALUES (CAST(x'ff' AS TEXT))",
        "INSERT INTO policies (name) VALUES (CAST(x'c0ae' AS TEXT))",
        "INSERT INTO policies (name) VALUES ('a-b')",
        "INSERT INTO policies (name) VALUES ('a;b')",
        "INSERT INTO policies (name) VALUES (replace(hex(zeroblob(65)), '00', 'a'))",
        "INSERT INTO rulesets (name) VALUES ('my rules')",
        "INSERT INTO rulesets (name) VALUES (replace(hex(zeroblob(65)), '00', 'r'))",
        // Uniqueness ignoring case, and REPLACE that would delete behind the triggers' backs.
        "INSERT INTO policies (name) VALUES ('WEB')",
        "INSERT OR REPLACE INTO policies (name, description) VALUES ('web', 'replaced')",
        "INSERT OR REPLACE INTO policies (id, name) VALUES ((SELECT id FROM policies WHERE name = 'web'), 'other')",
        "REPLACE INTO rulesets (name) VALUES ('Baseline')",
        "INSERT INTO rulesets (name) VALUES ('UNUSED')",
        // Names, ids, creation times and revisions are not the writer's to change.
        "UPDATE policies SET name = 'web2' WHERE name = 'web'",
        "UPDATE policies SET name = 'WEB' WHERE name = 'web'",
        "UPDATE rulesets SET name = 'Baseline' WHERE name = 'baseline'",
        "UPDATE policies SET id = 99",
        "UPDATE rulesets SET id = 99 WHERE name = 'unused'",
        "UPDATE policies SET revision = 100",
        "UPDATE policies SET revision = 0",
        "INSERT INTO policies (name, revision) VALUES ('api', 5)",
        "UPDATE policies SET created_at = '2000-01-01T00:00:00.000Z'",
        "UPDATE policies SET updated_at = 'yesterday'",
        "UPDATE policies SET rulesets_updated_at = 42",
        // Descriptions and the XDR switch.
        "UPDATE policies SET description = replace(hex(zeroblob(1001)), '00', 'x')",
        "UPDATE policies SET description = 'a' || char(0) || 'b'",
        "UPDATE policies SET description = NULL",
        "UPDATE rulesets SET description = replace(hex(zeroblob(1001)), '00', 'y')",
        "UPDATE policies SET xdr_enabled = 2",
        "UPDATE policies SET xdr_enabled = 'yes'",
        "UPDATE policies SET xdr_enabled = NULL",
        "UPDATE policies SET xdr_enabled = 0.5",
        // Rules.
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'unused'), 'TM-1', 'log')",
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'unused'), 'tm-00000003', 'log')",
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'unused'), 'TM-00000003' || char(0), 'log')",
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'unused'), 'TM-0000000' || char(1633), 'log')",
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'unused'), 'TM-00000002', 'log')",
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'unused'), 'TM-00000003', 'block')",
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'unused'), 'TM-00000003', 'LOG')",
        "INSERT INTO ruleset_rules VALUES (999, 'TM-00000003', 'log')",
        "UPDATE ruleset_rules SET mitigation = 'ignore'",
        "UPDATE ruleset_rules SET ruleset_id = (SELECT id FROM rulesets WHERE name = 'unused') WHERE rule_id = 'TM-00000001'",
        // Links.
        "INSERT INTO policy_rulesets VALUES (999, (SELECT id FROM rulesets WHERE name = 'unused'))",
        "INSERT INTO policy_rulesets VALUES ((SELECT id FROM policies WHERE name = 'web'), 999)",
        "INSERT INTO policy_rulesets SELECT policy_id, ruleset_id FROM policy_rulesets",
        "UPDATE policy_rulesets SET ruleset_id = (SELECT id FROM rulesets WHERE name = 'unused')",
        "DELETE FROM rulesets WHERE name = 'baseline'",
        "DELETE FROM rulesets",
        // Keys: non-positive ids, and REPLACE or UPSERT that would go around the triggers.
        "INSERT INTO policies (id, name) VALUES (-1, 'neg')",
        "INSERT INTO rulesets (id, name) VALUES (0, 'zero')",
        "INSERT OR REPLACE INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'baseline'), 'TM-00000001', 'log')",
        "INSERT INTO ruleset_rules VALUES ((SELECT id FROM rulesets WHERE name = 'baseline'), 'TM-00000001', 'log') ON CONFLICT DO UPDATE SET mitigation = 'isolate'",
        "UPDATE OR REPLACE ruleset_rules SET rule_id = 'TM-00000002'",
        "INSERT OR REPLACE INTO policy_rulesets SELECT policy_id, ruleset_id FROM policy_rulesets",
        "INSERT OR REPLACE INTO changes (sequence, object_kind, object_name, action, revision) VALUES (1, 'policy', 'forged', 'create', 1)",
        "INSERT INTO changes (sequence, object_kind, object_name, action, revision) VALUES (0, 'policy', 'forged', 'create', 1)",
        // Timestamps are the database's.
        "UPDATE policies SET updated_at = '2000-01-01T00:00:00.000Z'",
        "UPDATE policies SET revision = revision + 1, updated_at = '2000-01-01T00:00:00.000Z'",
        "UPDATE policies SET rulesets_updated_at = '2000-01-01T00:00:00.000Z'",
        "INSERT INTO policies (name, created_at) VALUES ('api', '2099-01-01T00:00:00.000Z')",
        "UPDATE rulesets SET updated_at = '2000-01-01T00:00:00.000Z'",
        // Bytes that are not UTF-8 read as U+FFFD, which descriptions refuse.
        "UPDATE policies SET description = CAST(x'41FF42' AS TEXT)",
        "UPDATE policies SET description = 'ok' || char(65533)",
        // Clusters.
        "INSERT INTO clusters (arn) VALUES ('arn:aws:ecs:aa-x:y-1:123456789012:cluster/n')",
        "INSERT INTO clusters (arn, policy_id) VALUES ('arn:aws:ecs:us-east-1:123456789012:cluster/web', (SELECT id FROM policies WHERE name = 'web'))",
        "INSERT INTO clusters (arn, policy_id, assigned_at) VALUES ('arn:aws:ecs:us-east-1:123456789012:cluster/web', (SELECT id FROM policies WHERE name = 'web'), '2000-01-01T00:00:00.000Z')",
    ]

    @Test(arguments: ["PRAGMA foreign_keys = OFF;", "PRAGMA foreign_keys = ON;"])
    func everyRuleBreakingStatementIsRefused(foreignKeys: String) throws {
        let before = try snapshot(store)
        for statement in Self.refusedStatements {
            let result = try sqliteShell(path, foreignKeys + "\n" + statement + ";")
            #expect(result.status != 0 && !result.errorOutput.isEmpty, "accepted: \(statement)")
            #expect(try snapshot(store) == before, "changed by: \(statement)")
        }
        try expectHealthy(store)
    }

    @Test func aRealNumberNameIsStoredAsTextAndIsStillAValidName() throws {
        #expect(try sqliteShell(path, "INSERT INTO policies (name) VALUES (2.5);").succeeded)
        #expect(try sqliteShell(path, "SELECT typeof(name) FROM policies WHERE name = '2.5';").output == "text\n")
        #expect(try store.perform(.fetch(Policy.self, named: "2.5")) != nil)
        try expectHealthy(store)
    }

    func policyRow() throws -> (revision: Int, updatedAt: String, rulesetsUpdatedAt: String) {
        try store.withConnection { connection in
            try #require(try connection.queryFirst(
                "SELECT revision, updated_at, rulesets_updated_at FROM policies WHERE name = 'web'"
            ) { ($0.int(0), $0.text(1), $0.text(2)) })
        }
    }

    @Test func shellChangesMoveRevisionAndTimestamps() throws {
        let start = try policyRow()
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try sqliteShell(path, "UPDATE policies SET description = 'from the shell' WHERE name = 'web';").succeeded)
        let described = try policyRow()
        #expect(described.revision == start.revision + 1)
        #expect(described.updatedAt > start.updatedAt)
        #expect(described.rulesetsUpdatedAt == start.rulesetsUpdatedAt)
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try sqliteShell(path, """
            INSERT INTO policy_rulesets VALUES ((SELECT id FROM policies WHERE name = 'web'), (SELECT id FROM rulesets WHERE name = 'unused'));
            """).succeeded)
        let linked = try policyRow()
        #expect(linked.revision == described.revision + 1)
        #expect(linked.rulesetsUpdatedAt > described.rulesetsUpdatedAt)
        #expect(try sqliteShell(path, """
            DELETE FROM policy_rulesets WHERE ruleset_id = (SELECT id FROM rulesets WHERE name = 'unused');
            """).succeeded)
        #expect(try policyRow().revision == linked.revision + 1)
        // Setting the next revision by hand is accepted as one change, no more.
        #expect(try sqliteShell(path, "UPDATE policies SET revision = revision + 1 WHERE name = 'web';").succeeded)
        #expect(try policyRow().revision == linked.revision + 2)
        // Even with recursive triggers on, one change counts once.
        #expect(try sqliteShell(path, "PRAGMA recursive_triggers = ON; UPDATE policies SET xdr_enabled = 0;").succeeded)
        #expect(try policyRow().revision == linked.revision + 3)
        #expect(try store.perform(.fetch(Policy.self, named: "web"))?.xdrEnabled == false)
    }

    @Test func shellRuleChangesMoveTheRulesetRevision() throws {
        let revision = { try #require(try store.perform(.fetch(Ruleset.self, named: "unused"))).revision }
        let start = try revision()
        let unused = "(SELECT id FROM rulesets WHERE name = 'unused')"
        #expect(try sqliteShell(path, "INSERT INTO ruleset_rules VALUES (\(unused), 'TM-00000003', 'isolate');").succeeded)
        #expect(try sqliteShell(path, "UPDATE ruleset_rules SET mitigation = 'terminate' WHERE rule_id = 'TM-00000003';").succeeded)
        #expect(try sqliteShell(path, "DELETE FROM ruleset_rules WHERE rule_id = 'TM-00000002';").succeeded)
        #expect(try revision() == start + 3)
        #expect(try store.perform(.fetch(Ruleset.self, named: "unused"))?.rules == [RuleReference(id: "TM-00000003", mitigation: .terminate)])
    }

    @Test func deletingAtTheShellKeepsLinksAndRulesConsistent() throws {
        #expect(try sqliteShell(path, "DELETE FROM policies WHERE name = 'web';").succeeded)
        #expect(try sqliteShell(path, "SELECT count(*) FROM policy_rulesets;").output == "0\n")
        #expect(try sqliteShell(path, "DELETE FROM rulesets WHERE name = 'baseline';").succeeded)
        #expect(try sqliteShell(path, "SELECT count(*) FROM ruleset_rules WHERE rule_id = 'TM-00000001';").output == "0\n")
        try expectHealthy(store)
    }

    @Test func theOverviewViewsReadLikeTheConsole() throws {
        try store.perform(.createPolicy(named: "api", rulesets: ["unused", "baseline"]))
        let overview = try sqliteShell(path, "SELECT * FROM policy_overview;")
        #expect(overview.output == "api||1|1|baseline, unused\nweb|Front end|1|1|baseline\n")
        let rulesets = try sqliteShell(path, "SELECT * FROM ruleset_overview;")
        #expect(rulesets.output == "baseline||1|TM-00000001:terminate|api, web\nunused||1|TM-00000002:log|api\n")
    }
}
