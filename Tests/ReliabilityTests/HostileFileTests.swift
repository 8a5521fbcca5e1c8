import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import store_stress

/// Files that are not what they should be. Each must give a `PolicyStoreError` case a caller
/// can act on, with a message that says what to do, and stay byte for byte as it was,
/// through the library (read-write and read-only) and through `policyctl`.
@Suite struct HostileFileTests {
    enum Hostile: String, CaseIterable, CustomTestStringConvertible {
        case textFile, picture, sqliteHeaderThenGarbage, emptyHeader
        case truncatedTo50Bytes, truncatedToOnePage, truncatedToHalf, truncatedByOnePage, truncatedByOneByte
        case otherApplication, otherApplicationIdentified
        case newerVersion, alteredMigration
        case folder

        var testDescription: String { rawValue }

        /// Writes the hostile file at `path` (from a good database for the damaged ones).
        func make(_ path: String, scratch: Scratch) throws {
            let good = scratch.path("good-\(UUID().uuidString).sqlite")
            try Databases.good(good, journal: .rollback)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
            let page = 4_096
            var data: Data
            switch self {
            case .textFile: data = Data("policies:\n  - web.prod\n".utf8)
            case .picture: data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<4_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            case .sqliteHeaderThenGarbage: data = Data("SQLite format 3\u{0}".utf8) + Data((0..<8_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
            case .emptyHeader: data = Data("SQLite format 3\u{0}".utf8)
            case .truncatedTo50Bytes: data = bytes.prefix(50)
            case .truncatedToOnePage: data = bytes.prefix(page)
            case .truncatedToHalf: data = bytes.prefix(bytes.count / 2)
            case .truncatedByOnePage: data = bytes.prefix(bytes.count - page)
            case .truncatedByOneByte: data = bytes.prefix(bytes.count - 1)
            case .otherApplication:
                try shell(path, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada');")
                return
            case .otherApplicationIdentified:
                try shell(path, "PRAGMA application_id = 42; PRAGMA user_version = 3;")
                return
            case .newerVersion:
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                try shell(path, "INSERT INTO schema_migrations VALUES (99, 'future', '\(String(repeating: "a", count: 64))', '2030-01-01T00:00:00.000Z');")
                return
            case .alteredMigration:
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                try shell(path, "UPDATE schema_migrations SET checksum = '\(String(repeating: "0", count: 64))' WHERE version = 2;")
                return
            case .folder:
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
                return
            }
            try data.write(to: URL(fileURLWithPath: path))
        }
    }

    /// Everything on disk at and beside `path` (every byte: `Data` compares whole contents),
    /// or the folder's listing for a folder.
    struct DiskState: Equatable, CustomStringConvertible {
        var files: [String: Data] = [:]
        var listing: [String]?

        init(_ path: String) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                listing = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            } else {
                files = FileSnapshot(path).files
            }
        }

        var description: String {
            listing.map { "folder [\($0.joined(separator: ", "))]" }
                ?? files.keys.sorted().map { "\($0): \(files[$0]!.count) bytes" }.joined(separator: ", ")
        }
    }

    static func state(_ path: String) -> DiskState { DiskState(path) }

