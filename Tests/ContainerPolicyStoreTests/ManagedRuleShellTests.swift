import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// The catalogue's rules hold for any writer: here the real `sqlite3` shell, with foreign
/// keys off as the shell starts, and on.
@Suite struct ManagedRuleShellTests {
    let directory: TemporaryDirectory
    let store: PolicyStore
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        (store, path) = try makeStore(in: directory)
        try store.perform(.importManagedRules(try ManagedRuleCatalogue(json: try managedRulePages())))
        try store.perform(.createRuleset(named: "base", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)]))
    }

    static let base = "(SELECT id FROM rulesets WHERE name = 'base')"

    /// Statements a shell user might type that would break the catalogue's rules.
    static let refusedStatements: [String] = [
        // A ruleset rule the catalogue lacks.
        "INSERT INTO ruleset_rules VALUES (\(base), 'TM-00000099', 'log')",
        "INSERT INTO ruleset_rules (ruleset_id, rule_id) SELECT \(base), column1 FROM (VALUES ('TM-00000050'), ('TM-00000099'))",
        "UPDATE ruleset_rules SET rule_id = 'TM-00000099'",
        // A rule in use leaves the catalogue, or changes its ID.
        "DELETE FROM managed_rules WHERE id = 'TM-00000001'",
        "DELETE FROM managed_rules",
        "UPDATE managed_rules SET id = 'TM-00000099' WHERE id = 'TM-00000001'",
        "UPDATE managed_rules SET id = 'TM-00000099' WHERE id = 'TM-00000050'",
        "INSERT OR REPLACE INTO managed_rules (id, name) VALUES ('TM-00000001', 'replaced')",
        "REPLACE INTO managed_rules (id, name) VALUES ('TM-00000050', 'replaced')",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000050', 'again') ON CONFLICT DO UPDATE SET name = 'upserted'",
        // Rows the catalogue cannot hold.
        "INSERT INTO managed_rules (id, name) VALUES ('TM-1', 'short')",
        "INSERT INTO managed_rules (id, name) VALUES ('tm-00000099', 'lower case')",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099' || char(0), 'NUL')",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099', '')",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099', NULL)",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099', 'two' || char(10) || 'lines')",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099', 'tab' || char(9))",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099', 'esc' || char(27) || '[2J')",
        "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099', replace(hex(zeroblob(257)), '00', 'n'))",
        "INSERT INTO managed_rules (id, name, description) VALUES ('TM-00000099', 'long', replace(hex(zeroblob(4001)), '00', 'd'))",
        "INSERT INTO managed_rules (id, name, description) VALUES ('TM-00000099', 'bell', 'a' || char(7))",
        "INSERT INTO managed_rules (id, name, other_fields) VALUES ('TM-00000099', 'array', '[1]')",
        "INSERT INTO managed_rules (id, name, other_fields) VALUES ('TM-00000099', 'null', NULL)",
        "INSERT INTO managed_rules (id, name, imported_at) VALUES ('TM-00000099', 'dated', '2000-01-01T00:00:00.000Z')",
        "UPDATE managed_rules SET imported_at = '2000-01-01T00:00:00.000Z'",
        "UPDATE managed_rules SET name = 'a' || char(13) || 'b' WHERE id = 'TM-00000050'",
        // Techniques.
        "INSERT INTO managed_rule_techniques VALUES ('TM-00000050', 'T16')",
        "INSERT INTO managed_rule_techniques VALUES ('TM-00000050', 'TA0002')",
        "INSERT INTO managed_rule_techniques VALUES ('TM-00000050', 'T1609.1')",
        "INSERT INTO managed_rule_techniques VALUES ('TM-00000099', 'T1609')",
        "INSERT INTO managed_rule_techniques VALUES ('TM-00000050', 'T1070.002')",
        "INSERT OR REPLACE INTO managed_rule_techniques VALUES ('TM-00000050', 'T1070.002')",
        "UPDATE managed_rule_techniques SET technique = 'T1609' WHERE rule_id = 'TM-00000050'",
    ]

    @Test(arguments: ["PRAGMA foreign_keys = OFF;", "PRAGMA foreign_keys = ON;"])
    func everyStatementBreakingTheCatalogueIsRefused(foreignKeys: String) throws {
        let before = try snapshot(store)
        for statement in Self.refusedStatements {
            let result = try sqliteShell(path, foreignKeys + "\n" + statement + ";")
            #expect(result.status != 0 && !result.errorOutput.isEmpty, "accepted: \(statement)")
            #expect(try snapshot(store) == before, "changed by: \(statement)")
        }
        try expectHealthy(store)
    }

    @Test func theShellMayEditWhatKeepsTheRules() throws {
        #expect(try sqliteShell(path, "INSERT INTO managed_rules (id, name) VALUES ('TM-00000099', 'typed in the shell');").succeeded)
        #expect(try sqliteShell(path, "INSERT INTO managed_rule_techniques VALUES ('TM-00000099', 'T1610');").succeeded)
        #expect(try sqliteShell(path, "INSERT INTO ruleset_rules VALUES (\(Self.base), 'TM-00000099', 'log');").succeeded)
        #expect(try sqliteShell(path, "UPDATE managed_rules SET name = 'renamed', imported_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = 'TM-00000099';").succeeded)
        #expect(try sqliteShell(path, "DELETE FROM managed_rules WHERE id = 'TM-00000050';").succeeded)
        #expect(try sqliteShell(path, "SELECT count(*) FROM managed_rule_techniques WHERE rule_id = 'TM-00000050';").output == "0\n")
        let added = try #require(try store.perform(.managedRule(id: "TM-00000099")))
        #expect(added.name == "renamed" && added.techniques == ["T1610"] && added.damage.isEmpty)
        #expect(try store.perform(.ruleNames(forRuleset: "base"))?["TM-00000099"] == "renamed")
        let overview = try sqliteShell(path, "SELECT id, name, techniques, used_by FROM managed_rule_overview WHERE used_by IS NOT NULL;")
        #expect(overview.output == "TM-00000001|(T1611)Switch Linux namespace|T1611|base\nTM-00000099|renamed|T1610|base\n")
        try expectHealthy(store)
    }

    /// The one way to a rule outside a present catalogue: a first catalogue typed in the shell
    /// that lacks a rule already in use. `checkIntegrity` names it; so it does rows written
    /// with the checks switched off.
    @Test func checkIntegrityNamesRulesOutsideTheCatalogueAndDamagedRules() throws {
        let directory = try TemporaryDirectory()
        let (store, path) = try makeStore(in: directory)
        try store.perform(.createRuleset(named: "early", rules: [RuleReference(id: "TM-00000007")]))
        #expect(try sqliteShell(path, "INSERT INTO managed_rules (id, name) VALUES ('TM-00000001', 'one');").succeeded)
        #expect(try sqliteShell(path, """
            PRAGMA ignore_check_constraints = ON;
            INSERT INTO managed_rules (id, name, other_fields) VALUES ('TM-00000002', 'two' || char(10), 'not json}');
            """).succeeded)
        let findings = try store.perform(.checkIntegrity()).map(\.description)
        #expect(findings == [
            #"domain: managed rule "TM-00000002": managed_rules.name "two\u{A}": has a control character at position 4: a name is one line without control characters"#,
            #"domain: managed rule "TM-00000002": managed_rules.other_fields "not json}": is not a JSON object"#,
            #"domain: the ruleset "early" applies TM-00000007, which the managed-rule catalogue does not hold: remove the rule from the ruleset, or import a list that holds it"#,
        ])
        #expect(try store.perform(.managedRule(id: "TM-00000002"))?.damage.count == 2)
    }
}
