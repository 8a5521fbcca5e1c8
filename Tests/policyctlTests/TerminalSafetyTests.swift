import Foundation
import ContainerPolicyStore
import Testing

/// What policyctl prints that came from the file (or from an `--actor`) cannot drive the
/// terminal: control, format (bidi) and separator characters are escaped in text output and
/// `\u`-escaped in JSON (issue 12).
@Suite struct TerminalSafetyTests {
    /// The characters that must never reach a terminal raw; the line feeds policyctl writes
    /// itself are the only exception.
    static func hostile(in output: String) -> [String] {
        output.unicodeScalars.filter { scalar in
            guard scalar != "\n" else { return false }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: return true
            default: return false
            }
        }.map { "U+" + String($0.value, radix: 16, uppercase: true) }
    }

    /// A description the library accepts (carriage return, bidi override, separators, tab,
    /// line feed) and one only a shell writer can store (escape, C1 CSI, DEL).
    static let acceptedDescription = "Front\rFAKE  on  -\u{202E}gnirts\u{2028}x\u{2029}y\u{200B}\tz\nweb.evil  off  -"
    static let shellDescription = "Spare\u{1B}[2J\u{9B}31m\u{7F}"
    static let evilName = "ev\u{1B}[2Jil"
    static let evilARN = "arn:aws:ecs:us-east-1:123456789012:cluster/x\u{1B}]0;pwned\u{7}"

    /// The sample database, with hostile values written the ways a file can come to hold them.
    func hostileWorkspace() throws -> Workspace {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        _ = try workspace.withStore { store in
            try store.perform(.modify(Policy.self, named: "web") { $0.description = Self.acceptedDescription })
        }
        try workspace.sqlite3("policies.sqlite", """
            PRAGMA ignore_check_constraints=ON;
            UPDATE rulesets SET description = 'Spare' || char(27) || '[2J' || char(155) || '31m' || char(127) WHERE name = 'spare';
            INSERT INTO policies (name) VALUES ('ev' || char(27) || '[2Jil');
            INSERT INTO clusters (arn, policy_id, assigned_at)
              VALUES ('arn:aws:ecs:us-east-1:123456789012:cluster/x' || char(27) || ']0;pwned' || char(7),
                      (SELECT id FROM policies WHERE name = 'web'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
            """)
        _ = try workspace.withStore { store in
            try store.perform(.modify(Policy.self, named: "web") { $0.xdrEnabled = false })
        }
        // An actor that the library and the history's guard refuse now, as a file made before
        // the guard holds it: the guard is dropped for one row and put back word for word.
        let guardSQL = try workspace.sqlite3("policies.sqlite", "SELECT sql FROM sqlite_schema WHERE name = 'changes_insert_guard';")
        try workspace.sqlite3("policies.sqlite", """
            DROP TRIGGER changes_insert_guard;
            INSERT INTO changes (object_kind, object_name, action, revision, actor)
              VALUES ('policy', 'web', 'modify', 99, char(27) || '[2J' || char(27) || '[H' || char(10) || '999  2026-01-01T00:00:00.000Z  delete  1  admin  -');
            \(guardSQL.trimmingCharacters(in: .whitespacesAndNewlines));
            """)
        return workspace
    }

    static let textCommands: [[String]] = [
        ["policy", "list"], ["policy", "show", "web"], ["ruleset", "list"], ["ruleset", "show", "spare"],
        ["cluster", "list"], ["policy", "history", "web"], ["ruleset", "history", "spare"],
    ]

    @Test(arguments: textCommands + textCommands.map { $0 + ["--json"] })
    func nothingHostileIsPrintedRaw(command: [String]) throws {
        let result = try hostileWorkspace().run(command)
        #expect(Self.hostile(in: result.stdout) == [], "\(result.stdout)")
        #expect(Self.hostile(in: result.stderr) == [], "\(result.stderr)")
    }

    /// The export is the library's document, byte for byte, so its JSON writer must escape
    /// them as `--json` does; until it does, `export` to a terminal prints them raw.
    @Test func theExportEscapesThemToo() throws {
        let result = try hostileWorkspace().run("export")
        #expect(Self.hostile(in: result.stdout) == [], "\(result.stdout)")
    }

    @Test func thePolicyListKeepsOneLineARowAndOneLineADescription() throws {
        let output = try hostileWorkspace().succeed("policy", "list")
        #expect(output == """
            NAME           XDR  RULESETS
            ev\\u{1B}[2Jil  on   -
            web            off  base
              Front\\rFAKE  on  -\\u{202E}gnirts\\u{2028}x\\u{2029}y\\u{200B}\\tz\\nweb.evil  off  -

            """)
    }

    @Test func showKeepsADescriptionsLinesInItsColumn() throws {
        let output = try hostileWorkspace().succeed("policy", "show", "web")
        #expect(output.hasPrefix("""
            Policy            web
            Description       Front\\rFAKE  on  -\\u{202E}gnirts\\u{2028}x\\u{2029}y\\u{200B}\\tz
                              web.evil  off  -
            XDR Telemetry     off
            Rulesets          base
            Clusters          arn:aws:ecs:us-east-1:123456789012:cluster/x\\u{1B}]0;pwned\\u{7}
            """))
    }

    @Test func anActorCannotClearTheScreenOrForgeAHistoryRow() throws {
        let output = try hostileWorkspace().succeed("policy", "history", "web")
        let rows = output.split(separator: "\n")
        // The header, the create, the description's modify, the cluster's assign, the XDR
        // modify and the row of the hostile actor: no forged row.
        #expect(rows.count == 6, "\(output)")
        #expect(rows.last?.contains(#"\u{1B}[2J\u{1B}[H\n999  2026-01-01T00:00:00.000Z  delete  1  admin  -"#) == true)
    }

    @Test func jsonOutputEscapesEveryHostileCharacterAndKeepsTheExactText() throws {
        let workspace = try hostileWorkspace()
        let list = try workspace.run("policy", "list", "--json")
        #expect(list.stdout.contains(#"Front\rFAKE  on  -\u202egnirts\u2028x\u2029y\u200b\tz\nweb.evil  off  -"#))
        let policies = try JSONDecoder().decode(PolicyList.self, from: Data(list.stdout.utf8)).policies
        #expect(policies.map(\.name) == [Self.evilName, "web"])
        #expect(policies.last?.description == Self.acceptedDescription)

        let rulesets = try workspace.json(RulesetList.self, "ruleset", "list", "--json").rulesets
        #expect(rulesets.last?.description == Self.shellDescription)
        #expect(try workspace.run("ruleset", "show", "spare", "--json").stdout.contains(#"Spare\u001b[2J\u009b31m\u007f"#))
        let clusters = try workspace.json(ClusterList.self, "cluster", "list", "--json").clusters
        #expect(clusters.map(\.arn) == [Self.evilARN])
        let history = try workspace.json(History.self, "policy", "history", "web", "--json").changes
        #expect(history.last?.actor.hasPrefix("\u{1B}[2J") == true)
    }
}
