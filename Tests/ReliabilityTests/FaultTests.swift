import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import store_stress

/// A full disk and a database held by another process: typed errors with messages a person
/// can act on, nothing written, and the store works again once the cause is gone.
@Suite struct FaultTests {
    /// A store with enough in it that copies and imports need new pages.
    static func populate(_ store: PolicyStore) throws {
        try store.write { tx in
            for index in 0..<40 {
                try tx.createRuleset(named: "rs\(index)", description: String(repeating: "r", count: 900),
                                     rules: [RuleReference(id: String(format: "TM-%08d", index + 1))])
            }
            try tx.createPolicy(named: "big", description: String(repeating: "b", count: 900), rulesets: (0..<40).map { "rs\($0)" })
        }
    }

    /// Writes that each need new pages, tried until the disk refuses one.
    static func growingWrites(_ store: PolicyStore, rounds: Int) -> [(label: String, error: PolicyStoreError?, before: PolicyDocument?, after: PolicyDocument?)] {
        var outcomes: [(String, PolicyStoreError?, PolicyDocument?, PolicyDocument?)] = []
        for round in 0..<rounds {
            let before = try? store.perform(.exportDocument())
            var label = ""
            var failure: PolicyStoreError?
            do {
                switch round % 3 {
                case 0:
                    label = "duplicatePolicy"
                    try store.perform(.duplicate(Policy.self, named: "big", as: "copy\(round)"))
                case 1:
                    label = "importDocument"
                    try store.perform(.importDocument(PolicyDocument(rulesets: (0..<20).map {
                        .init(name: "imported\(round)_\($0)", description: String(repeating: "i", count: 900))
                    })))
                default:
                    label = "createRuleset"
                    try store.perform(.createRuleset(named: "more\(round)", description: String(repeating: "m", count: 1_000)))
                }
            } catch {
                label += " (round \(round))"
                failure = error
            }
            outcomes.append((label, failure, before, try? store.perform(.exportDocument())))
            if failure != nil { break }
        }
        return outcomes
    }

    /// `PRAGMA max_page_count` on the store's own connection (it is per connection): the
    /// database cannot grow, as on a full disk.
    @Test func aDatabaseThatCannotGrowRefusesWritesAndKeepsItsState() throws {
        let scratch = try Scratch("page-limit")
        let path = scratch.path("limit.sqlite")
        let store = try PolicyStore(path: path)
        try Self.populate(store)
        try store.withConnection { connection in
            let pages = try connection.queryFirst("PRAGMA page_count") { $0.int(0) } ?? 0
            _ = try connection.query("PRAGMA max_page_count = \(pages)") { $0.int(0) }
        }
        let outcomes = Self.growingWrites(store, rounds: 30)
        let refused = try #require(outcomes.last, "no write was tried")
        let error = try #require(refused.error, "the page limit never stopped a write")
        guard case .diskFull(_, let underlying) = error else {
            Issue.record("not the error of a full database: \(error)")
            return
        }
        #expect(underlying.code.primary == .full)
        #expect(String(describing: error).contains("full"), "\(error)")
        #expect(refused.before == refused.after, "the refused write changed the store")
        #expect(try store.perform(.checkIntegrity()).isEmpty)
        // Room again: writes work.
        try store.withConnection { connection in _ = try connection.query("PRAGMA max_page_count = 1000000") { $0.int(0) } }
        try store.perform(.createRuleset(named: "after_the_limit"))
        #expect(try shell(path, "PRAGMA integrity_check;").output == "ok\n")
        print("[reliability] page limit: \(outcomes.count - 1) writes fit, then \(refused.label) → \(ErrorReport.caseName(error)) (\(underlying.code.rawValue)): \(error)")
    }