    @Test(arguments: Hostile.allCases)
    func aHostileFileIsRefusedWithATypedErrorAndLeftUnchanged(_ hostile: Hostile) throws {
        let scratch = try Scratch("hostile-file")
        let path = scratch.path("policies.sqlite")
        try hostile.make(path, scratch: scratch)
        let before = Self.state(path)

        // The library, for writing and for reading only; each operation after a successful
        // open, should the open get through.
        var errors: [PolicyStoreError] = []
        for readOnly in [false, true] {
            var options = StoreOptions()
            options.readOnly = readOnly
            do {
                let store = try PolicyStore(path: path, options: options)
                for operation in 0..<3 {
                    do {
                        switch operation {
                        case 0: _ = try store.perform(.list(Policy.self, limit: 100)) + [] ; _ = try store.perform(.list(Ruleset.self, limit: 100))
                        case 1: if !readOnly { try store.perform(.createPolicy(named: "intruder")) }
                        default: _ = try store.perform(.checkIntegrity())
                        }
                    } catch {
                        errors.append(error)
                    }
                }
            } catch {
                errors.append(error)
            }
        }
        #expect(!errors.isEmpty, "\(hostile): the library used the file")
        #expect(Self.state(path) == before, "\(hostile): the library changed the file")

        // policyctl: one error line, exit 1, the same words as the library.
        let policyctl = try Binaries.policyctl
        for arguments in [["policy", "list"], ["policy", "create", "intruder"], ["check"]] {
            let result = try Subprocess.run(policyctl, ["--db", path] + arguments)
            #expect(result.ending == .exited(1), "\(hostile) policyctl \(arguments): \(result.ending)")
            #expect(result.error.hasPrefix("error: ") && result.error.filter { $0 == "\n" }.count == 1, "\(hostile): \(result.error)")
        }
        #expect(Self.state(path) == before, "\(hostile): policyctl changed the file")

        let first = errors[0]
        print("[reliability] hostile file \(hostile): \(ErrorReport.caseName(first)): \(first)")
        #expect(!first.isUntypedSQLiteError, "\(hostile): \(first)")
    }

    /// A damaged page elsewhere than what opening reads (here the unique index of ruleset
    /// names): SQLite finds damage only where it reads. Reads that touch the page fail,
    /// `check` fails, and writes that do not touch it go through (SQLite's design: run
    /// `policyctl check` after a crash of the disk, restore from a backup or an export).
    @Test func aDamagedPageIsFoundWhereItIsReadAndByCheck() throws {
        let scratch = try Scratch("damaged")
        let path = scratch.path("policies.sqlite")
        try Databases.good(path, journal: .rollback)
        let index = try #require(Int(try shell(path, "SELECT rootpage FROM sqlite_schema WHERE name = 'sqlite_autoindex_rulesets_1';")
            .output.trimmingCharacters(in: .whitespacesAndNewlines)))
        // Zero the page's header: its type byte becomes invalid, which SQLite detects each
        // time it loads the page (damage to cell contents would be found only by chance).
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let offset = (index - 1) * 4_096
        data.replaceSubrange(offset..<(offset + 8), with: Data(repeating: 0, count: 8))
        try data.write(to: URL(fileURLWithPath: path))

