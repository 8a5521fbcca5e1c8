import ArgumentParser
import Foundation

/// Runs library operations. When the library refuses one (it throws `PolicyStoreError`,
/// whose description says what to fix), prints that as one `error:` line on stderr and ends
/// the command with exit code 1; `ExitCode` makes the argument parser exit without printing
/// anything of its own.
func exitOnRefusal<Result>(_ operation: () throws -> Result) throws(ExitCode) -> Result {
    do {
        return try operation()
    } catch {
        throw refuse(String(describing: error))
    }
}

/// Prints `errorLine(reason)` on stderr and returns the exit code of a refusal.
func refuse(_ reason: String) -> ExitCode {
    FileHandle.standardError.write(Data((errorLine(reason) + "\n").utf8))
    return ExitCode(1)
}

/// `error: <reason>` on one line whatever the reason holds (the SQL in an SQLite error
/// spans lines).
func errorLine(_ reason: String) -> String {
    let words = reason.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    return "error: " + words.joined(separator: " ")
}
