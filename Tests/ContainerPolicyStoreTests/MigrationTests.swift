import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

@Suite struct MigrationTests {
    func migrationFiles() throws -> [URL] {
        try FileManager.default
            .contentsOfDirectory(at: packageRoot.appendingPathComponent("Migrations"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func embeddedCopyMatchesTheMigrationsFolderByteForByte() throws {
        let files = try migrationFiles()
        #expect(files.count == PolicyStoreSchema.migrations.count, "run Scripts/embed-migrations")
        for (file, migration) in zip(files, PolicyStoreSchema.migrations) {
            #expect(file.deletingPathExtension().lastPathComponent == migration.name)
            #expect(try String(contentsOf: file, encoding: .utf8) == migration.sql, "run Scripts/embed-migrations")
        }
        #expect(PolicyStoreSchema.migrations.map(\.version) == Array(1...PolicyStoreSchema.migrations.count))
    }

    @Test func theEmbeddedSchemaIsTheOneTheMigrationsMake() throws {
        let made = try SchemaVerification.objectsMade(by: PolicyStoreSchema.migrations)
        #expect(Set(PolicyStoreSchema.latestObjects) == Set(made), "run Scripts/embed-migrations")
        #expect(PolicyStoreSchema.latestObjects.count == made.count && made.count > 40)
    }

    /// Docs/schema.sql is every object's SQL as the migrations leave it, in the script's order.
    @Test func theSchemaDocumentIsTheSchemaInForce() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("Docs/schema.sql"), encoding: .utf8)
        let order = ["table": 1, "index": 2, "view": 3, "trigger": 4]
        let scratch = try Connection(.memory, options: ConnectionOptions())
        defer { scratch.close() }
        for migration in PolicyStoreSchema.migrations { try scratch.execute(migration.sql) }
        let objects = try scratch.query("SELECT type, tbl_name, name, sql FROM sqlite_schema WHERE sql IS NOT NULL") {
            (order[$0.text(0)] ?? 5, $0.text(1), $0.text(2), $0.text(3))
        }.sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
        let body = document.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("--") }.joined(separator: "\n")
        #expect(body == objects.map { "\n" + $0.3 + ";" }.joined(separator: "\n") + "\n", "run Scripts/embed-migrations")
        #expect(objects.count > 40)
    }

