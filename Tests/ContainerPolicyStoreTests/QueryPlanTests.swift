import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// The statements of get, duplicate and modify must search indexes, never scan a table, so
/// their cost stays flat as the store grows (Docs/performance.md measures it).
@Suite struct QueryPlanTests {
    /// Each hot statement, as the library runs it, with values of the right kinds.
    static let hotStatements: [(label: String, sql: String, values: [SQLValue])] = [
        ("get a policy by name", StoreTransaction.policyByName, ["web"]),
        ("a page of policies", StoreTransaction.policyPage, ["", 100]),
        ("get a ruleset by name", StoreTransaction.rulesetByName, ["baseline"]),
        ("a ruleset's id", "SELECT id FROM rulesets WHERE name = ?", ["baseline"]),
        ("is a policy name free", "SELECT name FROM policies WHERE name = ?", ["web"]),
        ("a policy's state", "SELECT state FROM policy_states WHERE id = ?", [1]),
        ("copy a policy row", "INSERT INTO policies (name, description, xdr_enabled) SELECT ?, description, xdr_enabled FROM policies WHERE id = ?", ["copy", 1]),
        ("copy its links", "INSERT INTO policy_rulesets (policy_id, ruleset_id) SELECT ?, ruleset_id FROM policy_rulesets WHERE policy_id = ?", [2, 1]),
        ("a policy's links", "SELECT ruleset_id FROM policy_rulesets WHERE policy_id = ?", [1]),
        ("unlink", "DELETE FROM policy_rulesets WHERE policy_id = ? AND ruleset_id = ?", [1, 1]),
        ("update a policy", "UPDATE policies SET description = ?, xdr_enabled = ? WHERE id = ?", ["", 1, 1]),
        ("the policies of a ruleset", "SELECT p.name FROM policy_rulesets AS pr JOIN policies AS p ON p.id = pr.policy_id WHERE pr.ruleset_id = ? ORDER BY p.name", [1]),
        ("the clusters of a policy", "SELECT arn FROM clusters WHERE policy_id = ? ORDER BY arn", [1]),
        ("a policy's history", "SELECT sequence, changed_at, object_name, action, revision, before, after, actor FROM changes WHERE object_kind = ? AND object_name = ? ORDER BY sequence", ["policy", "web"]),
    ]

    @Test(arguments: hotStatements.indices)
    func aHotStatementSearchesAnIndex(index: Int) throws {
        let statement = Self.hotStatements[index]
        let store = try PolicyStore.inMemory()
        let plan = try store.withConnection { connection in
            try connection.query("EXPLAIN QUERY PLAN " + statement.sql, statement.values) { $0.text(3) }
        }
        #expect(!plan.isEmpty)
        // Scanning a subquery's few rows (one policy's ruleset names, sorted) or the one-row
        // write_context is fine; a SCAN of any other table is a full scan.
        let scans = plan.filter { $0.hasPrefix("SCAN") && !$0.hasPrefix("SCAN (subquery") && !$0.contains("write_context") }
        #expect(scans.isEmpty, "\(statement.label): \(plan)")
    }
}
