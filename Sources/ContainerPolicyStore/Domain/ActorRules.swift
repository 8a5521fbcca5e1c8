/// Why an actor (who a change is recorded as) was refused.
public enum ActorProblem: Sendable, Hashable {
    /// More than ``ActorRules/maximumLength`` Unicode scalars.
    case tooLong(length: Int)
    /// A control, line-breaking, bidirectional or other formatting character, or U+FFFD to
    /// U+FFFF, at this 1-based position (in Unicode scalars).
    case disallowedCharacter(position: Int)
}

/// Who made a change is shown in every history listing, one per line: at most 128 Unicode
/// scalars, none of which can move a terminal's cursor, break the line or reorder what it
/// shows. The `changes` table's insert guard says the same, with the same ranges.
///
/// ```swift
/// ActorRules.problem(in: "alice@example.com")   // nil
/// ActorRules.problem(in: "alice\nbob")           // .disallowedCharacter(position: 6)
/// ```
public enum ActorRules {
    public static let maximumLength = 128

    /// The scalars an actor may hold: printable ASCII and everything above U+009F but the
    /// Arabic letter mark (U+061C), zero-width and bidirectional marks (U+200B to U+200F,
    /// U+202A to U+202E, U+2066 to U+2069 and the rest of U+2060 to U+206F), the line and
    /// paragraph separators (U+2028, U+2029), the byte order mark (U+FEFF) and U+FFFD to
    /// U+FFFF.
    static let allowed: [ClosedRange<UInt32>] = [
        0x20...0x7E, 0xA0...0x61B, 0x61D...0x200A, 0x2010...0x2027, 0x202F...0x205F, 0x2070...0xFEFE,
        0xFF00...0xFFFC, 0x10000...0x10FFFF,
    ]

    /// The first rule `actor` breaks, or nil when it can be recorded. Empty means unknown.
    public static func problem(in actor: String) -> ActorProblem? {
        for (offset, scalar) in actor.unicodeScalars.enumerated() where !allowed.contains(where: { $0.contains(scalar.value) }) {
            return .disallowedCharacter(position: offset + 1)
        }
        let length = actor.unicodeScalars.count
        return length > maximumLength ? .tooLong(length: length) : nil
    }
}
