/// A parsed JSON value. Objects keep their keys in document order, so problems are reported
/// in the order a person reads the file, and a repeated key is seen rather than dropped.
enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    /// A whole number as the library writes it (the parser reads every number as `number`).
    case integer(Int)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// What a person would call this kind of value, for messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number, .integer: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A value that builds its JSON tree itself. ``ProductJSON`` takes the tree directly, which
/// is an order of magnitude cheaper than going through `Encodable` for the values written on
/// every operation (the history's states); the type's `encode(to:)` encodes the same tree, so
/// its shape is written once.
protocol JSONRepresentable: Encodable {
    var jsonValue: JSONValue { get }
}

extension JSONRepresentable {
    /// The tree, through any encoder (`JSONEncoder`, say).
    func encodeTree(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

extension JSONValue: JSONRepresentable {
    var jsonValue: JSONValue { self }
}

/// Where and why a text is not JSON.
struct JSONSyntaxError: Error, Sendable, Hashable {
    let line: Int
    let column: Int
    let message: String
}

/// A strict RFC 8259 parser with a nesting limit, so a hostile document can neither exhaust
/// the stack nor be read two ways.
struct JSONParser {
    static let maximumDepth = 64

    /// The byte each one-letter escape stands for: `\n` is 0x0A.
    private static let simpleEscapes: [UInt8: UInt8] = [
        UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
        UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
    ]

    private let bytes: [UInt8]
    private var index = 0

    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.failure("unexpected text after the end of the document") }
        return value
    }

    /// Every document in `bytes`, in order: JSON texts one after another, with or without
    /// whitespace between them (the pages of an API listing saved to one file). Empty or
    /// blank text holds none.
    static func parseSequence(_ bytes: [UInt8]) throws(JSONSyntaxError) -> [JSONValue] {
        var parser = JSONParser(bytes: bytes)
        var values: [JSONValue] = []
        parser.skipWhitespace()
        while parser.index < bytes.count {
            values.append(try parser.parseValue(depth: 0))
            parser.skipWhitespace()
        }
        return values
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func failure(_ message: String) -> JSONSyntaxError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(index, bytes.count)] {
            if byte == 0x0A { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return JSONSyntaxError(line: line, column: column, message: message)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private mutating func expect(_ literal: String, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
        for byte in literal.utf8 {
            guard current == byte else { throw failure("expected \(literal)") }
            index += 1
        }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
        switch current {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case let byte? where byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte): return try parseNumber()
        case nil: throw failure("the document ends too early")
        default: throw failure("unexpected character")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a field name in double quotes") }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':' after a field name") }
            index += 1
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw failure("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw failure("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1
        var scalars: [UInt8] = []
        while true {
            guard let byte = current else { throw failure("a string is not closed") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: scalars, as: UTF8.self) else { throw failure("a string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &scalars)
            case 0x00..<0x20:
                throw failure("a control character must be escaped in a string")
            default:
                scalars.append(byte)
            }
        }
    }

    private mutating func parseEscape(into output: inout [UInt8]) throws(JSONSyntaxError) {
        guard let byte = current else { throw failure("a string is not closed") }
        index += 1
        if let replacement = Self.simpleEscapes[byte] { output.append(replacement); return }
        guard byte == UInt8(ascii: "u") else { throw failure("unknown escape in a string") }
        var code = try parseHex4()
        if (0xD800...0xDBFF).contains(code) {
            guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw failure("a lone UTF-16 surrogate in a string")
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("a lone UTF-16 surrogate in a string") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw failure("a lone UTF-16 surrogate in a string") }
        output.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = hexValue(byte) else { throw failure("expected 4 hex digits after \\u") }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: return UInt32(byte - 0x30)
        case 0x41...0x46: return UInt32(byte - 0x41 + 10)
        case 0x61...0x66: return UInt32(byte - 0x61 + 10)
        default: return nil
        }
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        func digits() -> Int {
            let from = index
            while let byte = current, (0x30...0x39).contains(byte) { index += 1 }
            return index - from
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw failure("a number needs digits")
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw failure("a number needs digits after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw failure("a number needs digits in its exponent") }
        }
        guard let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            throw failure("a number out of range")
        }
        return .number(number)
    }
}

/// Writes JSON text with a fixed layout: two-space indents, `"key": value`, keys in the order
/// given, `[]` and `{}` for empty ones, so the same value always gives the same bytes. Besides
/// what JSON requires, it escapes every character a terminal could act on or that could
/// reorder or break what it shows (C1 controls, DEL, line and paragraph separators, the
/// bidirectional and zero-width formatting characters), so JSON printed to a terminal is safe.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// False for JSON that is stored rather than shown (the history's states), which must
    /// match what the schema's views write: only what JSON requires is escaped.
    var escapesForTerminals = true

    init(escapesForTerminals: Bool = true) {
        self.escapesForTerminals = escapesForTerminals
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func newline(indent: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    mutating func string(_ text: String) {
        bytes.append(0x22)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x00..<0x20:
                escape(scalar)
            case 0x7F...0x9F, 0x061C, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0xFEFF:
                if escapesForTerminals { escape(scalar) } else { bytes.append(contentsOf: String(scalar).utf8) }
            case 0x20..<0x80:
                bytes.append(UInt8(scalar.value))
            default:
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        bytes.append(0x22)
    }

    private mutating func escape(_ scalar: Unicode.Scalar) {
        let hex = String(scalar.value, radix: 16)
        raw("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
    }

    /// Writes `value` on one line, with no spaces: how stored JSON is kept.
    mutating func compactValue(_ value: JSONValue) {
        switch value {
        case .array(let elements):
            raw("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { raw(",") }
                compactValue(element)
            }
            raw("]")
        case .object(let members):
            raw("{")
            for (index, member) in members.enumerated() {
                if index > 0 { raw(",") }
                string(member.key)
                raw(":")
                compactValue(member.value)
            }
            raw("}")
        default:
            self.value(value, indent: 0)
        }
    }

    /// Writes `value`, its nested lines indented from `indent`.
    mutating func value(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .integer(let number): raw(String(number))
        case .number(let number):
            raw(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number))
        case .string(let text): string(text)
        case .array(let elements):
            guard !elements.isEmpty else { return raw("[]") }
            raw("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { raw(",") }
                newline(indent: indent + 1)
                self.value(element, indent: indent + 1)
            }
            newline(indent: indent)
            raw("]")
        case .object(let members):
            guard !members.isEmpty else { return raw("{}") }
            raw("{")
            for (index, member) in members.enumerated() {
                if index > 0 { raw(",") }
                newline(indent: indent + 1)
                string(member.key)
                raw(": ")
                self.value(member.value, indent: indent + 1)
            }
            newline(indent: indent)
            raw("}")
        }
    }
}
