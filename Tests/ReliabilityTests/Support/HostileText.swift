import ContainerPolicyStore
import Foundation
@testable import store_stress

/// Hostile names and descriptions: ASCII of every kind, Unicode look-alikes of the allowed
/// characters, combining marks, invisible and bidirectional characters, every control
/// character, NUL, characters outside the Basic Multilingual Plane, SQL and JSON fragments,
/// and lengths from 0 to 10,000 characters. Deterministic for a seed.
enum HostileText {
    static let nameCharacters: [Character] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
    static let punctuation: [Character] = Array(" !\"#$%&'()*+,-/:;<=>?@[\\]^`{|}~")
    /// Characters that look like allowed ones: Cyrillic and Greek letters, the Kelvin sign,
    /// fullwidth forms, dotless i, long s, the one-dot leader, mathematical letters...
    static let lookAlikes: [Character] = [
        "\u{430}", "\u{435}", "\u{43E}", "\u{440}", "\u{441}", "\u{3BF}", "\u{391}", "\u{212A}", "\u{FF41}", "\u{FF10}",
        "\u{131}", "\u{17F}", "\u{2024}", "\u{FF3F}", "\u{FF0E}", "\u{A0}", "\u{2002}", "\u{1D41A}", "\u{24D0}", "\u{251}",
        "\u{2010}", "\u{2212}", "\u{FE52}", "\u{2E33}", "\u{A789}",
    ]
    static let combining: [Character] = [
        "e\u{301}", "a\u{308}", "\u{301}", "o\u{20DD}", "\u{345}", "n\u{303}\u{323}",
        Character("a" + String(repeating: "\u{300}\u{301}\u{302}", count: 10)),
    ]
    static let invisible: [Character] = [
        "\u{200B}", "\u{200C}", "\u{200D}", "\u{2060}", "\u{FEFF}", "\u{202E}", "\u{202D}", "\u{2066}", "\u{2069}",
        "\u{61C}", "\u{180E}", "\u{2028}", "\u{2029}", "\u{E0001}", "\u{AD}",
    ]
    static let controls: [Character] = (Array(0x01...0x1F) + [0x7F] + Array(0x80...0x9F)).map { Character(Unicode.Scalar($0)!) }
        + ["\r\n"]
    /// Beyond the Basic Multilingual Plane, emoji sequences, the replacement character,
    /// noncharacters (U+FFFE and U+FDD0, which a literal cannot spell), private use.
    static let astral: [Character] = ["😀", "👩‍👩‍👧", "🇫🇷", "\u{10FFFF}", "\u{FFFD}", "\u{E000}", "𝟘", "日", "ß", "Ω"]
        + [0xFFFE, 0xFDD0, 0x1FFFF].map { Character(Unicode.Scalar($0)!) }
    static let fragments: [String] = [
        "'", "''", "\"", "';--", "'; DROP TABLE policies; --", "' OR '1'='1", "\") OR 1=1 --", "/*", "*/", "%", "_",
        "*", "?", "?1", ":name", "@p", "$x", "[a-z]", "\\", "\\0", "NULL", "x'00'", "char(0)", "%s%n", "${x}", "$(reboot)",
        "`id`", "\u{0}'; --", "GLOB '*'", "COLLATE NOCASE", "||", "--", ";", "\\u0000", "<script>", "{\"a\":[1]}", "\\\"",
        "\u{1B}[2J\u{1B}[31m", "\u{9B}31m", "../../etc/passwd", "SELECT load_extension('x')",
    ]
    static let nul: Character = "\u{0}"

    static var everyPool: [Character] {
        nameCharacters + punctuation + lookAlikes + combining + invisible + controls + astral + [nul]
    }

    static func name(_ random: inout SeededRandom) -> String {
        switch random.int(0...99) {
        case 0..<30:
            let length = random.chance(0.3) ? random.element([0, 1, 63, 64, 65]) : random.int(0...80)
            return String((0..<length).map { _ in random.element(nameCharacters) })
        case 30..<55:
            var characters = (0..<random.int(1...60)).map { _ in random.element(nameCharacters) }
            for _ in 0..<random.int(1...3) {
                let pool = random.element([punctuation, lookAlikes, combining, invisible, controls, astral, [nul]])
                characters.insert(random.element(pool), at: random.int(0...characters.count))
            }
            return String(characters)
        case 55..<80:
            let pool = everyPool
            return String((0..<random.int(0...100)).map { _ in random.element(pool) })
        case 80..<90:
            let length = random.int(100...10_000)
            if random.chance(0.5) { return String(repeating: random.element(nameCharacters), count: length) }
            let pool = everyPool
            return String((0..<length).map { _ in random.element(pool) })
        default:
            let prefix = String((0..<random.int(0...10)).map { _ in random.element(nameCharacters) })
            return prefix + random.element(fragments) + String((0..<random.int(0...10)).map { _ in random.element(nameCharacters) })
        }
    }

    static func description(_ random: inout SeededRandom) -> String {
        let printable = nameCharacters + punctuation + lookAlikes + combining + astral + ["\t", "\n", "\r"]
        switch random.int(0...99) {
        case 0..<30:
            return String((0..<random.int(0...200)).map { _ in random.element(printable) })
        case 30..<50:
            // Around the limit, counted in Unicode scalars: "e\u{301}" is two, "😀" one.
            let unit = random.element(["a", "é", "e\u{301}", "😀", "日", "\u{10FFFF}", "\r\n"])
            let scalars = unit.unicodeScalars.count
            let target = random.int(990...1_010)
            return String(repeating: unit, count: max(0, target / scalars))
        case 50..<70:
            var characters = (0..<random.int(0...300)).map { _ in random.element(printable) }
            for _ in 0..<random.int(1...3) {
                let pool = random.element([invisible, controls, [nul], ["\u{9B}", "\u{1B}", "\u{85}", "\u{7F}"]])
                characters.insert(random.element(pool), at: random.int(0...characters.count))
            }
            return String(characters)
        case 70..<85:
            let length = random.int(1_000...10_000)
            if random.chance(0.5) { return String(repeating: random.element(printable), count: length) }
            return String((0..<length).map { _ in random.element(printable) })
        default:
            return (0..<random.int(1...8)).map { _ in random.element(fragments) }.joined(separator: random.element(["", " ", "\n"]))
        }
    }
}

extension String {
    /// Byte-for-byte equality: Swift's `==` treats canonically equivalent texts as equal
    /// ("é" and "e\u{301}"), which would hide a store that normalizes what it was given.
    func sameBytes(_ other: String) -> Bool {
        Array(utf8) == Array(other.utf8)
    }
}
