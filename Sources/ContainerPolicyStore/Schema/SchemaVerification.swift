import Synchronization

/// One way a file's schema differs from the one this library's migrations make.
///
/// ```swift
/// for difference in try store.perform(.schemaDifferences()) { print(difference) }   // trigger evil: added
/// ```
public struct SchemaDifference: Sendable, Hashable, CustomStringConvertible {
    /// What happened to the object.
    public enum Change: String, Sendable, Hashable {
        /// In the file, not in the library's schema.
        case added
        /// In the library's schema, not in the file.
        case missing
        /// In both, with other SQL.
        case changed
    }

    public let change: Change
    /// `table`, `index`, `trigger` or `view`.
    public let type: String
    public let name: String

    public var description: String { "\(type) \(name): \(change.rawValue)" }
}

/// The objects of a schema as SQLite keeps them in `sqlite_schema`.
struct SchemaObject: Hashable, Sendable {
    let type: String
    let name: String
    /// The SQL text as written; nil for the indexes SQLite makes for UNIQUE constraints.
    let sql: String?
}

/// Compares a database's schema, object by object and as text, with the one the embedded
/// migrations make: a trigger added in the shell, one dropped or a view replaced would
/// otherwise be trusted by every write.
enum SchemaVerification {
    /// The differences between the schema of `connection`'s database, at migration `version`,
    /// and the schema the library's first `version` migrations make. Statistics tables
    /// (`ANALYZE`'s `sqlite_stat*`) are left out: they change what the planner knows, not
    /// what the schema does.
    static func differences(in connection: Connection, version: Int) throws -> [SchemaDifference] {
        let found = try objects(in: connection)
        let expected = try expectedObjects(version: version)
        let foundByKey = Dictionary(uniqueKeysWithValues: found.map { (Key($0), $0) })
        let expectedByKey = Dictionary(uniqueKeysWithValues: expected.map { (Key($0), $0) })
        var differences: [SchemaDifference] = []
        for object in found {
            guard let wanted = expectedByKey[Key(object)] else {
                differences.append(SchemaDifference(change: .added, type: object.type, name: object.name))
                continue
            }
            if wanted.sql != object.sql {
                differences.append(SchemaDifference(change: .changed, type: object.type, name: object.name))
            }
        }
        for object in expected where foundByKey[Key(object)] == nil {
            differences.append(SchemaDifference(change: .missing, type: object.type, name: object.name))
        }
        return differences.sorted { ($0.type, $0.name) < ($1.type, $1.name) }
    }

    private struct Key: Hashable {
        let type: String
        let name: String

        init(_ object: SchemaObject) {
            type = object.type
            name = object.name
        }
    }

    private static func objects(in connection: Connection) throws -> [SchemaObject] {
        try connection.query(
            "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
        ) { row in SchemaObject(type: row.text(0), name: row.text(1), sql: row.optionalText(2)) }
    }

    /// The schema of each older migration version, made once per process when a file at
    /// that version is opened.
    private static let expected = Mutex<[Int: [SchemaObject]]>([:])

    /// The latest schema is embedded (`latestSchema`, checked by a test against the
    /// migrations): applying them in every process would cost more than the comparison.
    private static func expectedObjects(version: Int) throws -> [SchemaObject] {
        if version == Migration.embedded.last?.version { return latestSchema }
        if let known = expected.withLock({ $0[version] }) { return known }
        let objects = try objectsMade(byMigrationsUpTo: version)
        expected.withLock { $0[version] = objects }
        return objects
    }

    /// The schema the first `version` migrations make, in a private in-memory database.
    static func objectsMade(byMigrationsUpTo version: Int) throws -> [SchemaObject] {
        let scratch = try Connection(.memory, options: ConnectionOptions())
        defer { scratch.close() }
        for migration in Migration.embedded where migration.version <= version {
            try scratch.execute(migration.sql)
        }
        return try objects(in: scratch)
    }
}
