/// Why a file was refused as a policy database. The file is left as it was.
public enum DatabaseProblem: Error, Sendable, Hashable {
    /// The file is not a SQLite database at all.
    case notADatabase
    /// A SQLite database whose pages are damaged (truncated or overwritten).
    case damaged
    /// The path is a folder, not a file.
    case isAFolder
    /// A SQLite database made by another program (its `application_id` and some tables).
    case otherApplication(applicationID: Int32, tables: [String])
    /// Marked as ours but without the record of its migrations.
    case missingMigrationRecord
    /// An applied migration whose name or SQL differs from the one this library carries.
    case alteredMigration(version: Int, name: String)
    /// Migrated by a newer version of the library.
    case newerSchema(found: Int, supported: Int)
    /// Needs migrations that a read-only connection cannot apply.
    case needsMigration(found: Int, required: Int)
    /// An empty file (0 bytes, or a SQLite database with nothing in it), opened by a store that
    /// may not create a database: it is left as it is.
    case empty
    /// The schema is not the one the library's migrations made: objects were added, dropped
    /// or replaced by another program. Such a file may be opened read-only, never written.
    case alteredSchema([SchemaDifference])
    /// A migration's script failed on this file.
    case migrationFailed(version: Int, name: String, message: String)
    /// The path names a character device, a FIFO, a socket or a block device, not a file.
    case notAFile(kind: String)
    /// The path is a symbolic link to a file that does not exist.
    case danglingSymbolicLink(target: String)
    /// The path is the empty string.
    case emptyPath

    package var explanation: String {
        switch self {
        case .notADatabase:
            return "the file is not a SQLite database"
        case .damaged:
            return "the file is damaged (truncated or overwritten); restore it from a backup, or rebuild it from an export"
        case .isAFolder:
            return "it is a folder; give the path of a database file"
        case .otherApplication(let applicationID, let tables):
            let shown = tables.prefix(5).joined(separator: ", ")
            return "it is a SQLite database of another application (application_id \(applicationID), tables: \(shown.isEmpty ? "none" : shown)); use a separate file"
        case .missingMigrationRecord:
            return "it is marked as this application's database but has no schema_migrations record; it was not made by this library (rebuild it by exporting and importing)"
        case .alteredMigration(let version, let name):
            return "migration \(version) (\(name)) recorded in the file differs from the one this library carries; the schema was changed outside the library"
        case .newerSchema(let found, let supported):
            return "it was written by a newer version of this library (schema version \(found); this version knows up to \(supported)); upgrade the library or tool"
        case .needsMigration(let found, let required):
            return "its schema is at version \(found) and needs \(required); open it once for writing to upgrade it"
        case .empty:
            return "the file is empty, so it is not a database of this application yet; it was left as it is (opening it to write turns it into one)"
        case .alteredSchema(let differences):
            let shown = differences.prefix(8).map(\.description).joined(separator: "; ")
            let more = differences.count > 8 ? "; and \(differences.count - 8) more" : ""
            return "its schema was changed outside this library (\(shown)\(more)); it can be opened read-only to read it, but not written: restore it from a backup, or export it read-only and import that into a new file"
        case .migrationFailed(let version, let name, let message):
            return "migration \(version) (\(name)) failed on it: \(message); nothing of that migration was kept"
        case .notAFile(let kind):
            return "it is a \(kind), not a file; give the path of a database file"
        case .danglingSymbolicLink(let target):
            return "it is a symbolic link to \(target), which does not exist; give the path of the database itself"
        case .emptyPath:
            return "the path is empty; give the path of a database file"
        }
    }
}
