import ContainerPolicyStore
import Foundation
import Testing

/// `policy history`, `ruleset history`, `policy restore` and `--actor`.
@Suite struct HistoryCommandTests {
    /// The cells of a table row: its columns are at least two spaces apart, and no value
    /// here has two spaces in a row.
    func cells(_ line: some StringProtocol) -> [String] {
        line.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test func everyActionOfAPolicyAppearsInItsHistory() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "modify", "web", "--xdr", "off", "--description", "Front end, v2")
        try workspace.succeed("policy", "modify", "web", "--add-ruleset", "spare")
        try workspace.succeed("policy", "modify", "web", "--remove-ruleset", "base")
        try workspace.succeed("policy", "restore", "web", "--revision", "2")
        let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
        try workspace.succeed("cluster", "assign", arn, "--policy", "web")
        try workspace.succeed("cluster", "unassign", arn)
        try workspace.succeed("policy", "delete", "web")

        let all = try workspace.json(History.self, "policy", "history", "web", "--json").changes
        #expect(all.map(\.action) == ["create", "modify", "link", "unlink", "restore", "assign", "unassign", "delete"])
        #expect(Set(all.map(\.action)) == Set(Change.Action.allCases.map(\.rawValue)))
        #expect(all.map(\.revision) == [1, 2, 3, 4, 5, 0, 0, 5])
        #expect(all.map(\.restoredRevision) == [nil, nil, nil, nil, 2, nil, nil, nil])
        #expect(all.map(\.sequence) == all.map(\.sequence).sorted())
        let clusters = all.filter { $0.kind == "cluster" }
        #expect(clusters.count == 2 && clusters.allSatisfy { $0.name == arn && $0.policy == "web" && $0.before == nil && $0.after == nil })
        var changes = all.filter { $0.kind == "policy" }
        #expect(changes.allSatisfy { $0.name == "web" && $0.policy == nil && isSchemaTimestamp($0.changedDateTime) })
        #expect(changes[4].after == changes[1].after)
        #expect(changes[5].before == changes[4].after)
        changes.removeSubrange(4...4)