    /// A real full disk: a 2 MB tmpfs, mounted when the tests may (root with CAP_SYS_ADMIN).
    /// Long mode only: under a full parallel test run it has failed intermittently after the
    /// space was freed (see Docs/reliability.md); the page-limit test above covers short mode.
    @Test(.enabled(if: Tmpfs.isPermitted && Mode.isLong))
    func aFullDiskRefusesWritesAndLeavesTheFileAsItWas() throws {
        let scratch = try Scratch("full-disk")
        let mountPoint = scratch.path("disk")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard try Tmpfs.mount(mountPoint, size: "2m") else {
            print("[reliability] full disk: tmpfs could not be mounted here; only the page-limit test ran")
            return
        }
        defer { withExtendedLifetime(scratch) { Tmpfs.unmount(mountPoint) } }
        let path = mountPoint + "/policies.sqlite"
        do {
            let setup = try PolicyStore(path: path)
            try Self.populate(setup)
        }
        var writeMessage = ""
        var writesThatFit = 0
        do {
            let store = try PolicyStore(path: path)
            _ = try store.perform(.count(Policy.self))
            let databaseBefore = FileSnapshot(path).database
            try Tmpfs.fill(mountPoint)
            let outcomes = Self.growingWrites(store, rounds: 30)
            writesThatFit = outcomes.count - 1
            let refused = try #require(outcomes.last)
            let error = try #require(refused.error, "the full disk never stopped a write")
            #expect(refused.before == refused.after, "the refused write changed the store")
            if outcomes.count == 1 { #expect(FileSnapshot(path).database == databaseBefore, "the database file changed") }
            writeMessage = "\(refused.label) → \(ErrorReport.caseName(error)) (\(ErrorReport(error).code ?? 0)): \(error)"
            // A full disk is what `.sqlite` is documented for; its message must say so.
            #expect(String(describing: error).contains("full"), "\(error)")
            Tmpfs.empty(mountPoint)
            try store.perform(.createRuleset(named: "after_space_is_freed"))
            #expect(try store.perform(.checkIntegrity()).isEmpty)
        }
        #expect(try shell(path, "PRAGMA integrity_check;").output == "ok\n")

        // Opening the file while the disk is full, with no connection open (so no WAL index,
        // -shm, is left to reuse).
        let rows = try Databases.rows(path)
        try Tmpfs.fill(mountPoint)
        let reopened: String
        do {
            _ = try PolicyStore(path: path).perform(.count(Policy.self))
            reopened = "reads work"
        } catch {
            reopened = "\(ErrorReport.caseName(error)) (\(ErrorReport(error).code ?? 0)): \(error)"
            #expect(!error.isUntypedSQLiteError && String(describing: error).contains("no space"))
        }
        Tmpfs.empty(mountPoint)
        #expect(try Databases.rows(path) == rows)
        print("[reliability] full disk (tmpfs 2 MB): \(writesThatFit) writes fit, then \(writeMessage); opening on the full disk: \(reopened)")
    }

    /// Another process holds the write lock past the busy timeout.
    @Test(arguments: [StoreOptions.JournalMode.wal, .rollback])
    func aDatabaseLockedByAnotherProcessGivesABusyError(journal: StoreOptions.JournalMode) throws {
        let scratch = try Scratch("locked")
        let path = scratch.path("locked.sqlite")
        try Databases.good(path, journal: journal)
        let rows = try Databases.rows(path)
        // The sqlite3 shell takes the lock and keeps it until told to let go.
        let holder = try Subprocess(Binaries.sqlite3, [path], keepInputOpen: true)
        holder.send(journal == .wal
            ? "BEGIN IMMEDIATE;\nINSERT INTO rulesets (name) VALUES ('holder');\nSELECT 'locked';\n"
            : "BEGIN EXCLUSIVE;\nINSERT INTO rulesets (name) VALUES ('holder');\nSELECT 'locked';\n")
        #expect(holder.nextLine(timeout: 10) == "locked")
        let before = FileSnapshot(path).database

        var options = StoreOptions()
        options.busyTimeout = .milliseconds(300)
        options.journalMode = journal
        let started = Date()
        var error: PolicyStoreError?
        var readsWork = false
        do {
            let store = try PolicyStore(path: path, options: options)
            readsWork = (try? store.perform(.count(Policy.self))) == 2
            try store.perform(.createPolicy(named: "waiting"))
        } catch let refusal {
            error = refusal
        }
        let waited = Date().timeIntervalSince(started)
        guard case .busy? = error else {
            Issue.record("expected .busy, got \(String(describing: error))")
            holder.send("ROLLBACK;\n")
            return
        }
        #expect(waited >= 0.25, "gave up after \(waited) s, before the timeout")
        #expect(String(describing: error!).contains("try again"))
        #expect(FileSnapshot(path).database == before)
        // In WAL mode readers never wait for the writer; with the rollback journal an
        // EXCLUSIVE lock keeps them out too.
        #expect(readsWork == (journal == .wal))

        // policyctl with the default timeout (5 s).
        let cliStarted = Date()
        let cli = try Subprocess.run(try Binaries.policyctl, ["--db", path, "policy", "create", "waiting"])
        let cliWaited = Date().timeIntervalSince(cliStarted)
        #expect(cli.ending == .exited(1))
        #expect(cli.error.hasPrefix("error: the database is busy"), "\(cli.error)")
        #expect(cliWaited >= 4.5, "policyctl gave up after \(cliWaited) s")

        holder.send("ROLLBACK;\n")
        holder.closeInput()
        try holder.wait()
        #expect(try Databases.rows(path) == rows, "a refused write changed the rows")
        let store = try PolicyStore(path: path, options: options)
        try store.perform(.createPolicy(named: "after_the_lock"))
        print("[reliability] locked (\(journal)): library gave up after \(String(format: "%.2f", waited)) s (timeout 0.3 s) with \(ErrorReport.caseName(error!)): \(error!); policyctl after \(String(format: "%.1f", cliWaited)) s: \(cli.error.trimmingCharacters(in: .newlines))")
    }
}

/// Mounting a small tmpfs to make a disk that fills up.
enum Tmpfs {
    /// Root with CAP_SYS_ADMIN in its effective set.
    static var isPermitted: Bool {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/mount") || FileManager.default.isExecutableFile(atPath: "/bin/mount"),
              let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let capabilities = UInt64(line.split(separator: "\t").last ?? "", radix: 16)
        else { return false }
        return capabilities & (1 << 21) != 0
    }

    static func mount(_ path: String, size: String) throws -> Bool {
        try Subprocess.run("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", path]).ending == .exited(0)
    }

    static func unmount(_ path: String) {
        _ = try? Subprocess.run("/usr/bin/env", ["umount", path])
    }

    /// Fills the file system with a file of zeros until it refuses more.
    static func fill(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path + "/filler").creatingEmpty())
        defer { try? handle.close() }
        let block = Data(count: 4_096)
        while (try? handle.write(contentsOf: block)) != nil {}
    }

    static func empty(_ path: String) {
        try? FileManager.default.removeItem(atPath: path + "/filler")
    }
}

private extension URL {
    func creatingEmpty() throws -> URL {
        try Data().write(to: self)
        return self
    }
}
