import CSQLite
import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import policyctl
@testable import store_stress

/// New files are private; every connection, whoever opens it, runs hardened; no SQL is built
/// from values; a schema altered to run an unsafe or unknown function never runs it.
@Suite struct SecurityTests {
    // MARK: File modes

    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions].map { ($0 as! NSNumber).intValue & 0o777 }
    }

    /// 0600 for the database and its -wal, -shm and -journal files, whatever the umask: made
    /// by the library (through store-stress, which reports the modes in the middle of a write
    /// transaction, when the side files exist), by policyctl and by store-stress. The umask is
    /// set in a shell for each process: changing the test process's own would race the other
    /// tests running beside it.
    @Test(arguments: ["000", "022", "077"])
    func newDatabaseFilesAreOwnerOnly(umask mask: String) throws {
        let scratch = try Scratch("modes")
        var found: [String: String] = [:]
        let stress = try Binaries.storeStress
        for journal in ["wal", "rollback"] {
            let path = scratch.path("library-\(journal).sqlite")
            let result = try Subprocess.run("/bin/sh", ["-c", "umask \(mask); exec \"$0\" probe --db \"$1\" --journal \"$2\" modes", stress, path, journal])
            let detail = result.output.split(separator: "\n").compactMap { try? JSONDecoder().decode(ProbeStep.self, from: Data($0.utf8)) }
                .first { $0.action == "modes" }?.detail ?? ""
            for entry in detail.split(separator: " ") {
                let parts = entry.split(separator: "=")
                if parts.count == 2, parts[1] != "-" { found["\(journal) \(parts[0])"] = String(parts[1]) }
            }
        }
        let policyctlPath = scratch.path("policyctl.sqlite")
        let policyctl = try Subprocess.run("/bin/sh", ["-c", "umask \(mask); exec \"$0\" --db \"$1\" policy create p", try Binaries.policyctl, policyctlPath])
        #expect(policyctl.ending == .exited(0), "\(policyctl.error)")
        found["policyctl db"] = Self.mode(policyctlPath).map { String($0, radix: 8) }
        // The library in this process, under the umask the tests run with.
        let inProcess = scratch.path("in-process.sqlite")
        let store = try PolicyStore(path: inProcess)
        try store.perform(.createPolicy(named: "p"))
        for suffix in ["", "-wal", "-shm"] { found["in-process db\(suffix)"] = Self.mode(inProcess + suffix).map { String($0, radix: 8) } }

        let wrong = found.filter { $0.value != "600" }
        #expect(wrong.isEmpty, "umask \(mask): \(wrong)")
        for expected in ["wal db", "wal db-wal", "wal db-shm", "rollback db", "rollback db-journal", "policyctl db", "in-process db-wal"] {
            #expect(found[expected] != nil, "umask \(mask): no mode for \(expected) in \(found)")
        }
    }

    // MARK: Hardening of every connection

    static func hardening(_ store: PolicyStore) throws -> [String] {
        try store.withConnection { connection in
            func config(_ option: Int32) -> Int32 {
                var value: Int32 = -1
                _ = csqlite_db_config_flag(connection.handle, option, -1, &value)
                return value
            }
            var problems: [String] = []
            let trusted = try connection.queryFirst("PRAGMA trusted_schema") { $0.int(0) }
            if trusted != 0 { problems.append("trusted_schema is \(String(describing: trusted))") }
            if config(SQLITE_DBCONFIG_TRUSTED_SCHEMA) != 0 { problems.append("SQLITE_DBCONFIG_TRUSTED_SCHEMA is on") }
            if config(SQLITE_DBCONFIG_DEFENSIVE) != 1 { problems.append("SQLITE_DBCONFIG_DEFENSIVE is off") }
            if config(SQLITE_DBCONFIG_DQS_DML) != 0 || config(SQLITE_DBCONFIG_DQS_DDL) != 0 { problems.append("double-quoted strings are on") }
            if try connection.queryFirst("PRAGMA foreign_keys", [], { $0.int(0) }) != 1 { problems.append("foreign_keys is off") }
            return problems
        }
    }

    /// The library's connections of every kind, policyctl's (as its commands open them) and
    /// store-stress's.
    @Test func everyConnectionIsHardened() throws {
        let scratch = try Scratch("hardening")
        let path = scratch.path("policies.sqlite")
        var stores: [(String, PolicyStore)] = []
        stores.append(("library file", try PolicyStore(path: path)))
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        stores.append(("library read-only", try PolicyStore(path: path, options: readOnly)))
        var rollback = StoreOptions()
        rollback.journalMode = .rollback
        stores.append(("library rollback journal", try PolicyStore(path: scratch.path("rollback.sqlite"), options: rollback)))
        stores.append(("library in memory", try PolicyStore.inMemory()))
        // policyctl: the store its commands get, and the ones a create rehearses on and writes to.
        let option = try DatabaseOption.parse(["--db", path])
        stores.append(("policyctl existingStore", try option.existingStore()))
        let created = try DatabaseOption.parse(["--db", scratch.path("created-by-policyctl.sqlite")])
        let rehearsed = LockedArray<PolicyStore>()
        _ = try created.create { store in rehearsed.append(store); return 0 }
        for (index, store) in rehearsed.values.enumerated() { stores.append(("policyctl create #\(index + 1)", store)) }
        // store-stress.
        let arguments = try Arguments(["probe", "--db", path, "--timeout-ms", "100"])
        stores.append(("store-stress", try StressStore.open(path: path, options: try StressStore.options(arguments))))

        #expect(stores.count >= 8)
        for (label, store) in stores {
            let problems = try Self.hardening(store)
            #expect(problems.isEmpty, "\(label): \(problems)")
        }
    }

    // MARK: SQL is never built from values

    /// The allowed exceptions, each with why it is safe.
    static let exceptions: [SQLScanner.Exception] = [
        .init(file: "SQLiteCore/Connection.swift", argument: "sql", reason: "run/query/queryFirst/execute/statement pass their caller's SQL on; the callers are what is checked"),
        .init(file: "SQLiteCore/Connection.swift", argument: "kind.rawValue", reason: "TransactionKind's raw values: \"BEGIN DEFERRED\", \"BEGIN IMMEDIATE\""),
        .init(file: "SQLiteCore/Migrator.swift", argument: "\"PRAGMA synchronous = \\(…)\"", reason: "journal.synchronous is StoreOptions.Synchronous.rawValue (FULL, NORMAL); a PRAGMA takes no bound value"),
        .init(file: "SQLiteCore/Migrator.swift", argument: "\"PRAGMA journal_mode = \\(…)\"", reason: "journal.mode is StoreOptions.JournalMode.rawValue (WAL, DELETE); a PRAGMA takes no bound value"),
        .init(file: "SQLiteCore/Migrator.swift", argument: "migration.sql", reason: "the embedded Migrations/*.sql, compiled into the library"),
        .init(file: "SQLiteCore/SchemaVerification.swift", argument: "migration.sql", reason: "the embedded Migrations/*.sql, applied to a private in-memory database"),
        .init(file: "Store/StoredObject.swift", argument: "Object.storage.byName.sql", reason: "a kind's ObjectStorage holds its NamedSQL (PolicySQL.byName, RulesetSQL.byName), each checked where it is declared"),
        .init(file: "Store/StoredObject.swift", argument: "Object.storage.page.sql", reason: "a kind's ObjectStorage holds its NamedSQL (PolicySQL.page, RulesetSQL.page), each checked where it is declared"),
        .init(file: "Store/StoredObject.swift", argument: "Object.storage.count.sql", reason: "a kind's ObjectStorage holds its NamedSQL (PolicySQL.count, RulesetSQL.count), each checked where it is declared"),
        .init(file: "Store/StoredObject.swift", argument: "Object.storage.copy.sql", reason: "a kind's ObjectStorage holds its NamedSQL (PolicySQL.copy, RulesetSQL.copy), each checked where it is declared"),
        .init(file: "Store/StoredObject.swift", argument: "Object.storage.copyParts.sql", reason: "a kind's ObjectStorage holds its NamedSQL (PolicySQL.copyLinks, RulesetSQL.copyRules), each checked where it is declared"),
    ]

    /// The sources of the library and of its SQLite core, by path below `Sources/ContainerPolicyStore`
    /// (`Store/PolicyStore.swift`) or as `SQLiteCore/Connection.swift`.
    static func librarySources() throws -> [String: String] {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        var files: [String: String] = [:]
        for (folder, prefix) in [("ContainerPolicyStore", ""), ("SQLiteCore", "SQLiteCore/")] {
            let root = sources.appendingPathComponent(folder)
            let enumerator = FileManager.default.enumerator(atPath: root.path)
            while let item = enumerator?.nextObject() as? String {
                guard item.hasSuffix(".swift") else { continue }
                files[prefix + item] = try String(contentsOf: root.appendingPathComponent(item), encoding: .utf8)
            }
        }
        return files
    }

    @Test func everySQLStatementIsALiteralWithBoundValues() throws {
        let sources = try Self.librarySources()
        #expect(sources.count > 10, "found \(sources.count) source files")
        let scanner = SQLScanner(exceptions: Self.exceptions)
        let result = scanner.scan(sources)
        #expect(result.findings.isEmpty, "\(result.findings.map(\.description).joined(separator: "\n"))")
        #expect(result.calls > 40, "only \(result.calls) SQL calls found: is the scanner still reading the sources?")
        // SQLite's C entry points only in the SQLite core, which alone imports the shim.
        for (file, text) in sources where !file.hasPrefix("SQLiteCore/") {
            #expect(!text.contains("import CSQLite"), "\(file) imports CSQLite")
            for entry in ["sqlite3_exec", "sqlite3_prepare", "sqlite3_get_table", "sqlite3_mprintf"] {
                #expect(!text.contains(entry), "\(file) calls \(entry)")
            }
        }
        print("[reliability] SQL scan: \(result.calls) calls in \(sources.count) files, \(result.exceptionsUsed.count) allowed exceptions: \(result.exceptionsUsed.map { "\($0.file) \($0.argument)" }.sorted().joined(separator: "; "))")
    }

    /// The scanner must catch what it is there to catch.
    @Test func theScannerCatchesSQLBuiltFromValues() {
        let cases: [(String, Bool)] = [
            ("try connection.run(\"DELETE FROM policies WHERE name = '\\(name)'\")", true),
            ("try connection.query(\"\"\"\n SELECT * FROM policies\n WHERE name = '\\(name)'\n \"\"\") { $0 }", true),
            ("try connection.queryFirst(#\"SELECT \\#(column) FROM policies\"#) { $0 }", true),
            ("let sql = \"SELECT * FROM \" + table\ntry connection.query(sql) { $0 }", true),
            ("static let columns = \"SELECT \\(list)\"\nfunc f() { try connection.query(Self.columns + \" WHERE id = ?\", [x]) { $0 } }", true),
            ("try connection.execute(String(format: \"DELETE FROM %@\", table))", true),
            ("try connection.run(\"UPDATE policies SET description = \" + description)", true),
            ("try connection.run(\"DELETE FROM policies WHERE id = ?\", [SQLValue(id)])", false),
            ("static let columns = \"\"\"\n SELECT id\n FROM policies\n \"\"\"\nfunc f() { try connection.queryFirst(Self.columns + \" WHERE name = ?\", [SQLValue(name)]) { $0 } }", false),
            ("let sql = kind == .policy\n    ? \"SELECT name FROM policies WHERE name = ?\"\n    : \"SELECT name FROM rulesets WHERE name = ?\"\nlet x = try connection.queryFirst(sql, [SQLValue(name)]) { $0 }", false),
            ("// try connection.run(\"DELETE FROM x WHERE y = '\\(z)'\")\ntry connection.run(\"COMMIT\")", false),
            ("enum T { static let x = NamedSQL(\"x\", \"DELETE FROM p WHERE id = ?\") }\nfunc f() { try connection.run(T.x.sql, [v]) }", false),
            ("enum T { static let x = NamedSQL(\"x\", \"DELETE FROM p WHERE id = \\(id)\") }\nfunc f() { try connection.run(T.x.sql) }", true),
            ("enum T { static let x = NamedSQL(\"x\", \"SELECT \" + Other.columns(prefix: \"p.\")) }\nfunc f() { try connection.run(T.x.sql) }", true),
            ("enum T { static let x = NamedSQL(\"x\", \"SELECT \" + PolicyContent.columns(prefix: \"p.\")) }\nfunc f() { try connection.run(T.x.sql) }", false),
            ("enum T { static let x = NamedSQL(\"x\", \"SELECT 1\") }\nfunc f() { let x = \"DROP \" + v\ntry connection.run(T.x.sql) }", false),
        ]
        for (source, isUnsafe) in cases {
            let findings = SQLScanner().scan(["Case.swift": source]).findings
            #expect(findings.isEmpty != isUnsafe, "\(source): \(findings)")
        }
    }

    // MARK: A schema altered to run what it should not

    /// Triggers added with the sqlite3 shell: a function SQLite calls unsafe in a schema
    /// (`load_extension`, `fts3_tokenizer`, `json` in 3.40), and one that exists only in the
    /// shell and writes a file (`writefile`). Opening the file for writing is refused, naming
    /// the trigger (the schema check); should a connection write all the same, its hardening
    /// fails the write without running the function. Nothing is written.
    @Test(arguments: ["load_extension('/tmp/evil.so')", "fts3_tokenizer('simple')", "json('{}')", "writefile('PWNED', 'pwned')"])
    func aTriggerCallingAnUnsafeOrUnknownFunctionNeverRuns(call: String) throws {
        let scratch = try Scratch("evil-trigger")
        let path = scratch.path("policies.sqlite")
        try Databases.good(path)
        let marker = scratch.path("pwned")
        let body = call.replacingOccurrences(of: "PWNED", with: marker)
        let added = try shell(path, "CREATE TRIGGER evil AFTER INSERT ON policies BEGIN SELECT \(body); END;")
        #expect(added.ok, "\(added.error)")
        let rows = try Databases.rows(path)

        let error = try #require(#expect(throws: PolicyStoreError.self) { try PolicyStore(path: path) })
        #expect(error == .incompatibleDatabase(path: path, .alteredSchema([SchemaDifference(change: .added, type: "trigger", name: "evil")])))
        // Read-only, the file can still be read: the trigger only fires on insert.
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        #expect(try PolicyStore(path: path, options: readOnly).perform(.count(Policy.self)) == 2)
        // Below the schema check, the hardening of every connection stops the trigger too.
        let connection = try Connection(.file(path: path), options: ConnectionOptions())
        let hardened = #expect(throws: SQLiteError.self) { try connection.run("INSERT INTO policies (name) VALUES ('victim')") }
        #expect(hardened?.message.contains("unsafe use of") == true || hardened?.message.contains("no such function") == true, "\(String(describing: hardened))")
        connection.close()

        let cli = try Subprocess.run(try Binaries.policyctl, ["--db", path, "policy", "create", "victim"])
        #expect(cli.ending == .exited(1) && cli.error.hasPrefix("error: "), "\(cli.error)")
        let stress = try probe(path, ["write"])
        #expect(stress["open"]?.ok == false && stress["open"]?.error?.kind == "incompatibleDatabase.alteredSchema", "\(stress)")

        #expect(try Databases.rows(path) == rows, "something was written")
        #expect(!FileManager.default.fileExists(atPath: marker), "the trigger ran")
        print("[reliability] evil trigger \(call): library → \(ErrorReport.caseName(error)): \(error); policyctl → \(cli.error.trimmingCharacters(in: .newlines)); store-stress → \(stress["open"]?.error?.kind ?? "?")")

        if call.hasPrefix("json") {
            // The same trigger runs in a connection that trusts the schema (the shell's
            // default): the hardening is what stops it.
            let trusting = try shell(path, "INSERT INTO policies (name) VALUES ('shell_victim');", options: ["-cmd", "PRAGMA trusted_schema=ON"])
            #expect(trusting.ok, "a trusting connection did not run the trigger either; the test would prove nothing: \(trusting.error)")
        }
    }
}
