/// Why a name was refused.
public enum NameProblem: Sendable, Hashable {
    case empty
    /// Longer than ``NameRules/maximumLength`` characters.
    case tooLong(length: Int)
    /// A space at this 1-based character position.
    case space(position: Int)
    /// A character other than an ASCII letter, digit, `_` or `.` at this 1-based position.
    case disallowedCharacter(Character, position: Int)
}

/// The product's rules for policy and ruleset names: required, at most 64 characters, only
/// ASCII letters, digits, `_` and `.`. The schema's `CHECK` constraints say the same.
///
/// ```swift
/// NameRules.problem(in: "web prod")   // .space(position: 4)
/// NameRules.problem(in: "web.prod")   // nil
/// ```
public enum NameRules {
    public static let maximumLength = 64

    /// The first rule `name` breaks, or nil when it is a valid name.
    public static func problem(in name: String) -> NameProblem? {
        if name.isEmpty { return .empty }
        // Most names are valid: check the bytes, and walk characters only to name a problem.
        if name.utf8.count <= maximumLength, name.utf8.allSatisfy(isAllowedByte) { return nil }
        for (offset, character) in name.enumerated() where !isAllowed(character) {
            return character == " "
                ? .space(position: offset + 1)
                : .disallowedCharacter(character, position: offset + 1)
        }
        let length = name.utf8.count
        return length > maximumLength ? .tooLong(length: length) : nil
    }

    /// Throws ``PolicyStoreError/invalidName(_:name:_:)`` unless `name` is valid.
    static func validate(_ name: String, kind: ObjectKind) throws(PolicyStoreError) {
        if let problem = problem(in: name) { throw .invalidName(kind, name: name, problem) }
    }

    private static func isAllowedByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2E: return true
        default: return false
        }
    }

    private static func isAllowed(_ character: Character) -> Bool {
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first, scalar.isASCII else {
            return false
        }
        return isAllowedByte(UInt8(scalar.value))
    }
}

/// Why a description was refused.
public enum DescriptionProblem: Sendable, Hashable {
    /// More than ``DescriptionRules/maximumLength`` Unicode scalars.
    case tooLong(length: Int)
    /// A NUL character, which C tools and the shell would cut the text at.
    case containsNUL
    /// A control character other than tab, line feed and carriage return, at this 1-based
    /// position (in Unicode scalars). Escape sequences would reach the terminal of whoever
    /// lists the policies.
    case controlCharacter(position: Int)
    /// U+FFFD, U+FFFE or U+FFFF at this 1-based position: SQLite reads bytes that are not
    /// UTF-8 as U+FFFD, so the database refuses it to keep such bytes out.
    case replacementCharacter(position: Int)
}

/// Descriptions are free text of at most 1,000 Unicode scalars (what SQLite's `length()`
/// counts), stored verbatim; among control characters only tab, line feed and carriage
/// return are allowed, and U+FFFD to U+FFFF are not.
public enum DescriptionRules {
    public static let maximumLength = 1_000

    /// The rule `description` breaks, or nil when it can be stored.
    public static func problem(in description: String) -> DescriptionProblem? {
        if description.utf8.contains(0) { return .containsNUL }
        for (offset, scalar) in description.unicodeScalars.enumerated() {
            if isDisallowedControl(scalar) { return .controlCharacter(position: offset + 1) }
            if (0xFFFD...0xFFFF).contains(scalar.value) { return .replacementCharacter(position: offset + 1) }
        }
        let length = description.unicodeScalars.count
        return length > maximumLength ? .tooLong(length: length) : nil
    }

    /// C0 controls but tab, line feed and carriage return; DEL; and the C1 controls, some of
    /// which terminals read as the start of an escape sequence.
    private static func isDisallowedControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        default: return false
        }
    }

    static func validate(_ description: String, kind: ObjectKind, name: String) throws(PolicyStoreError) {
        if let problem = problem(in: description) {
            throw .invalidDescription(kind, name: name, problem)
        }
    }
}

extension NameRules {
    /// A name as the store compares names: ASCII letters in lower case, every other character
    /// as it is, as the schema's NOCASE collation has it. Two names are the same name exactly
    /// when their keys are equal: for matching names kept outside the store (another system's
    /// objects) the way the store matches its own.
    ///
    /// ```swift
    /// NameRules.key("Web.Prod") == NameRules.key("web.prod")   // true
    /// ```
    public static func key(_ name: String) -> String {
        asciiLowercased(name)
    }
}

/// Names compare ignoring ASCII case only, as SQLite's NOCASE collation does.
func sameName(_ left: String, _ right: String) -> Bool {
    left.utf8.elementsEqual(right.utf8) { asciiLowercased($0) == asciiLowercased($1) }
}

/// The text with ASCII letters in lower case; the text itself, unallocated, when it has no
/// upper-case letter (as most names have not).
func asciiLowercased(_ text: String) -> String {
    guard text.utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return text }
    return String(decoding: text.utf8.map(asciiLowercased), as: UTF8.self)
}

func asciiLowercased(_ byte: UInt8) -> UInt8 {
    (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
}

/// How long a page of a listing may be: `1...maximumSize` rows; callers read it as
/// `StoreTransaction.maximumPageSize`.
enum PageRules {
    static let maximumSize = 10_000
}
