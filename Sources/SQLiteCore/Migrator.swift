/// One numbered schema script from `Migrations/`.
package struct Migration: Sendable {
    package let version: Int
    package let name: String
    package let sql: String
    /// The SHA-256 of `sql`, hashed once: a schema's migrations are made once per process,
    /// where hashing on every open cost a fifth of opening a file.
    package let checksum: String

    package init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        checksum = SHA256.hex(sql)
    }
}

/// How the journal of a writable database is kept.
package struct JournalSettings: Sendable, Hashable {
    /// `PRAGMA journal_mode` value, e.g. `WAL` or `DELETE`.
    package var mode: String
    /// `PRAGMA synchronous` value, e.g. `FULL` or `NORMAL`.
    package var synchronous: String

    package init(mode: String, synchronous: String) {
        self.mode = mode
        self.synchronous = synchronous
    }
}

/// An application's schema: its migrations, in order, the `PRAGMA application_id` its first
/// migration sets, and the objects all of them make, as `sqlite_schema` holds them.
package struct DatabaseSchema: Sendable {
    package let migrations: [Migration]
    package let applicationID: Int32
    /// Embedded by the application (and checked by a test), so that no process has to apply
    /// the migrations to know what a file's schema should be.
    package let latestObjects: [SchemaObject]

    package init(migrations: [Migration], applicationID: Int32, latestObjects: [SchemaObject]) {
        self.migrations = migrations
        self.applicationID = applicationID
        self.latestObjects = latestObjects
    }

    /// The same schema with only its first `count` migrations: for files of an older version.
    package func prefix(_ count: Int) throws -> DatabaseSchema {
        let migrations = Array(migrations.prefix(count))
        return DatabaseSchema(
            migrations: migrations, applicationID: applicationID,
            latestObjects: try SchemaVerification.objectsMade(by: migrations))
    }
}

/// Brings a connection's database to an application's schema, or refuses it.
///
/// Everything that can refuse a file runs before anything is written, so a refused file is
/// left byte-for-byte as it was.
package struct Migrator {
    package let schema: DatabaseSchema
    package var migrations: [Migration] { schema.migrations }

    package init(_ schema: DatabaseSchema) {
        self.schema = schema
    }

    package var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Checks the database, sets its journal, and applies the pending migrations, each in its
    /// own transaction. A read-only connection is only checked, and may read a file whose
    /// schema was altered; a writable one refuses it. An empty file (a new database) is
    /// migrated only with `initializeEmpty`. Returns whether the file was empty.
    @discardableResult
    package func prepare(_ connection: Connection, readOnly: Bool, initializeEmpty: Bool, journal: JournalSettings) throws -> Bool {
        let applied = try connection.transaction(.deferred) { () throws -> Int in
            let applied = try appliedVersion(connection)
            if applied > 0, !readOnly {
                let differences = try SchemaVerification.differences(in: connection, schema: schema, version: applied)
                if !differences.isEmpty { throw DatabaseProblem.alteredSchema(differences) }
            }
            return applied
        }
        if applied == 0, readOnly || !initializeEmpty { throw DatabaseProblem.empty }
        if readOnly {
            if applied < latestVersion { throw DatabaseProblem.needsMigration(found: applied, required: latestVersion) }
            return false
        }
        try connection.execute("PRAGMA synchronous = \(journal.synchronous)")
        // The journal mode is kept in the file: it is chosen when the file is made (or
        // migrated), not on every open, which would write to a file that is only being read.
        if applied < latestVersion {
            try connection.execute("PRAGMA journal_mode = \(journal.mode)")
        }
        for migration in migrations where migration.version > applied {
            try connection.transaction(.immediate) {
                // Another process may have migrated while this one waited for the lock.
                guard try appliedVersion(connection) < migration.version else { return }
                try apply(migration, on: connection)
            }
        }
        return applied == 0
    }

    /// Runs one migration's script and records it. A failure names the migration rather
    /// than quoting its script; a full disk or a read-only file stays the SQLite error it is.
    private func apply(_ migration: Migration, on connection: Connection) throws {
        do {
            try connection.execute(migration.sql)
        } catch {
            switch error.code.primary {
            case .full, .readOnly, .busy, .locked, .ioError, .corrupt, .notADatabase, .cantOpen, .interrupt:
                throw SQLiteError(code: error.code, message: error.message)
            default:
                throw DatabaseProblem.migrationFailed(version: migration.version, name: migration.name, message: error.message)
            }
        }
        try connection.run(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [SQLValue(migration.version), SQLValue(migration.name), SQLValue(migration.checksum)])
    }

    /// The highest migration applied to the database, 0 for a new one, after checking that
    /// every recorded migration is one of ours, unchanged.
    package func appliedVersion(_ connection: Connection) throws -> Int {
        let applicationID: Int32
        do {
            applicationID = try connection.queryFirst("PRAGMA application_id") { Int32(truncatingIfNeeded: $0.int(0)) } ?? 0
        } catch let error as SQLiteError where error.code.primary == .notADatabase {
            throw DatabaseProblem.notADatabase
        }
        let tables = try connection.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { $0.text(0) }
        if applicationID != schema.applicationID {
            guard applicationID == 0, tables.isEmpty else {
                throw DatabaseProblem.otherApplication(applicationID: applicationID, tables: tables)
            }
            return 0
        }
        guard tables.contains("schema_migrations") else { throw DatabaseProblem.missingMigrationRecord }
        let records = try connection.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
        ) { row in (version: row.int(0), name: row.text(1), checksum: row.text(2)) }
        guard let newest = records.last else { throw DatabaseProblem.missingMigrationRecord }
        if newest.version > latestVersion {
            throw DatabaseProblem.newerSchema(found: newest.version, supported: latestVersion)
        }
        for (expected, record) in zip(migrations, records) {
            guard record.version == expected.version, record.name == expected.name,
                record.checksum == expected.checksum
            else { throw DatabaseProblem.alteredMigration(version: record.version, name: record.name) }
        }
        return newest.version
    }
}