        #expect(changes[0].before == nil)
        #expect(changes[0].after == .init(description: "Front end", xdrEnabled: true, rulesets: ["base"], rules: nil))
        #expect(changes[1].before?.xdrEnabled == true)
        #expect(changes[1].after == .init(description: "Front end, v2", xdrEnabled: false, rulesets: ["base"], rules: nil))
        #expect(changes[2].after?.rulesets == ["base", "spare"])
        #expect(changes[3].after?.rulesets == ["spare"])
        #expect(changes[4].before == changes[1].after, "the delete's before is the restored state")
        #expect(changes[4].after == nil)
    }

    @Test func historyJSONHasTheDocumentedShape() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let output = try workspace.succeed("policy", "history", "web", "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [[String: Any]]])
        #expect(Set(object.keys) == ["changes"])
        let create = try #require(object["changes"]?.first)
        #expect(Set(create.keys) == ChangeRecord.keys)
        #expect(create["before"] is NSNull)
        #expect(create["after"] is [String: Any], "the state is an object, not a string")
    }

    @Test func historyAsATable() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("--actor", "alice", "policy", "modify", "web", "--xdr", "off", "--add-ruleset", "spare")
        try workspace.succeed("--actor", "bob", "policy", "modify", "web", "--description", "Front end, v2")
        let changes = try workspace.json(History.self, "policy", "history", "web", "--json").changes
        let user = userName()
        let rows: [[String]] = zip(changes, [
            "description, rulesets +base", "xdrEnabled off, rulesets +spare", "description",
        ]).map { change, summary in
            [String(change.sequence), change.changedDateTime, change.action, String(change.revision), change.actor, summary]
        }
        #expect(changes.map(\.actor) == [user, "alice", "bob"])

        let lines = try workspace.succeed("policy", "history", "web").split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(cells(lines[0]) == ["SEQUENCE", "TIME", "ACTION", "REVISION", "ACTOR", "CHANGES"])
        for (line, row) in zip(lines.dropFirst(), rows) {
            #expect(cells(line) == row)
        }
    }

    @Test func theActorIsTheOptionElseTheUserName() throws {
        let workspace = try Workspace()
        try workspace.succeed("ruleset", "create", "base")
        try workspace.succeed("--actor", "alice", "ruleset", "modify", "base", "--description", "by alice")
        try workspace.succeed("ruleset", "modify", "base", "--description", "by bob", "--actor", "bob")
        try workspace.succeed("--actor", "", "ruleset", "modify", "base", "--description", "by nobody")

        let changes = try workspace.json(History.self, "ruleset", "history", "base", "--json").changes
        #expect(changes.map(\.actor) == [userName(), "alice", "bob", ""])
        #expect(!userName().isEmpty)
        #expect(try workspace.sqlite3("policies.sqlite", "SELECT actor FROM changes ORDER BY sequence")
            == "\(userName())\nalice\nbob\n\n")
    }

    @Test func everyCommandThatWritesRecordsTheActor() throws {
        let workspace = try Workspace()
        let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
        try Data(#"{ "rulesets": [ { "name": "imported" } ] }"#.utf8).write(to: workspace.file("doc.json"))
        for command in [
            ["ruleset", "create", "base"], ["policy", "create", "web", "--ruleset", "base"],
            ["policy", "duplicate", "web", "--as", "copy"], ["ruleset", "duplicate", "base", "--as", "base2"],
            ["policy", "modify", "copy", "--xdr", "off"], ["ruleset", "modify", "base2", "--add-rule", "TM-00000001"],
            ["policy", "restore", "copy", "--revision", "1"], ["cluster", "assign", arn, "--policy", "web"],
            ["cluster", "unassign", arn], ["policy", "delete", "copy"], ["ruleset", "delete", "base2"],
            ["import", "doc.json"],
        ] {
            try workspace.succeed(["--actor", "carol"] + command)
        }
        #expect(try workspace.sqlite3("policies.sqlite", "SELECT DISTINCT actor FROM changes") == "carol\n")
        // One change for each command.
        #expect(try workspace.sqlite3("policies.sqlite", "SELECT count(*) FROM changes") == "12\n")
    }

    @Test func aChangeMadeInTheSqlite3ShellHasAnEmptyActor() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.sqlite3("policies.sqlite", "UPDATE policies SET description = 'from the shell' WHERE name = 'web'")

        let last = try #require(try workspace.json(History.self, "policy", "history", "web", "--json").changes.last)
        #expect(last.action == "modify")
        #expect(last.actor == "")
        #expect(last.after?.description == "from the shell")
        let lastLine = try #require(try workspace.succeed("policy", "history", "web").split(separator: "\n").last)
        #expect(cells(lastLine).suffix(4) == ["modify", String(last.revision), "-", "description"])
    }

    @Test func rulesetHistoryShowsRuleChanges() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed(
            "ruleset", "modify", "base", "--remove-rule", "TM-00000001", "--add-rule", "TM-00000001:isolate",
            "--add-rule", "TM-00000002")
        try workspace.succeed("ruleset", "modify", "base", "--remove-rule", "TM-00000002")

        let changes = try workspace.json(History.self, "ruleset", "history", "base", "--json").changes
        #expect(changes.allSatisfy { $0.kind == "ruleset" && $0.name == "base" })
        #expect(changes.first?.action == "create")
        #expect(changes.last?.after?.rules == [.init(id: "TM-00000001", mitigation: "isolate")])
        #expect(changes.last?.after?.xdrEnabled == nil)

        let summaries = try workspace.succeed("ruleset", "history", "base").split(separator: "\n").dropFirst()
            .map { cells($0).last ?? "" }
        #expect(summaries == [
            "description, rules +TM-00000001:terminate", "rules +TM-00000002:log ~TM-00000001:isolate", "rules -TM-00000002",
        ])
    }

    @Test func theHistoryOfADeletedObjectRemains() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("ruleset", "delete", "spare")
        let changes = try workspace.json(History.self, "ruleset", "history", "spare", "--json").changes
        #expect(changes.map(\.action) == ["create", "delete"])
        #expect(try workspace.succeed("ruleset", "history", "SPARE").contains("  delete  "))
    }

    @Test func anObjectWithNoRecordedChangesHasAnEmptyHistoryAndANameWithNeitherIsRefused() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        // An object made before the database kept a history (migration 3) has no changes:
        // make one with the recording trigger set aside, then put the trigger back.
        let trigger = try workspace.sqlite3(
            "policies.sqlite", "SELECT sql FROM sqlite_schema WHERE name = 'rulesets_record_create'")
        try workspace.sqlite3(
            "policies.sqlite",
            "BEGIN; DROP TRIGGER rulesets_record_create; INSERT INTO rulesets (name) VALUES ('legacy'); \(trigger); COMMIT;")

        #expect(try workspace.succeed("ruleset", "history", "legacy") == "No recorded changes to ruleset legacy.\n")
        #expect(try workspace.json(History.self, "ruleset", "history", "legacy", "--json").changes.isEmpty)
        let missing = try workspace.run("ruleset", "history", "missing")
        #expect(missing.status == 1)
        #expect(missing.stderr == errorLine(.notFound(.ruleset, name: "missing")))
    }

    @Test func restoreGivesBackAnEarlierRevisionAsNewRevisions() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let original = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        try workspace.succeed(
            "policy", "modify", "web", "--description", "Changed", "--xdr", "off", "--remove-ruleset", "base",
            "--add-ruleset", "spare")
        let changed = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")

        let output = try workspace.succeed("--actor", "dave", "policy", "restore", "web", "--revision", String(original.revision))

        let restored = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        #expect(restored.description == original.description)
        #expect(restored.xdrEnabled == original.xdrEnabled)
        #expect(restored.rulesetNames == original.rulesetNames)
        #expect(restored.revision > changed.revision)
        #expect(output == """
            Restored policy web to revision \(original.revision): now at revision \(restored.revision).
            \(try workspace.succeed("policy", "show", "web"))
            """)
        let changes = try workspace.json(History.self, "policy", "history", "web", "--json").changes
        #expect(changes.last?.actor == "dave")
        #expect(changes.last?.after?.rulesets == ["base"])

        // Restoring the changed revision goes forward again.
        try workspace.succeed("policy", "restore", "web", "--revision", String(changed.revision))
        let again = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        #expect(again.description == "Changed" && !again.xdrEnabled && again.rulesetNames == ["spare"])
    }

    /// More changes than one page of the library's history: every one is printed, once.
    @Test func aHistoryLongerThanAPageIsPrintedWhole() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary(actor: "setup")
        try workspace.withStore(actor: "setup") { store in
            for revision in 2...250 { try store.perform(.modify(Policy.self, named: "web") { $0.description = "revision \(revision)" }) }
        }
        let changes = try workspace.json(History.self, "policy", "history", "web", "--json").changes
        #expect(changes.map(\.revision) == Array(1...250))
        let lines = try workspace.succeed("policy", "history", "web").split(separator: "\n")
        #expect(lines.count == 251)
    }

    @Test func aClusterHistoryShowsItsPoliciesInTurn() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "create", "api")
        let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
        try workspace.succeed("--actor", "alice", "cluster", "assign", arn, "--policy", "web")
        try workspace.succeed("--actor", "bob", "cluster", "assign", arn, "--policy", "api")
        try workspace.succeed("--actor", "carol", "cluster", "unassign", arn)

        let changes = try workspace.json(History.self, "cluster", "history", arn, "--json").changes
        #expect(changes.map(\.action) == ["assign", "unassign", "assign", "unassign"])
        #expect(changes.map(\.policy) == ["web", "web", "api", "api"])
        #expect(changes.map(\.actor) == ["alice", "bob", "bob", "carol"])
        #expect(changes.allSatisfy { $0.kind == "cluster" && $0.name == arn })

        let lines = try workspace.succeed("cluster", "history", arn).split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(cells(lines[1]).last == "policy web, cluster \(arn)")
        let unknown = "arn:aws:ecs:us-east-1:123456789012:cluster/never"
        let missing = try workspace.run("cluster", "history", unknown)
        #expect(missing.status == 1)
        #expect(missing.stderr == errorLine(.notFound(.cluster, name: unknown)))
    }

    @Test func restoreFromAnEarlierLifeNeedsItsLife() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "modify", "web", "--description", "first life, revision 2")
        try workspace.succeed("policy", "delete", "web")
        try workspace.succeed("policy", "create", "web", "--description", "second life")
        let changes = try workspace.json(History.self, "policy", "history", "web", "--json").changes
        let lives = Array(Set(changes.compactMap(\.life))).sorted()
        #expect(lives.count == 2)

        let refused = try workspace.run("policy", "restore", "web", "--revision", "2")
        #expect(refused.status == 1)
        #expect(refused.stderr == errorLine(
            .unknownRevision(.policy, name: "web", revision: 2, life: lives[1], livesWithRevision: [lives[0]])))

        let output = try workspace.succeed("policy", "restore", "web", "--revision", "2", "--life", String(lives[0]))
        #expect(output.hasPrefix("Restored policy web to revision 2 of its life since change \(lives[0]): now at revision 2.\n"))
        #expect(try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json").description == "first life, revision 2")
    }
}
