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

    package init(change: Change, type: String, name: String) {
        self.change = change
        self.type = type
        self.name = name
    }

    public var description: String { "\(type) \(name): \(change.rawValue)" }
}

/// The objects of a schema as SQLite keeps them in `sqlite_schema`.
package struct SchemaObject: Hashable, Sendable {
    package let type: String
    package let name: String
    /// The SQL text as written; nil for the indexes SQLite makes for UNIQUE constraints.
    package let sql: String?

    package init(type: String, name: String, sql: String?) {
        self.type = type
        self.name = name
        self.sql = sql
    }
}

/// Compares a database's schema, object by object and as text, with the one the embedded
/// migrations make: a trigger added in the shell, one dropped or a view replaced would
/// otherwise be trusted by every write.
package enum SchemaVerification {
    /// The differences between the schema of `connection`'s database, at migration `version`,
    /// and the schema the library's first `version` migrations make. Statistics tables
    /// (`ANALYZE`'s `sqlite_stat*`) are left out: they change what the planner knows, not
    /// what the schema does.
    package static func differences(in connection: Connection, schema: DatabaseSchema, version: Int) throws -> [SchemaDifference] {
        let found = try objects(in: connection)
        let expected = try expectedObjects(schema, version: version)
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

    /// The schema of each older migration version of an application, made once per process
    /// when a file at that version is opened.
    private static let older = Mutex<[VersionKey: [SchemaObject]]>([:])

    private struct VersionKey: Hashable {
        let applicationID: Int32
        let version: Int
    }

    /// The latest schema is the application's embedded one: applying the migrations in every
    /// process would cost more than the comparison.
    private static func expectedObjects(_ schema: DatabaseSchema, version: Int) throws -> [SchemaObject] {
        if version == schema.migrations.last?.version { return schema.latestObjects }
        let key = VersionKey(applicationID: schema.applicationID, version: version)
        if let known = older.withLock({ $0[key] }) { return known }
        let objects = try objectsMade(by: schema.migrations.filter { $0.version <= version })
        older.withLock { $0[key] = objects }
        return objects
    }

    /// The schema `migrations` make, applied in a private in-memory database.
    package static func objectsMade(by migrations: [Migration]) throws -> [SchemaObject] {
        let scratch = try Connection(.memory, options: ConnectionOptions())
        defer { scratch.close() }
        for migration in migrations { try scratch.execute(migration.sql) }
        return try objects(in: scratch)
    }
}
