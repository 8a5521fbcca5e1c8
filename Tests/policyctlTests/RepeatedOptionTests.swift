import Foundation
import Testing

/// A single-value option given twice with different values is a usage error, for every
/// option of every command; repeatable options, flags and identical repeats are not
/// (issue 12).
@Suite struct RepeatedOptionTests {
    /// The argument parser's own description of the commands (`--experimental-dump-help`),
    /// so that a command or option added later is covered without a list to maintain.
    struct Tool: Decodable {
        struct Command: Decodable {
            let commandName: String
            let arguments: [Argument]?
            let subcommands: [Command]?
        }

        struct Argument: Decodable {
            struct Name: Decodable {
                let kind: String
                let name: String
            }

            let kind: String
            let names: [Name]?
            let isRepeating: Bool
            let isOptional: Bool
        }

        let command: Command
    }

    /// One command line for each single-value option of each command, giving the option twice.
    struct Repeat: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let option: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static func values(of option: String) -> (String, String) {
        switch option {
        case "--xdr": ("on", "off")
        case "--revision", "--expect-revision", "--life", "--from", "--timeout": ("1", "2")
        case "--format": ("mermaid", "dot")
        case "--region": ("us", "eu")
        case "--expect-plan": (String(repeating: "a", count: 64), String(repeating: "b", count: 64))
        default: ("a.sqlite", "b.sqlite")
        }
    }

    static let repeats: [Repeat] = {
        let dump = try! Workspace().run("--experimental-dump-help").stdout
        let tool = try! JSONDecoder().decode(Tool.self, from: Data(dump.utf8))
        var repeats: [Repeat] = []
        func visit(_ command: Tool.Command, path: [String]) {
            let arguments = command.arguments ?? []
            let singles = arguments.filter { $0.kind == "option" && !$0.isRepeating }.compactMap { $0.names?.first }
                .map { "--" + $0.name }
            if path.isEmpty {
                for option in singles {
                    let (first, second) = values(of: option)
                    repeats.append(Repeat(arguments: [option, first, option, second, "policy", "list"], option: option))
                    repeats.append(Repeat(arguments: [option, first, "policy", "list", option, second], option: option))
                    repeats.append(Repeat(arguments: [option, first, option, second, "demo"], option: option))
                }
            } else if command.subcommands?.isEmpty ?? true, path != ["help"] {
                let positionals = arguments.filter { $0.kind == "positional" }.map { _ in "web" }
                for option in singles {
                    let required = arguments.filter { $0.kind == "option" && !$0.isOptional }.compactMap { $0.names?.first }
                        .map { "--" + $0.name }.filter { $0 != option }.flatMap { [$0, values(of: $0).0] }
                    let (first, second) = values(of: option)
                    repeats.append(Repeat(
                        arguments: path + positionals + required + ["\(option)=\(first)", option, second], option: option))
                }
            }
            for subcommand in command.subcommands ?? [] { visit(subcommand, path: path + [subcommand.commandName]) }
        }
        visit(tool.command, path: [])
        return repeats
    }()

    @Test func everyCommandIsCovered() {
        #expect(Set(Self.repeats.map(\.option)).isSuperset(of: [
            "--db", "--actor", "--description", "--xdr", "--as", "--expect-revision", "--revision", "--policy", "--output",
            "--format",
        ]))
        #expect(Self.repeats.count > 40)
    }

    @Test(arguments: repeats)
    func aContradictoryRepeatIsAUsageErrorNamingTheOption(repeated: Repeat) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        let before = try workspace.snapshot()
        let result = try workspace.run(repeated.arguments)
        let (first, second) = Self.values(of: repeated.option)
        #expect(result.status == 64)
        #expect(
            result.stderr.hasPrefix("Error: \(repeated.option) is given more than once, as \(first) and \(second): give it once\n"),
            "\(result.stderr)")
        #expect(result.stderr.contains("\nUsage: policyctl "))
        #expect(result.stdout.isEmpty)
        #expect(try workspace.snapshot() == before)
        #expect(!workspace.exists("a.sqlite") && !workspace.exists("b.sqlite"))
    }

    @Test func theSameValueTwiceRepeatableOptionsAndFlagsAreAccepted() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try workspace.succeed("--db", "policies.sqlite", "policy", "create", "api", "--db=policies.sqlite", "--xdr", "off", "--xdr", "off")
        try workspace.succeed("policy", "create", "app", "--ruleset", "base", "--ruleset", "spare")
        try workspace.succeed("policy", "modify", "app", "--remove-ruleset", "base", "--remove-ruleset", "spare")
        #expect(try workspace.json(PolicyList.self, "policy", "list", "--json", "--json").policies.count == 3)
        // A value after -- is an argument, not an option.
        let result = try workspace.run("policy", "show", "--db", "policies.sqlite", "--", "--db")
        #expect(result.status == 1)
        #expect(result.stderr.contains(#"there is no policy named "--db""#))
    }
}
