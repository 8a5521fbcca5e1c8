import CSQLite

/// A prepared statement owned by a `Connection`, reset after every use and finalized when the
/// connection closes.
package final class Statement {
    package let handle: OpaquePointer
    package let sql: String
    private unowned let connection: Connection

    package init(connection: Connection, sql: String, persistent: Bool) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let code = sqlite3_prepare_v3(connection.handle, sql, -1, flags, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw connection.error(code, sql: sql)
        }
        self.handle = handle
        self.sql = sql
        self.connection = connection
    }

    package func finalize() {
        sqlite3_finalize(handle)
    }

    /// How many values the statement takes.
    package var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Clears earlier bindings and binds `values` to the parameters in order.
    package func bind(_ values: [SQLValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard values.count == expected else {
            throw SQLiteError(
                code: .error,
                message: "statement expects \(expected) values, \(values.count) were given",
                sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null:
                code = sqlite3_bind_null(handle, index)
            case .integer(let number):
                code = sqlite3_bind_int64(handle, index, number)
            case .real(let number):
                code = sqlite3_bind_double(handle, index, number)
            case .text(let string):
                var string = string
                code = string.withUTF8 { bytes in
                    sqlite3_bind_text(
                        handle, index, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                        Int32(bytes.count), csqlite_transient())
                }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { raw in
                    sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), csqlite_transient())
                }
            }
            guard code == SQLITE_OK else { throw connection.error(code, sql: sql) }
        }
    }

    /// Advances to the next row: true when a row is available, false when done.
    package func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            let error = connection.error(code, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Ends the current use so the statement releases its read snapshot and locks.
    package func reset() {
        sqlite3_reset(handle)
    }
}

/// The current row of a stepping statement. Valid only until the next step.
package struct Row {
    package let statement: OpaquePointer

    package var columnCount: Int32 { sqlite3_column_count(statement) }

    package func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(statement, column) == SQLITE_NULL
    }

    package func int(_ column: Int32) -> Int {
        Int(sqlite3_column_int64(statement, column))
    }

    package func bool(_ column: Int32) -> Bool {
        sqlite3_column_int64(statement, column) != 0
    }

    /// The column as text, read with its byte length so an embedded NUL survives.
    package func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    package func optionalText(_ column: Int32) -> String? {
        isNull(column) ? nil : text(column)
    }

    /// The column's UTF-8 bytes, valid only inside `body`: for parsing without a `String`.
    package func withUTF8<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let count = Int(sqlite3_column_bytes(statement, column))
        return try body(UnsafeBufferPointer(start: sqlite3_column_text(statement, column), count: count))
    }

    /// The column as the JSON array of strings that `json_group_array` makes, or nil when it
    /// is not one. The strings are exact whatever they hold: no value can pass for two, as it
    /// could in a list joined by a separator.
    package func jsonStrings(_ column: Int32) -> [String]? {
        withUTF8(column) { bytes in
            var parser = JSONStringArrayParser(bytes: bytes)
            return parser.parse()
        }
    }
}

/// Reads `["a","b\u00e9"]`, the compact form SQLite's JSON functions write.
private struct JSONStringArrayParser {
    package let bytes: UnsafeBufferPointer<UInt8>
    package var index = 0

    package mutating func parse() -> [String]? {
        guard next() == UInt8(ascii: "[") else { return nil }
        var strings: [String] = []
        if peek() == UInt8(ascii: "]") {
            index += 1
            return index == bytes.count ? strings : nil
        }
        while true {
            guard let string = parseString() else { return nil }
            strings.append(string)
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return index == bytes.count ? strings : nil
            default: return nil
            }
        }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func next() -> UInt8? {
        defer { index += 1 }
        return peek()
    }

    private mutating func parseString() -> String? {
        guard next() == UInt8(ascii: "\"") else { return nil }
        let start = index
        // Most strings hold no escape: take their bytes as they are.
        while let byte = peek(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") { index += 1 }
        if peek() == UInt8(ascii: "\"") {
            index += 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self).unicodeScalars)
        var utf8: [UInt8] = []
        while let byte = next() {
            switch byte {
            case UInt8(ascii: "\""):
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                return String(scalars)
            case UInt8(ascii: "\\"):
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8 = []
                guard let escaped = parseEscape() else { return nil }
                scalars.append(escaped)
            default:
                utf8.append(byte)
            }
        }
        return nil
    }

    private mutating func parseEscape() -> Unicode.Scalar? {
        switch next() {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            guard let high = parseHex() else { return nil }
            if (0xD800...0xDBFF).contains(high) {
                guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u"), let low = parseHex(), (0xDC00...0xDFFF).contains(low)
                else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            }
            return Unicode.Scalar(high)
        default:
            return nil
        }
    }

    private mutating func parseHex() -> UInt32? {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next(), let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            value = value * 16 + UInt32(digit)
        }
        return value
    }
}
