import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// A folder of its own for one test, removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("cps-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// What the real `sqlite3` shell printed.
struct ShellResult {
    let status: Int32
    let output: String
    let errorOutput: String

    var succeeded: Bool { status == 0 && errorOutput.isEmpty }
}

/// Runs the real `sqlite3` shell on a file, as a person at the terminal would: foreign keys
/// off (the shell's default), so the schema's triggers are what guards the data.
@discardableResult
func sqliteShell(_ path: String, _ sql: String, arguments: [String] = []) throws -> ShellResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sqlite3", "-bail"] + arguments + [path]
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(sql.utf8))
    try input.fileHandleForWriting.close()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ShellResult(
        status: process.terminationStatus,
        output: String(decoding: outputData, as: UTF8.self),
        errorOutput: String(decoding: errorData, as: UTF8.self))
}

func fileBytes(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

/// Every row of every table, as text: two equal snapshots mean nothing was written.
func snapshot(_ store: PolicyStore) throws -> [String] {
    try store.withConnection { connection in
        let tables = try connection.query(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") { $0.text(0) }
        return try tables.flatMap { table in
            try connection.query("SELECT * FROM \"\(table)\"") { row in
                let count = row.columnCount
                return table + ": " + (0..<count).map { row.optionalText($0) ?? "NULL" }.joined(separator: " | ")
            }.sorted()
        }
    }
}

/// The database passes integrity_check, foreign_key_check and the domain rules.
func expectHealthy(_ store: PolicyStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let findings = try store.perform(.checkIntegrity())
    #expect(findings.isEmpty, "\(findings)", sourceLocation: sourceLocation)
}

/// A store on a fresh file in `directory`.
func makeStore(in directory: TemporaryDirectory, name: String = "policies.sqlite") throws -> (PolicyStore, String) {
    let path = directory.path(name)
    return (try PolicyStore(path: path), path)
}

/// The package's root folder, for tests that read `Migrations/` and `Docs/`.
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The value a `PRAGMA` reads back, as text.
func pragma(_ connection: Connection, _ name: String) throws -> String {
    try connection.queryFirst("PRAGMA \(name)") { $0.text(0) } ?? ""
}
