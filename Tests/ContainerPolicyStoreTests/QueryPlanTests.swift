import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// Every statement of the library's catalogue searches indexes, unless it is meant to read a
/// whole table (an export, a check): so the cost of get, duplicate and modify stays flat as
/// the store grows (Docs/performance.md measures it). The catalogue is the library's own list,
/// so a statement added there is checked here without a copy that could go stale.
@Suite struct QueryPlanTests {
    @Test func theCatalogueNamesEveryStatementOnce() {
        let names = SQLCatalogue.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.count > 30)
    }

    @Test(arguments: SQLCatalogue.all.filter { !$0.readsWholeTable }.map(\.name))
    func aStatementSearchesAnIndex(name: String) throws {
        let statement = try #require(SQLCatalogue.all.first { $0.name == name })
        let store = try PolicyStore.inMemory()
        let plan = try store.withConnection { connection in
            let explained = try connection.statement("EXPLAIN QUERY PLAN " + statement.sql)
            // The plan depends on the statement's shape, not on the values: every one is NULL.
            try explained.bind(Array(repeating: .null, count: explained.parameterCount))
            var details: [String] = []
            while try explained.step() { details.append(Row(statement: explained.handle).text(3)) }
            explained.reset()
            return details
        }
        // Scanning a subquery's few rows (one policy's ruleset names) or the one-row
        // write_context, or the json_each of a list the statement was given, is fine; a SCAN of
        // any other table is a full scan.
        let scans = plan.filter {
            $0.hasPrefix("SCAN") && !$0.hasPrefix("SCAN (subquery") && !$0.contains("write_context") && !$0.contains("VIRTUAL TABLE")
        }
        #expect(scans.isEmpty, "\(statement.name): \(plan)")
    }
}
