import ArgumentParser
import Foundation

/// A policyctl command. The argument parser keeps the last value of an option given twice
/// (`--db a.sqlite ... --db b.sqlite` would quietly write to b.sqlite); a policyctl command
/// refuses, as a usage error, a single-value option given more than once with different
/// values. Repeatable options (`--ruleset`), flags and a repeat of the same value are not
/// refused.
///
/// The check runs in `validate()`, so the argument parser reports it like any usage error,
/// with the command's usage, and exit code 64. A command with a `validate()` of its own calls
/// `refuseContradictoryRepeats()` from it.
protocol PolicyctlCommand: ParsableCommand {}

extension PolicyctlCommand {
    func validate() throws {
        try refuseContradictoryRepeats()
    }

    func refuseContradictoryRepeats() throws {
        try SingleValueOptions.refuseContradictoryRepeats(of: Self.self, in: Array(CommandLine.arguments.dropFirst()))
    }
}

/// Finds a single-value option given twice. Which options take one value comes from the
/// argument parser's own description of the command (the JSON of `--experimental-dump-help`,
/// format version 0), not from a list kept by hand: an option added later is covered.
enum SingleValueOptions {
    static func refuseContradictoryRepeats(of command: any ParsableArguments.Type, in arguments: [String]) throws {
        // Asking the parser costs milliseconds, so it is asked only when a word is spelled
        // twice. (That misses two spellings of one option, `-d` and `--db`; policyctl's
        // options have one spelling each.)
        let words = arguments.prefix { $0 != "--" }.filter { $0.hasPrefix("-") }.map { $0.split(separator: "=", maxSplits: 1)[0] }
        guard Set(words).count < words.count else { return }
        let options = spellings(of: command)
        var values: [(option: String, value: String)] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            // After `--` every word is an argument, whatever it looks like.
            if argument == "--" { break }
            let parts = argument.split(separator: "=", maxSplits: 1)
            let joined = argument.hasPrefix("--") && parts.count == 2
            guard let option = options[joined ? String(parts[0]) : argument] else { continue }
            if joined {
                values.append((option, String(parts[1])))
            } else if index < arguments.count {
                values.append((option, arguments[index]))
                index += 1
            }
        }
        for option in values.map(\.option) {
            var distinct: [String] = []
            for (_, value) in values.filter({ $0.option == option }) where !distinct.contains(value) { distinct.append(value) }
            guard distinct.count > 1 else { continue }
            let shown = distinct.map(terminalSafe)
            throw ValidationError(
                "\(option) is given more than once, as \(shown.dropLast().joined(separator: ", ")) and \(shown.last!): give it once")
        }
    }

    /// Every spelling of each single-value option of `command` (`--db`), each to the name
    /// shown in the error.
    private static func spellings(of command: any ParsableArguments.Type) -> [String: String] {
        guard let tool = try? JSONDecoder().decode(ToolInfo.self, from: Data(command._dumpHelp().utf8)) else { return [:] }
        var spellings: [String: String] = [:]
        for argument in tool.command.arguments ?? [] where argument.kind == "option" && !argument.isRepeating {
            let names = (argument.names ?? []).map { name in name.kind == "long" ? "--" + name.name : "-" + name.name }
            guard let shown = names.first(where: { $0.hasPrefix("--") }) ?? names.first else { continue }
            for name in names { spellings[name] = shown }
        }
        return spellings
    }

    /// The part of the argument parser's description that says which options take one value.
    private struct ToolInfo: Decodable {
        struct Command: Decodable {
            let arguments: [Argument]?
        }

        struct Argument: Decodable {
            struct Name: Decodable {
                /// `long`, `short` or `longWithSingleDash`.
                let kind: String
                let name: String
            }

            let kind: String
            let names: [Name]?
            let isRepeating: Bool
        }

        let command: Command
    }
}

// `check` is declared in a file of its own as a plain ParsableCommand.

