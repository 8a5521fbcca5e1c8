import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// Files that lie, and paths that are not files: a schema altered in the shell, an empty
/// file, special files, values written with the checks switched off. Each is refused or shown
/// for what it is, through the real `policyctl` and the real `sqlite3` shell, and nothing is
/// written that should not be.
@Suite struct TamperedFileTests {
    let scratch: Scratch
    let path: String

    init() throws {
        scratch = try Scratch("tampered")
        path = scratch.path("policies.sqlite")
        try Databases.good(path)
    }

    private func policyctl(_ arguments: [String]) throws -> (output: String, error: String, ending: Subprocess.Ending) {
        try Subprocess.run(try Binaries.policyctl, ["--db", path] + arguments)
    }

    // MARK: An altered schema

    /// The three tamperings of the issue: a trigger that silently undoes a change, a guard
    /// trigger dropped, the view the history is written from replaced.
    static let tamperings: [(sql: String, difference: String)] = [
        ("CREATE TRIGGER evil AFTER UPDATE ON policies BEGIN UPDATE policies SET xdr_enabled = 1 WHERE id = NEW.id; END;",
         "trigger evil: added"),
        ("DROP TRIGGER policies_update_guard;", "trigger policies_update_guard: missing"),
        ("DROP VIEW policy_states; CREATE VIEW policy_states AS SELECT id, '{\"name\":\"forged\"}' AS state FROM policies;",
         "view policy_states: changed"),
    ]

    @Test(arguments: tamperings.indices)
    func anAlteredSchemaIsRefusedForWritingReadableWithAWarningAndListedByCheck(_ index: Int) throws {
        let (sql, difference) = Self.tamperings[index]
        #expect(try shell(path, sql).ok)
        let rows = try Databases.rows(path)

        let modify = try policyctl(["policy", "modify", "web.prod", "--xdr", "off"])
        #expect(modify.ending == .exited(1))
        #expect(modify.error.hasPrefix("error: ") && modify.error.contains(difference), "\(modify.error)")
        #expect(!modify.error.contains("SQLite error"), "\(modify.error)")
        #expect(try Databases.rows(path) == rows, "the refused write changed the file")

        let list = try policyctl(["policy", "list"])
        #expect(list.ending == .exited(0) && list.output.contains("web.prod"), "\(list)")
        #expect(list.error.hasPrefix("warning: ") && list.error.contains(difference), "\(list.error)")

        let check = try policyctl(["check"])
        #expect(check.ending == .exited(1))
        #expect(check.output.contains("schema: " + difference) || check.error.contains("schema: " + difference), "\(check)")

        let store = try PolicyStore(path: path, options: { var options = StoreOptions(); options.readOnly = true; return options }())
        #expect(try store.perform(.schemaDifferences()).map(\.description) == [difference])
        #expect(try Databases.rows(path) == rows)
    }

    @Test func anUntouchedSchemaHasNoDifferences() throws {
        #expect(try PolicyStore(path: path).perform(.schemaDifferences()).isEmpty)
        // ANALYZE's statistics tables change what the planner knows, not what the schema does.
        #expect(try shell(path, "ANALYZE;").ok)
        #expect(try PolicyStore(path: path).perform(.schemaDifferences()).isEmpty)
        let check = try policyctl(["check"])
        #expect(check.ending == .exited(0), "\(check)")
    }

    // MARK: An empty file

