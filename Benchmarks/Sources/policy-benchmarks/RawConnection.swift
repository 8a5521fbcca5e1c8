import ContainerPolicyStore
import Foundation
import SystemSQLite

/// An error from the SQLite C API, for the raw implementation and the benchmark's own checks.
struct RawSQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    var description: String { "SQLite error \(code): \(message)" }
}

/// A SQLite connection opened as the library opens its own: the same hardening flags, foreign
/// keys on, a 5 s busy timeout, WAL, and the `synchronous` level under test.
final class RawConnection {
    let handle: OpaquePointer

    init(path: String, synchronous: Synchronous, create: Bool = false) throws {
        var handle: OpaquePointer?
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if create { flags |= SQLITE_OPEN_CREATE }
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            sqlite3_close_v2(handle)
            throw RawSQLiteError(code: code, message: "cannot open \(path)")
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        for (option, value) in [
            (SQLITE_DBCONFIG_DEFENSIVE, 1), (SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0), (SQLITE_DBCONFIG_DQS_DML, 0),
            (SQLITE_DBCONFIG_DQS_DDL, 0), (SQLITE_DBCONFIG_ENABLE_FKEY, 1), (SQLITE_DBCONFIG_ENABLE_TRIGGER, 1),
        ] as [(Int32, Int32)] {
            var current: Int32 = -1
            guard system_sqlite_db_config_flag(handle, option, value, &current) == SQLITE_OK, current == value else {
                throw RawSQLiteError(code: SQLITE_ERROR, message: "cannot set sqlite3_db_config option \(option)")
            }
        }
        sqlite3_busy_timeout(handle, 5_000)
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = \(synchronous.rawValue)")
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    func error(_ code: Int32) -> RawSQLiteError {
        RawSQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs SQL text that binds nothing: scripts and pragmas.
    func execute(_ sql: String) throws {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// The first column of the first row of `sql`, as text.
    func queryText(_ sql: String) throws -> String? {
        let statement = try prepare(sql)
        defer { sqlite3_finalize(statement) }
        return try step(statement) ? text(statement, 0) : nil
    }

    /// Prepares a statement that the caller keeps and finalizes.
    func prepare(_ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code) }
        return statement
    }

    func bind(_ text: String, to statement: OpaquePointer, at index: Int32) {
        var text = text
        text.withUTF8 { bind(bytes: $0, to: statement, at: index) }
    }

    func bind(bytes: [UInt8], to statement: OpaquePointer, at index: Int32) {
        bytes.withUnsafeBufferPointer { bind(bytes: $0, to: statement, at: index) }
    }

    private func bind(bytes: UnsafeBufferPointer<UInt8>, to statement: OpaquePointer, at index: Int32) {
        guard let start = bytes.baseAddress else {
            // An empty buffer may have no address, and SQLite reads a null pointer as NULL, not ''.
            sqlite3_bind_text(statement, index, "", 0, system_sqlite_transient())
            return
        }
        sqlite3_bind_text(
            statement, index, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), Int32(bytes.count),
            system_sqlite_transient())
    }

    /// True when a row is available, false when the statement is done.
    func step(_ statement: OpaquePointer) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw error(code)
        }
    }

    /// Runs a statement that returns no rows, and resets it.
    func run(_ statement: OpaquePointer) throws {
        defer { sqlite3_reset(statement) }
        while try step(statement) {}
    }

    /// A text column's bytes, valid until the statement steps or resets.
    func bytes(_ statement: OpaquePointer, _ column: Int32) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: sqlite3_column_text(statement, column), count: Int(sqlite3_column_bytes(statement, column)))
    }

    func text(_ statement: OpaquePointer, _ column: Int32) -> String {
        String(decoding: bytes(statement, column), as: UTF8.self)
    }

    /// A `group_concat(..., ',')` column, split; NULL is the empty list.
    func listBytes(_ statement: OpaquePointer, _ column: Int32) -> [ArraySlice<UInt8>] {
        Array(bytes(statement, column)).split(separator: UInt8(ascii: ","))
    }

    func list(_ statement: OpaquePointer, _ column: Int32) -> [String] {
        listBytes(statement, column).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension RawConnection {
    /// A policy from a row laid out as the library's `policyColumns` (both raw stores use that
    /// layout): id, name, description, xdr_enabled, revision, created_at, updated_at,
    /// rulesets_updated_at, `group_concat` of the ruleset names.
    func policy(at row: OpaquePointer) -> Policy {
        Policy(
            id: Int(sqlite3_column_int64(row, 0)), name: text(row, 1), description: text(row, 2),
            xdrEnabled: sqlite3_column_int64(row, 3) != 0,
            rulesets: NameOrder.sorted(list(row, 8)),
            revision: Int(sqlite3_column_int64(row, 4)),
            createdAt: RawTimestamp.date(row, 5), updatedAt: RawTimestamp.date(row, 6),
            rulesetsUpdatedAt: RawTimestamp.date(row, 7))
    }
}

/// The schema's timestamps (`2026-11-29T05:07:21.123Z`, fixed by a CHECK constraint) read
/// straight from a column's bytes.
enum RawTimestamp {
    static func date(_ statement: OpaquePointer, _ column: Int32) -> Date {
        date(utf8: UnsafeBufferPointer(
            start: sqlite3_column_text(statement, column), count: Int(sqlite3_column_bytes(statement, column))))
    }

    static func date(utf8 text: UnsafeBufferPointer<UInt8>) -> Date {
        guard text.count == 24 else { return Date(timeIntervalSince1970: 0) }
        func number(_ start: Int, _ count: Int) -> Int {
            (start..<(start + count)).reduce(0) { $0 * 10 + Int(text[$1]) - 48 }
        }
        let days = daysFromCivil(year: number(0, 4), month: number(5, 2), day: number(8, 2))
        let seconds = days * 86_400 + number(11, 2) * 3_600 + number(14, 2) * 60 + number(17, 2)
        return Date(timeIntervalSince1970: Double(seconds) + Double(number(20, 3)) / 1_000)
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
