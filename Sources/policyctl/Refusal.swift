import ArgumentParser
import ContainerPolicyStore
import ContainerPolicySync
import Foundation

/// Runs library operations. When the library refuses one (it throws `PolicyStoreError`,
/// whose description says what to fix), prints that on stderr as `refusalMessage` shows it
/// and ends the command with exit code 1; `ExitCode` makes the argument parser exit without
/// printing anything of its own. An `ExitCode` thrown by `operation` (a write to standard
/// output that failed inside an export, say) was reported already and passes through.
func exitOnRefusal<Result>(_ operation: () throws -> Result) throws(ExitCode) -> Result {
    do {
        return try operation()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw printRefusal(refusalMessage(error))
    }
}

/// Prints `errorLine(reason)` on stderr and returns the exit code of a refusal.
func refuse(_ reason: String) -> ExitCode {
    printRefusal(errorLine(reason))
}

/// Writes a refusal's message on stderr and returns the exit code of a refusal.
private func printRefusal(_ message: String) -> ExitCode {
    StandardError.line(message)
    return ExitCode(1)
}

/// How a refusal reads on stderr: one `error:` line, except for a refused policy document,
/// managed-rule list or pull, whose problems are listed one per line under it (each with its
/// JSON path or remote object), so that a file with many problems stays readable, and a
/// changed plan, shown whole.
func refusalMessage(_ error: any Error) -> String {
    switch error {
    case PolicyStoreError.invalidDocument, PolicyStoreError.invalidCatalogue, PolicyStoreError.planChanged, SyncError.pullRefused:
        return String(describing: error).split(separator: "\n", omittingEmptySubsequences: false)
            .map { terminalSafe(String($0)) }.enumerated()
            .map { $0 == 0 ? "error: " + $1 : $1 }.joined(separator: "\n")
    default:
        return errorLine(String(describing: error) + (advice(for: error).map { "; " + $0 } ?? ""))
    }
}

/// `error: <reason>` on one line whatever the reason holds (the SQL in an SQLite error
/// spans lines), made safe for a terminal.
func errorLine(_ reason: String) -> String {
    let words = reason.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    return "error: " + terminalSafe(words.joined(separator: " "))
}

/// A refusal of policyctl's own, thrown from inside a library transaction (which rolls it
/// back) and printed by `exitOnRefusal` like the library's.
struct CommandRefusal: Error, CustomStringConvertible {
    let description: String

    /// A `--remove-*` of what the object does not have: the twin of the library's refusal of
    /// an `--add-*` of what does not exist, which also names what there is.
    static func nothingToRemove(
        _ kind: ObjectKind, name: String, missing: [String], noun: (one: String, many: String), present: [String]
    ) -> CommandRefusal {
        let missingList = missing.map(quotedName).joined(separator: ", ")
        let presentList = present.isEmpty ? "it has no \(noun.many)" : "its \(noun.many) are \(present.joined(separator: ", "))"
        return CommandRefusal(description: """
            the \(kind) \(quotedName(name)) has no \(missing.count == 1 ? noun.one : noun.many) \(missingList) to remove: \
            \(presentList)
            """)
    }
}