    @Test func checksumIsTheSHA256OfTheFile() throws {
        for (file, migration) in zip(try migrationFiles(), PolicyStoreSchema.migrations) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sha256sum", file.path]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(printed.prefix(64) == migration.checksum[...])
        }
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(String(repeating: "a", count: 1_000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func theShellAppliedFilesGiveTheSameSchemaAsTheLibrary() throws {
        let directory = try TemporaryDirectory()
        let byShell = directory.path("shell.sqlite")
        let byLibrary = directory.path("library.sqlite")
        let script = try migrationFiles().map { try String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        #expect(try sqliteShell(byShell, script).succeeded)
        _ = try PolicyStore(path: byLibrary)
        let schemaQuery = "PRAGMA application_id; SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name;"
        let shellSchema = try sqliteShell(byShell, schemaQuery).output
        let librarySchema = try sqliteShell(byLibrary, schemaQuery).output
        #expect(shellSchema == librarySchema)
        #expect(shellSchema.contains("CREATE TABLE policies"))
        #expect(shellSchema.hasPrefix("1129337684\n"))
    }

    @Test func eachMigrationIsRecordedWithItsChecksum() throws {
        let directory = try TemporaryDirectory()
        let (store, _) = try makeStore(in: directory)
        let records = try store.withConnection { connection in
            try connection.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version") {
                [String($0.int(0)), $0.text(1), $0.text(2), $0.text(3)]
            }
        }
        #expect(records.map { $0[0] } == PolicyStoreSchema.migrations.map { String($0.version) })
        #expect(records.map { $0[1] } == PolicyStoreSchema.migrations.map(\.name))
        #expect(records.map { $0[2] } == PolicyStoreSchema.migrations.map(\.checksum))
        #expect(records.allSatisfy { $0[3].count == 24 && $0[3].hasSuffix("Z") })
    }

    @Test func anOlderDatabaseIsUpgradedInOrder() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old.sqlite")
        let first = Migrator(try PolicyStoreSchema.schema.prefix(1))
        let journal = JournalSettings(mode: "WAL", synchronous: "FULL")
        do {
            let connection = try Connection(.file(path: path), options: ConnectionOptions())
            try first.prepare(connection, readOnly: false, initializeEmpty: true, journal: journal)
        }
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        #expect(throws: PolicyStoreError.incompatibleDatabase(
            path: path, .needsMigration(found: 1, required: PolicyStoreSchema.migrations.count))) {
            try PolicyStore(path: path, options: readOnly)
        }
        let store = try PolicyStore(path: path)
        #expect(try store.perform(.count(Policy.self)) == 0)
        let versions = try store.withConnection { try $0.query("SELECT version FROM schema_migrations") { $0.int(0) } }
        #expect(versions == PolicyStoreSchema.migrations.map(\.version))
    }

    /// Migration 4 makes the clusters table again with the partition-aware ARN rule; a row
    /// that the old rule let in and the new one refuses is kept as it is, and check names it.
    @Test func aClusterRowTheNewRuleRefusesSurvivesMigration4() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("v3.sqlite")
        do {
            let connection = try Connection(.file(path: path), options: ConnectionOptions())
            try Migrator(try PolicyStoreSchema.schema.prefix(3)).prepare(
                connection, readOnly: false, initializeEmpty: true, journal: JournalSettings(mode: "WAL", synchronous: "FULL"))
            try connection.execute("""
                INSERT INTO clusters (arn) VALUES ('arn:aws:ecs:us--1:123456789012:cluster/old');
                INSERT INTO clusters (arn) VALUES ('arn:aws:ecs:us-east-1:123456789012:cluster/good');
                """)
            connection.close()
        }
        let store = try PolicyStore(path: path)
        #expect(try store.perform(.clusters()).map(\.arn) == [
            "arn:aws:ecs:us--1:123456789012:cluster/old", "arn:aws:ecs:us-east-1:123456789012:cluster/good",
        ])
        let findings = try store.perform(.checkIntegrity()).map(\.message)
        #expect(findings == [PolicyStoreError.invalidClusterARN("arn:aws:ecs:us--1:123456789012:cluster/old", .malformedRegion).description])
        #expect(try store.perform(.schemaDifferences()).isEmpty)
    }

    /// A migration that fails names itself and SQLite's reason, not its whole script.
    @Test func aFailedMigrationIsNamedNotQuoted() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("failing.sqlite")
        let script = "CREATE TABLE broken (id INTEGER PRIMARY KEY) STRICT;\n" + String(repeating: "-- filler\n", count: 2_000)
            + "CREATE TABLE broken (again TEXT);"
        let migrator = Migrator(DatabaseSchema(
            migrations: PolicyStoreSchema.migrations + [Migration(version: PolicyStoreSchema.migrations.count + 1, name: "broken", sql: script)],
            applicationID: PolicyStoreSchema.applicationID, latestObjects: []))
        let connection = try Connection(.file(path: path), options: ConnectionOptions())
        defer { connection.close() }
        let error = #expect(throws: DatabaseProblem.self) {
            try migrator.prepare(connection, readOnly: false, initializeEmpty: true, journal: JournalSettings(mode: "WAL", synchronous: "FULL"))
        }
        #expect(error == .migrationFailed(version: PolicyStoreSchema.migrations.count + 1, name: "broken", message: "table broken already exists"))
        let description = PolicyStoreError.incompatibleDatabase(path: path, try #require(error)).description
        #expect(description.count < 200 && !description.contains("filler"), "\(description)")
        #expect(try connection.queryFirst("SELECT max(version) FROM schema_migrations") { $0.int(0) } == PolicyStoreSchema.migrations.count, "the broken migration was rolled back whole")
        #expect(try connection.queryFirst("SELECT count(*) FROM sqlite_schema WHERE name = 'broken'") { $0.int(0) } == 0)
    }

    @Test func aMissingFileIsCreatedOnlyWhenAllowed() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("absent.sqlite")
        var options = StoreOptions()
        options.createIfMissing = false
        #expect(throws: PolicyStoreError.databaseNotFound(path: path)) { try PolicyStore(path: path, options: options) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// Opening `path` is refused with `problem`, and the file keeps every byte.
    func expectRefused(_ path: String, _ problem: DatabaseProblem, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try fileBytes(path)
        #expect(throws: PolicyStoreError.incompatibleDatabase(path: path, problem), sourceLocation: sourceLocation) {
            try PolicyStore(path: path)
        }
        #expect(try fileBytes(path) == before, "the refused file changed", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), sourceLocation: sourceLocation)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedAndUnchanged() throws {
        let directory = try TemporaryDirectory()
        let text = directory.path("notes.txt")
        try Data("policies: web, api\n".utf8).write(to: URL(fileURLWithPath: text))
        try expectRefused(text, .notADatabase)
        let picture = directory.path("picture.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0xAB, count: 4_096))
            .write(to: URL(fileURLWithPath: picture))
        try expectRefused(picture, .notADatabase)
    }

    @Test func anotherApplicationsDatabaseIsRefusedAndUnchanged() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("other.sqlite")
        #expect(try sqliteShell(path, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');").succeeded)
        try expectRefused(path, .otherApplication(applicationID: 0, tables: ["notes"]))
        let marked = directory.path("marked.sqlite")
        #expect(try sqliteShell(marked, "PRAGMA application_id = 42;").succeeded)
        try expectRefused(marked, .otherApplication(applicationID: 42, tables: []))
    }

    @Test func aDatabaseFromANewerVersionIsRefusedAndUnchanged() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("newer.sqlite")
        try PolicyStore(path: path).perform(.createPolicy(named: "web"))
        let newer = PolicyStoreSchema.migrations.count + 1
        #expect(try sqliteShell(path, """
            INSERT INTO schema_migrations VALUES (\(newer), '000\(newer)_future', '\(String(repeating: "0", count: 64))', '2030-01-01T00:00:00.000Z');
            """).succeeded)
        try expectRefused(path, .newerSchema(found: newer, supported: PolicyStoreSchema.migrations.count))
    }

    @Test func anAlteredMigrationIsRefusedAndUnchanged() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("altered.sqlite")
        _ = try PolicyStore(path: path)
        #expect(try sqliteShell(path, "UPDATE schema_migrations SET checksum = '\(String(repeating: "f", count: 64))' WHERE version = 2;").succeeded)
        try expectRefused(path, .alteredMigration(version: 2, name: PolicyStoreSchema.migrations[1].name))
    }

    @Test func aMarkedDatabaseWithoutItsRecordIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("shell-made.sqlite")
        let script = try migrationFiles().map { try String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        #expect(try sqliteShell(path, script).succeeded)
        try expectRefused(path, .missingMigrationRecord)
    }
}
