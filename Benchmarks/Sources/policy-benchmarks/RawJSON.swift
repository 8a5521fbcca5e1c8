import Foundation
import SystemSQLite

/// Writes the library's interchange layout byte for byte (two-space indents, keys in the
/// product's order, only the escapes JSON requires) straight from SQLite's column buffers.
struct RawJSONWriter {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func newline(indent: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    /// A text column as a JSON string.
    mutating func string(_ statement: OpaquePointer, _ column: Int32) {
        string(UnsafeBufferPointer(start: sqlite3_column_text(statement, column), count: Int(sqlite3_column_bytes(statement, column))))
    }

    mutating func string(_ text: some Collection<UInt8>) {
        bytes.append(0x22)
        for byte in text {
            switch byte {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x00..<0x20:
                raw("\\u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    mutating func field(_ key: StaticString, first: Bool = false, indent: Int, _ value: (inout RawJSONWriter) -> Void) {
        if !first { raw(",") }
        newline(indent: indent)
        raw("\"")
        raw(key)
        raw("\": ")
        value(&self)
    }

    /// One object of a list whose length is not known yet; `endList` closes the list.
    mutating func listElement(isFirst: Bool, indent: Int, _ members: (inout RawJSONWriter) -> Void) {
        raw(isFirst ? "[" : ",")
        newline(indent: indent + 1)
        raw("{")
        members(&self)
        newline(indent: indent + 1)
        raw("}")
    }

    mutating func endList(count: Int, indent: Int) {
        if count == 0 { return raw("[]") }
        newline(indent: indent)
        raw("]")
    }

    mutating func list(_ count: Int, indent: Int, _ element: (inout RawJSONWriter, Int) -> Void) {
        for index in 0..<count {
            listElement(isFirst: index == 0, indent: indent) { element(&$0, index) }
        }
        endList(count: count, indent: indent)
    }
}

/// The export both raw stores share: the library's document, byte for byte, written row by
/// row from two statements the caller prepared. `rulesets` yields a ruleset's name,
/// description and `group_concat(rule_id || ':' || mitigation, ',')` at the given columns;
/// `policies` yields name, description, xdr_enabled and `group_concat(ruleset name, ',')` in
/// columns 0 to 3. Both sorted by name.
extension RawConnection {
    func exportDocument(
        rulesets: OpaquePointer, rulesetColumns: (name: Int32, description: Int32, rules: Int32),
        policies: OpaquePointer
    ) throws -> Data {
        var writer = RawJSONWriter()
        writer.raw("{")
        writer.newline(indent: 1)
        writer.raw("\"rulesets\": ")
        try writeAll(rulesets, into: &writer) { writer, row in
            writer.field("name", first: true, indent: 3) { $0.string(row, rulesetColumns.name) }
            writer.field("description", indent: 3) { $0.string(row, rulesetColumns.description) }
            writer.field("rules", indent: 3) { writer in
                let rules = listBytes(row, rulesetColumns.rules).sorted { $0.lexicographicallyPrecedes($1) }
                writer.list(rules.count, indent: 3) { writer, index in
                    let rule = rules[index]
                    let colon = rule.firstIndex(of: UInt8(ascii: ":"))!
                    writer.field("id", first: true, indent: 5) { $0.string(rule[..<colon]) }
                    writer.field("mitigation", indent: 5) { $0.string(rule[(colon + 1)...]) }
                }
            }
        }
        writer.raw(",")
        writer.newline(indent: 1)
        writer.raw("\"policies\": ")
        try writeAll(policies, into: &writer) { writer, row in
            writer.field("name", first: true, indent: 3) { $0.string(row, 0) }
            writer.field("description", indent: 3) { $0.string(row, 1) }
            writer.field("xdrEnabled", indent: 3) { $0.raw(sqlite3_column_int64(row, 2) != 0 ? "true" : "false") }
            writer.field("runtime", indent: 3) { writer in
                writer.raw("{")
                writer.newline(indent: 4)
                writer.raw("\"rulesets\": ")
                let names = listBytes(row, 3).sorted { NameOrder.precedes($0, $1) }
                writer.list(names.count, indent: 4) { writer, index in
                    writer.field("name", first: true, indent: 6) { $0.string(names[index]) }
                }
                writer.newline(indent: 3)
                writer.raw("}")
            }
        }
        writer.newline(indent: 0)
        writer.raw("}\n")
        return Data(writer.bytes)
    }

    /// Writes every row of a statement as one JSON object of a top-level list.
    private func writeAll(
        _ statement: OpaquePointer, into writer: inout RawJSONWriter,
        _ members: (inout RawJSONWriter, OpaquePointer) -> Void
    ) throws {
        defer { sqlite3_reset(statement) }
        var count = 0
        while try step(statement) {
            writer.listElement(isFirst: count == 0, indent: 1) { members(&$0, statement) }
            count += 1
        }
        writer.endList(count: count, indent: 1)
    }
}

/// The interchange document as the raw implementation reads it.
struct RawDocument {
    struct Ruleset {
        var name = ""
        var description = ""
        var rules: [(id: String, mitigation: String)] = []
    }

    var rulesets: [Ruleset] = []
    var policies: [PolicySpec] = []
}

/// A small pull parser for the interchange document: no tree, values go straight into the
/// entries. It reads what the library writes; anything else is an error.
struct RawDocumentReader {
    private let bytes: [UInt8]
    private var index = 0

    static func read(_ json: Data) throws -> RawDocument {
        var reader = RawDocumentReader(bytes: Array(json))
        var document = RawDocument()
        try reader.object { reader, key in
            switch key {
            case "rulesets": try reader.array { document.rulesets.append(try $0.ruleset()) }
            case "policies": try reader.array { document.policies.append(try $0.policy()) }
            default: throw reader.failure("unexpected field \(key)")
            }
        }
        return document
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func ruleset() throws -> RawDocument.Ruleset {
        var ruleset = RawDocument.Ruleset()
        try object { reader, key in
            switch key {
            case "name": ruleset.name = try reader.string()
            case "description": ruleset.description = try reader.string()
            case "rules":
                try reader.array { reader in
                    var rule = (id: "", mitigation: "log")
                    try reader.object { reader, key in
                        switch key {
                        case "id": rule.id = try reader.string()
                        case "mitigation": rule.mitigation = try reader.string()
                        default: throw reader.failure("unexpected field \(key)")
                        }
                    }
                    ruleset.rules.append(rule)
                }
            default: throw reader.failure("unexpected field \(key)")
            }
        }
        return ruleset
    }

    private mutating func policy() throws -> PolicySpec {
        var (name, description, xdrEnabled, rulesets) = ("", "", true, [String]())
        try object { reader, key in
            switch key {
            case "name": name = try reader.string()
            case "description": description = try reader.string()
            case "xdrEnabled": xdrEnabled = try reader.bool()
            case "runtime":
                try reader.object { reader, key in
                    guard key == "rulesets" else { throw reader.failure("unexpected field \(key)") }
                    try reader.array { reader in
                        try reader.object { reader, key in
                            guard key == "name" else { throw reader.failure("unexpected field \(key)") }
                            rulesets.append(try reader.string())
                        }
                    }
                }
            default: throw reader.failure("unexpected field \(key)")
            }
        }
        return PolicySpec(name: name, description: description, xdrEnabled: xdrEnabled, rulesets: rulesets)
    }

    // MARK: Tokens

    private func failure(_ message: String) -> BenchmarkFailure {
        BenchmarkFailure("JSON at byte \(index): \(message)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard consume(byte) else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
    }

    private mutating func object(_ member: (inout RawDocumentReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    private mutating func array(_ element: (inout RawDocumentReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if consume(UInt8(ascii: "]")) { return }
        repeat { try element(&self) } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    private mutating func bool() throws -> Bool {
        skipWhitespace()
        if bytes[index...].starts(with: "true".utf8) {
            index += 4
            return true
        }
        if bytes[index...].starts(with: "false".utf8) {
            index += 5
            return false
        }
        throw failure("expected true or false")
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        var text: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { break }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "u"): text.append(contentsOf: try unicodeEscape())
                default: text.append(escaped)  // \" \\ \/
                }
            default:
                text.append(byte)
            }
        }
        throw failure("a string is not closed")
    }

    /// The UTF-8 bytes of a `\uXXXX` escape (the `\u` already read), joining surrogate pairs.
    private mutating func unicodeEscape() throws -> [UInt8] {
        var code = try hex4()
        if (0xD800...0xDBFF).contains(code), bytes[index...].starts(with: "\\u".utf8) {
            index += 2
            code = 0x10000 + ((code - 0xD800) << 10) + (try hex4() - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw failure("a lone UTF-16 surrogate") }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
        else { throw failure("expected 4 hex digits") }
        index += 4
        return value
    }
}
