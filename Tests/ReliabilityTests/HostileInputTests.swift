import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import store_stress

/// Names and descriptions from `HostileText`: the Swift rules and the schema's CHECKs give
/// the same verdict on each; the API never crashes, never stores an invalid name, stores
/// descriptions verbatim, and refuses with a typed error.
@Suite struct HostileInputTests {
    static let count = Mode.pick(short: 3_000, long: 40_000)

    struct Rollback: Error {}

    /// Whether SQLite accepts the insert, judged by the CHECK constraints alone (the insert
    /// is rolled back each time, so names never collide).
    static func sqlAccepts(_ connection: Connection, _ sql: String, _ values: [SQLValue]) throws -> Bool {
        do {
            try connection.transaction(.immediate) {
                try connection.run(sql, values)
                throw Rollback()
            }
            return true
        } catch is Rollback {
            return true
        } catch let error as SQLiteError where error.code == .constraintCheck {
            return false
        }
    }

    @Test func swiftAndSQLAgreeOnEveryName() throws {
        let store = try PolicyStore.inMemory()
        var random = SeededRandom(seed: Mode.seed)
        var accepted = 0
        var disagreements: [String] = []
        try store.withConnection { connection in
            for _ in 0..<Self.count {
                let name = HostileText.name(&random)
                let swift = NameRules.problem(in: name) == nil
                for table in ["policies", "rulesets"] {
                    let sql = try Self.sqlAccepts(connection, "INSERT INTO \(table) (name) VALUES (?)", [.text(name)])
                    if swift != sql { disagreements.append("\(table) \(quoted(String(name.prefix(80)))): Swift \(swift), SQL \(sql)") }
                }
                if swift { accepted += 1 }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        // Both verdicts must be exercised, or agreement means nothing.
        #expect(accepted > Self.count / 10 && accepted < Self.count * 9 / 10, "accepted \(accepted) of \(Self.count)")
    }

    @Test func swiftAndSQLAgreeOnEveryDescription() throws {
        let store = try PolicyStore.inMemory()
        var random = SeededRandom(seed: Mode.seed &+ 1)
        var accepted = 0
        var disagreements: [String] = []
        try store.withConnection { connection in
            for _ in 0..<Self.count {
                let description = HostileText.description(&random)
                let swift = DescriptionRules.problem(in: description) == nil
                for table in ["policies", "rulesets"] {
                    let sql = try Self.sqlAccepts(
                        connection, "INSERT INTO \(table) (name, description) VALUES ('n', ?)", [.text(description)])
                    if swift != sql {
                        disagreements.append("\(table) \(quoted(String(description.prefix(60)))) (\(description.unicodeScalars.count) scalars): Swift \(swift), SQL \(sql)")
                    }
                }
                if swift { accepted += 1 }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(accepted > Self.count / 10 && accepted < Self.count * 9 / 10, "accepted \(accepted) of \(Self.count)")
    }

    /// Every public write that takes a name or a description, fed hostile text: a typed
    /// refusal that agrees with the rules, or a value stored byte for byte.
    @Test func theAPIStoresOnlyValidNamesAndDescriptionsVerbatim() throws {
        let directory = try Scratch("hostile-api")
        let path = directory.path("hostile.sqlite")
        let store = try PolicyStore(path: path)
        try store.perform(.createRuleset(named: "base"))
        try store.perform(.createPolicy(named: "source", rulesets: ["base"]))
        var random = SeededRandom(seed: Mode.seed &+ 2)
        var outcomes: [String: Int] = [:]
        var problems: [String] = []
        for index in 0..<Self.count {
            let name = HostileText.name(&random)
            let description = random.chance(0.5) ? HostileText.description(&random) : "plain"
            let nameIsValid = NameRules.problem(in: name) == nil
            let descriptionIsValid = DescriptionRules.problem(in: description) == nil
            let operation = random.int(0...5)
            // Import refuses a name that exists in another letter case (names never change).
            let existing = nameIsValid ? try store.perform(.fetch(Policy.self, named: name)) : nil
            let existsInAnotherCase = existing.map { !$0.name.sameBytes(name) } ?? false
            do {
                switch operation {
                case 0:
                    let policy = try store.perform(.createPolicy(named: name, description: description, rulesets: ["base"]))
                    if !policy.name.sameBytes(name) || !policy.description.sameBytes(description) { problems.append("createPolicy changed \(quoted(name))") }
                case 1:
                    let ruleset = try store.perform(.createRuleset(named: name, description: description))
                    if !ruleset.name.sameBytes(name) || !ruleset.description.sameBytes(description) { problems.append("createRuleset changed \(quoted(name))") }
                case 2:
                    let copy = try store.perform(.duplicate(Policy.self, named: "source", as: name))
                    if !copy.name.sameBytes(name) || copy.rulesets != ["base"] { problems.append("duplicatePolicy made \(quoted(copy.name))") }
                case 3:
                    let modified = try store.perform(.modify(Policy.self, named: "source") { $0.description = description })
                    if !modified.description.sameBytes(description) { problems.append("modifyPolicy changed the description") }
                case 4:
                    let modified = try store.perform(.modify(Ruleset.self, named: "base") { $0.description = description })
                    if !modified.description.sameBytes(description) { problems.append("modifyRuleset changed the description") }
                default:
                    let document = PolicyDocument(policies: [.init(name: name, description: description, rulesets: ["base"])])
                    try store.perform(.importDocument(document))
                    let stored = try store.perform(.fetch(Policy.self, named: name))
                    if stored?.name.sameBytes(name) != true || stored?.description.sameBytes(description) != true {
                        problems.append("importDocument changed \(quoted(name))")
                    }
                }
                // Stored: it must have been valid. Read it back from the file, too.
                let needsName = [0, 1, 2, 5].contains(operation)
                let needsDescription = [0, 1, 3, 4, 5].contains(operation)
                if (needsName && !nameIsValid) || (needsDescription && !descriptionIsValid) {
                    problems.append("operation \(operation) #\(index) stored \(quoted(String(name.prefix(40)))) / \(quoted(String(description.prefix(40))))")
                }
                outcomes["stored", default: 0] += 1
            } catch .invalidName(_, let refused, let problem) {
                if !refused.sameBytes(name) || NameRules.problem(in: name) != problem { problems.append("invalidName for \(quoted(name)): \(problem)") }
                outcomes["invalidName", default: 0] += 1
            } catch .invalidDescription(_, _, let problem) {
                if DescriptionRules.problem(in: description) != problem { problems.append("invalidDescription: \(problem)") }
                outcomes["invalidDescription", default: 0] += 1
            } catch .nameTaken {
                if !nameIsValid { problems.append("nameTaken for the invalid name \(quoted(name))") }
                outcomes["nameTaken", default: 0] += 1
            } catch .invalidDocument(let documentProblems) {
                if nameIsValid && descriptionIsValid && !existsInAnotherCase {
                    problems.append("invalidDocument for valid values: \(documentProblems)")
                }
                outcomes["invalidDocument", default: 0] += 1
            } catch {
                problems.append("operation \(operation): unexpected \(ErrorReport.caseName(error)): \(String(describing: error).prefix(200))")
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        // Whatever went in, the file holds only valid names and descriptions.
        #expect(try store.perform(.checkIntegrity()).isEmpty)
        #expect(try shell(path, "PRAGMA integrity_check;").output == "ok\n")
        let stored = try store.withConnection { connection in
            try connection.query("SELECT name FROM policies UNION ALL SELECT name FROM rulesets") { $0.text(0) }
        }
        #expect(stored.allSatisfy { NameRules.problem(in: $0) == nil })
        let tables = try shell(path, "SELECT count(*) FROM sqlite_schema WHERE name IN ('policies', 'rulesets', 'changes');")
        #expect(tables.output == "3\n", "a table went missing")
        print("[reliability] hostile input: \(Self.count) API calls: \(outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
    }

    /// A refusal's message is printed on a terminal by policyctl. Whatever the name or
    /// description held, the message must not carry a character a terminal acts on.
    @Test func refusalsNeverEchoTerminalControlCharacters() throws {
        let store = try PolicyStore.inMemory()
        var leaks: [String] = []
        let hostile = ["x\u{1B}[31my", "x\u{9B}31my", "x\u{85}y", "x\u{7F}y", "x\u{0}y", "x\u{8D}y", "x\u{90}y"]
        for text in hostile {
            for attempt in 0..<3 {
                do {
                    switch attempt {
                    case 0: try store.perform(.createPolicy(named: text))
                    case 1: try store.perform(.modify(Policy.self, named: text) { _ in })
                    default: try store.perform(.importDocument(PolicyDocument(json: Data("{\"policies\":[{\"name\":\"\(text)\"}]}".utf8))))
                    }
                } catch {
                    let message = String(describing: error)
                    if containsTerminalControl(message, allowingLineFeeds: true) {
                        leaks.append(message.debugDescription)
                    }
                }
            }
        }
        #expect(leaks.isEmpty, "\(leaks.count) messages carry raw control characters, e.g. \(leaks.first ?? "")")
    }

    /// Bytes that are not UTF-8, written with the sqlite3 shell (Swift strings cannot hold
    /// them): the schema must refuse them in names; whatever it lets into a description, the
    /// library must read without crashing, and `check` must report a value it cannot show as
    /// stored.
    @Test func invalidUTF8WrittenByTheShell() throws {
        let directory = try Scratch("utf8")
        let path = directory.path("utf8.sqlite")
        _ = try PolicyStore(path: path)
        let sequences = [
            "C3", "80", "A9", "BF", "FF", "FE", "C0 80", "C0 9B", "C1 BF", "E0 80 80", "ED A0 80", "ED BF BF", "F4 90 80 80",
            "F8 88 80 80 80", "E2 82", "F0 9F 98", "61 C3 28 62", "61 80 62", "2E A0",
        ].map { $0.replacingOccurrences(of: " ", with: "") }
        var acceptedNames: [String] = []
        var acceptedDescriptions: [String] = []
        for (index, hex) in sequences.enumerated() {
            let name = try shell(path, "INSERT INTO policies (name) VALUES (CAST(x'61\(hex)' AS TEXT));", options: ["-cmd", "PRAGMA foreign_keys=ON"])
            if name.ok { acceptedNames.append(hex) }
            let description = try shell(path, "INSERT INTO policies (name, description) VALUES ('utf8_\(index)', CAST(x'\(hex)' AS TEXT));")
            if description.ok { acceptedDescriptions.append(hex) }
        }
        #expect(acceptedNames.isEmpty, "the schema stored names that are not UTF-8: \(acceptedNames)")
        // The library reads every row without crashing, and lists and exports them.
        let store = try PolicyStore(path: path)
        let policies = try store.perform(.list(Policy.self, limit: 1_000))
        _ = try store.perform(.export())
        let findings = try store.perform(.checkIntegrity())
        let check = try Subprocess.run(try Binaries.policyctl, ["--db", path, "check"])
        print("[reliability] invalid UTF-8 from the shell: names refused for all \(sequences.count) sequences; descriptions stored for \(acceptedDescriptions) (read back as \(policies.filter { $0.name.hasPrefix("utf8_") }.map { $0.description.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " ") })); checkIntegrity findings \(findings.count); policyctl check \(check.ending)")
        // What the CHECK lets through (bytes that decode to allowed characters in SQLite's
        // GLOB), the domain re-check must flag: the library reads it as U+FFFD, so what it
        // shows and exports is not what is stored.
        if !acceptedDescriptions.isEmpty {
            #expect(findings.count >= acceptedDescriptions.count, "checkIntegrity passes descriptions that are not valid UTF-8: \(findings)")
            #expect(check.ending == .exited(1), "policyctl check passes descriptions that are not valid UTF-8")
        }
    }
}
