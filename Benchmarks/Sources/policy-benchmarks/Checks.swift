import ContainerPolicyStore
import Foundation

/// Checks made before any timing: the implementations of the library's schema work on the
/// library's schema, and all of them give the same answers, so that the comparison is between
/// equals.
enum Checks {
    /// Migrations/ of the repository this package sits in.
    static let migrationsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // policy-benchmarks
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // Benchmarks
        .deletingLastPathComponent()
        .appendingPathComponent("Migrations")

    /// Applies Migrations/*.sql by hand with the C API, as the raw and GRDB versions would, and
    /// checks that the result is the schema the library made: every table, index, trigger and
    /// view, word for word. Returns a one-line summary.
    static func schemaMatchesMigrations(library template: StoreTemplate, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("schema-from-migrations.sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: migrationsDirectory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        guard !files.isEmpty else { throw BenchmarkFailure("no migrations in \(migrationsDirectory.path)") }
        let byHand = try RawConnection(path: path, synchronous: .normal, create: true)
        for file in files {
            let sql = try String(contentsOf: migrationsDirectory.appendingPathComponent(file), encoding: .utf8)
            try byHand.execute("BEGIN IMMEDIATE;\n" + sql + "\nCOMMIT;")
        }
        let library = try RawConnection(path: template.path, synchronous: .normal)
        let schema = "SELECT group_concat(type || ' ' || name || ': ' || coalesce(sql, ''), char(10)) FROM "
            + "(SELECT * FROM sqlite_schema ORDER BY type, name)"
        let identity = "SELECT (SELECT application_id FROM pragma_application_id) || ' ' || "
            + "(SELECT count(*) FROM sqlite_schema WHERE type = 'trigger')"
        guard try byHand.queryText(schema) == library.queryText(schema),
            try byHand.queryText(identity) == library.queryText(identity)
        else {
            throw BenchmarkFailure("Migrations/*.sql applied by hand do not give the library's schema")
        }
        let triggers = try library.queryText("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'") ?? "?"
        return "Migrations/\(files.joined(separator: ", ")) applied with sqlite3_exec give the library's schema, "
            + "word for word (\(triggers) triggers)"
    }

    /// Each implementation reads the same policies back, field by field (dates to the
    /// millisecond); the raw stores' exports are the library's, byte for byte, and GRDB's
    /// (JSONEncoder's layout) is the same document.
    static func implementationsAgree(
        on template: StoreTemplate, _ implementations: [Implementation], synchronous: Synchronous
    ) throws {
        let names = [Fixture.policyName(0), Fixture.policyName(template.policyCount - 1), Fixture.duplicateSourceName]
        var answers: [Implementation: [String]] = [:]
        var exports: [Implementation: Data] = [:]
        for implementation in implementations {
            let store = try implementation.open(path: template.path(for: implementation), synchronous: synchronous)
            answers[implementation] = try names.map { name in
                guard let policy = try store.policy(named: name) else { return "no \(name)" }
                return describe(policy)
            }
            exports[implementation] = try store.exportDocument()
        }
        guard Set(answers.values).count == 1 else {
            throw BenchmarkFailure("the implementations read different policies: \(answers)")
        }
        guard let ours = exports[.ours] else { return }
        for (implementation, export) in exports where implementation != .ours {
            let same = implementation == .grdb ? try PolicyDocument(json: export) == PolicyDocument(json: ours) : export == ours
            guard same else { throw BenchmarkFailure("the \(implementation.title) export differs from the library's") }
        }
    }

    private static func describe(_ policy: Policy) -> String {
        let dates = [policy.createdAt, policy.updatedAt, policy.rulesetsUpdatedAt]
            .map { String(Int(($0.timeIntervalSince1970 * 1_000).rounded())) }
        return "\(policy.id) \(policy.name) \(policy.description) \(policy.xdrEnabled) \(policy.rulesets) "
            + "\(policy.revision) \(dates)"
    }
}