        let store = try PolicyStore(path: path)
        let read = #expect(throws: PolicyStoreError.self) { try store.perform(.createRuleset(named: "another")) }
        let check: Result<[IntegrityFinding], PolicyStoreError>
        do { check = .success(try store.perform(.checkIntegrity())) } catch { check = .failure(error) }
        let policyctlCheck = try Subprocess.run(try Binaries.policyctl, ["--db", path, "check"])
        #expect(policyctlCheck.ending == .exited(1), "policyctl check passed a damaged file")
        print("[reliability] damaged index page: createRuleset → \(read.map { "\(ErrorReport.caseName($0)): \($0)" } ?? "accepted"); checkIntegrity → \(check); policyctl check → \(policyctlCheck.error.prefix(160))")
        #expect(read.map { !$0.isUntypedSQLiteError } == true)
        #expect((try? check.get())?.isEmpty == false)
    }

    /// Reading changes nothing: `policyctl`'s read commands and a store opened with the
    /// default options, on a database that uses the rollback journal (a choice
    /// `StoreOptions.journalMode` offers), must leave every byte as it was.
    @Test func readsLeaveARollbackJournalDatabaseUnchanged() throws {
        let scratch = try Scratch("reads")
        let path = scratch.path("policies.sqlite")
        try Databases.good(path, journal: .rollback)
        let before = Self.state(path)
        let policyctl = try Binaries.policyctl
        for arguments in [["policy", "list"], ["policy", "show", "web.prod"], ["ruleset", "list"], ["check"]] {
            let result = try Subprocess.run(policyctl, ["--db", path] + arguments)
            #expect(result.ending == .exited(0), "policyctl \(arguments): \(result.error)")
        }
        let afterPolicyctl = Self.state(path)
        _ = try PolicyStore(path: path).perform(.list(Policy.self, limit: 10))
        let afterLibrary = Self.state(path)
        let mode = try shell(path, "PRAGMA journal_mode;").output.trimmingCharacters(in: .whitespacesAndNewlines)
        print("[reliability] reads of a rollback-journal database: the file \(afterPolicyctl == before ? "unchanged" : "changed") by policyctl's read commands, \(afterLibrary == afterPolicyctl ? "unchanged" : "changed") by a default store; journal_mode now \(mode)")
        #expect(afterPolicyctl == before, "policyctl's read commands changed the file")
        #expect(afterLibrary == before, "a read through the library changed the file")
        #expect(mode == "delete")
    }

    // MARK: Permissions

    enum Permission: String, CaseIterable, CustomTestStringConvertible {
        case readOnlyFile, readOnlyFolder, readOnlyFileAndFolder
        var testDescription: String { rawValue }
    }

    /// As `nobody` when the tests run as root (root ignores permissions), else as the user
    /// running them. Reads of a read-only file work; writes are refused with
    /// `.readOnlyDatabase`; nothing changes. A WAL database in a read-only folder cannot even
    /// be read: SQLite must create its -shm index beside it (a limitation of WAL, reported).
    @Test(.enabled(if: Unprivileged.isAvailable), arguments: Permission.allCases, [StoreOptions.JournalMode.wal, .rollback])
    func readOnlyFilesAndFolders(_ permission: Permission, journal: StoreOptions.JournalMode) throws {
        let scratch = try Scratch("read-only")
        let folder = scratch.path("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let path = folder + "/policies.sqlite"
        try Databases.good(path, journal: journal)
        let owner = Unprivileged.owner
        // The unprivileged user owns what it may write; the rest belongs to root (or, as an
        // ordinary user, loses its write bits).
        let fileWritable = permission == .readOnlyFolder
        let folderWritable = permission == .readOnlyFile
        if Unprivileged.isRoot {
            if fileWritable { chown(path, owner.uid, owner.gid) }
            if folderWritable { chown(folder, owner.uid, owner.gid) }
        }
        chmod(path, fileWritable ? 0o600 : 0o444)
        chmod(folder, folderWritable ? 0o755 : 0o555)
        defer { chmod(folder, 0o755); chmod(path, 0o644) }
        let before = FileSnapshot(path).database
        let rows = try Databases.rows(path)
        let journalOption = ["--journal", journal == .wal ? "wal" : "rollback"]

        let writing = try probe(path, ["read", "write", "check"], options: journalOption, asUnprivilegedUser: true)
        let reading = try probe(path, ["read"], options: journalOption + ["--read-only"], asUnprivilegedUser: true)
        let cannotRead = journal == .wal && !folderWritable
        let refusal = writing["write"]?.error ?? writing["open"]?.error
        #expect(refusal?.kind == "readOnlyDatabase", "\(String(describing: refusal))")
        #expect(refusal?.message.contains("check the permissions of the file and of its folder") == true)
        if cannotRead {
            #expect(reading["open"]?.error?.kind == "readOnlyDatabase", "\(reading)")
        } else {
            #expect(writing["read"]?.ok == true, "\(writing)")
            #expect(writing["check"]?.ok == true, "\(writing)")
            #expect(reading["read"]?.ok == true, "\(reading)")
        }
        // policyctl as the same user.
        let policyctl = try Binaries.policyctl
        let list = try Subprocess.run(policyctl, ["--db", path, "policy", "list"], asUnprivilegedUser: true)
        let create = try Subprocess.run(policyctl, ["--db", path, "policy", "create", "intruder"], asUnprivilegedUser: true)
        #expect(create.ending == .exited(1) && create.error.contains("cannot write to"), "\(create.error)")
        if !cannotRead {
            // Whatever its journal: the library chooses the journal mode only for a new file.
            #expect(list.ending == .exited(0), "\(list.error)")
        }

        #expect(FileSnapshot(path).database == before, "the database file changed")
        chmod(folder, 0o755)
        #expect(try Databases.rows(path) == rows)
        print("[reliability] \(permission) (\(journal)): write → \(refusal?.kind ?? "?"); reads \(cannotRead ? "impossible: \(reading["open"]?.error?.message ?? "")" : "work"); policyctl create → \(create.error.prefix(120))")
    }
}