    @Test func anEmptyFileIsLeftAsItIsByReadsDryRunsAndRefusals() throws {
        let empty = scratch.path("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: empty, contents: nil, attributes: [.posixPermissions: 0o644]))
        let document = scratch.path("doc.json")
        try Data(#"{"rulesets": [], "policies": [{"name": "web"}]}"#.utf8).write(to: URL(fileURLWithPath: document))
        for arguments in [
            ["policy", "list"], ["check"], ["ruleset", "show", "x"], ["export"],
            ["import", document, "--dry-run"], ["policy", "create", "bad name"], ["policy", "create", "web", "--ruleset", "missing"],
        ] {
            let result = try Subprocess.run(try Binaries.policyctl, ["--db", empty] + arguments)
            if arguments.contains("--dry-run") {
                // An empty file is a database yet to be made: the plan is against an empty store.
                #expect(result.ending == .exited(0) && result.output.contains("the plan against an empty store"), "\(result)")
            } else {
                #expect(result.ending != .exited(0), "\(arguments): \(result)")
                #expect(result.error.hasPrefix("error: ") && !result.error.contains("SQLite error"), "\(arguments): \(result.error)")
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: empty)
            #expect((attributes[.size] as? NSNumber)?.intValue == 0, "\(arguments) wrote to the empty file")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644, "\(arguments) changed its mode")
            for suffix in ["-wal", "-shm", "-journal"] {
                #expect(!FileManager.default.fileExists(atPath: empty + suffix), "\(arguments) left \(suffix)")
            }
        }
        let list = try Subprocess.run(try Binaries.policyctl, ["--db", empty, "policy", "list"])
        #expect(list.error.contains("the file is empty"), "\(list.error)")

        // A command that writes turns it into a database, private like any new one.
        let create = try Subprocess.run(try Binaries.policyctl, ["--db", empty, "policy", "create", "web"])
        #expect(create.ending == .exited(0), "\(create)")
        let attributes = try FileManager.default.attributesOfItem(atPath: empty)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    // MARK: Paths that are not files

    @Test func specialFilesDanglingLinksAndTheEmptyPathGetAShortReason() throws {
        let fifo = scratch.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let link = scratch.path("dangling.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: scratch.path("nowhere/policies.sqlite"))
        let cases: [(path: String, reason: String)] = [
            ("/dev/null", "it is a character device, not a file"),
            (fifo, "it is a FIFO (named pipe), not a file"),
            (link, "it is a symbolic link to \(scratch.path("nowhere/policies.sqlite")), which does not exist"),
            ("", "the path is empty"),
        ]
        for (path, reason) in cases {
            for arguments in [["policy", "list"], ["policy", "create", "web"]] {
                let result = try Subprocess.run(try Binaries.policyctl, ["--db", path] + arguments)
                #expect(result.ending == .exited(1), "\(path) \(arguments): \(result)")
                #expect(result.error.hasPrefix("error: ") && result.error.contains(reason), "\(path) \(arguments): \(result.error)")
                #expect(!result.error.contains("SQLite error") && result.error.count < 300, "\(result.error)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("nowhere")))
    }

    // MARK: Values written with the checks off

    @Test func damagedValuesAreShownAsDamagedNeverLaundered() throws {
        let damage = """
            PRAGMA ignore_check_constraints = ON;
            INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) SELECT id, 'TM-00000002', 'block' FROM rulesets WHERE name = 'baseline';
            INSERT INTO ruleset_rules (ruleset_id, rule_id, mitigation) SELECT id, 'TM-1', 'log' FROM rulesets WHERE name = 'baseline';
            UPDATE policies SET xdr_enabled = 5 WHERE name = 'web.prodPolicy';
            PRAGMA ignore_check_constraints = OFF;
            INSERT INTO changes (object_kind, object_name, action, revision, before, after) VALUES ('policy', 'web.prod', 'modify', 9, '{not json', '{not json');
            """
        let applied = try shell(path, damage)
        #expect(applied.ok, "\(applied.error)")

        let show = try policyctl(["ruleset", "show", "baseline"])
        #expect(show.ending == .exited(0), "\(show)")
        #expect(show.output.contains("ruleset_rules \"TM-00000002:block\": the mitigation is not log, isolate or terminate"), "\(show.output)")
        #expect(show.output.contains("ruleset_rules \"TM-1:log\": the rule ID is not TM- and 8 digits"), "\(show.output)")
        #expect(!show.output.contains("TM-1:log:log") && !show.output.contains("TM-00000002:log"), "laundered: \(show.output)")
        let list = try policyctl(["ruleset", "list"])
        #expect(list.output.contains("baseline (damaged)"), "\(list.output)")

        let policy = try policyctl(["policy", "show", "web.prodPolicy"])
        #expect(policy.output.contains("policies.xdr_enabled \"5\": is not 0 (off) or 1 (on)"), "\(policy.output)")

        let history = try policyctl(["policy", "history", "web.prod"])
        #expect(history.ending == .exited(0), "\(history)")
        #expect(history.output.contains("damaged: changes.before \"{not json\": is not the JSON object the history writes"), "\(history.output)")
        let historyJSON = try policyctl(["policy", "history", "web.prod", "--json"])
        #expect(historyJSON.ending == .exited(0), "\(historyJSON)")
        #expect(historyJSON.output.contains(#""value": "{not json""#) && historyJSON.output.contains(#""location": "changes.before""#), "\(historyJSON.output)")

        let rows = try Databases.rows(path)
        let export = try policyctl(["export"])
        #expect(export.ending == .exited(1) && export.error.contains("the ruleset \"baseline\" holds stored values that break the product's rules"), "\(export.error)")
        let modify = try policyctl(["ruleset", "modify", "baseline", "--description", "repaired?"])
        #expect(modify.ending == .exited(1) && modify.error.contains("holds stored values"), "\(modify.error)")
        #expect(try Databases.rows(path) == rows)

        let check = try policyctl(["check"])
        #expect(check.ending == .exited(1))
        for named in [
            "ruleset \"baseline\": ruleset_rules \"TM-00000002:block\"", "ruleset \"baseline\": ruleset_rules \"TM-1:log\"",
            "policy \"web.prodPolicy\": policies.xdr_enabled \"5\"", "(policy \"web.prod\"): changes.before \"{not json\"",
        ] {
            #expect(check.output.contains(named) || check.error.contains(named), "check does not name \(named): \(check)")
        }
    }

    // MARK: Actors

    @Test func anActorThatCouldForgeAHistoryRowIsRefused() throws {
        let rows = try Databases.rows(path)
        for actor in ["\u{1B}[2J\nweb.prod 2 modify alice", "right\u{202E}tfel", String(repeating: "a", count: 129), "tab\there"] {
            let result = try policyctl(["--actor", actor, "policy", "create", "victim"])
            #expect(result.ending == .exited(1) && result.error.contains("the actor"), "\(result)")
            #expect(!containsTerminalControl(result.error, allowingLineFeeds: true) && result.error.split(separator: "\n").count == 1, "\(result.error)")
        }
        #expect(try Databases.rows(path) == rows)
        // From the shell too: the history's insert guard says the same.
        let forged = try shell(path, "INSERT INTO changes (object_kind, object_name, action, revision, actor) VALUES ('policy', 'x', 'create', 1, 'a' || char(10) || 'b');")
        #expect(!forged.ok && forged.error.contains("the actor may hold at most 128 characters"), "\(forged.error)")
        let fine = try policyctl(["--actor", "Zoë Ölund (ops)", "policy", "create", "fine"])
        #expect(fine.ending == .exited(0), "\(fine)")
    }
}
