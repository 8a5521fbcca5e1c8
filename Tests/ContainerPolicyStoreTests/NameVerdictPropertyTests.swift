import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

/// Swift's name rules and the schema's CHECK constraints must give the same verdict for
/// every name: thousands of generated names go to both.
@Suite struct NameVerdictPropertyTests {
    /// A small deterministic generator (SplitMix64), so a failure can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
    }

    /// Characters that a name may be built from: mostly valid ones, then every kind of
    /// character a careless or hostile writer might slip in.
    static let alphabet: [[Character]] = [
        Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."),
        [" ", "-", "/", "'", "\"", ";", "%", "*", "?", "[", "]", "^", "\\", "`", "@", "!", "~", ","],
        ["\u{0}", "\u{1}", "\u{7}", "\t", "\n", "\r", "\u{1B}", "\u{7F}", "\u{85}", "\u{A0}", "\u{2028}", "\u{FEFF}"],
        ["\u{430}", "\u{435}", "\u{43E}", "\u{3BF}", "\u{391}", "\u{212A}", "\u{FF41}", "\u{FF10}", "\u{131}", "\u{17F}", "\u{2024}", "\u{FF3F}"],
        ["e\u{301}", "a\u{308}", "\u{301}", "\u{200B}", "\u{200D}", "é", "ß", "😀", "𝟘", "\u{10FFFF}"],
    ]

    /// Names of three kinds, a third each: only valid characters (lengths 0 to 80, across the
    /// limit of 64); valid characters with one other slipped in; and anything at all.
    static func generateName(_ random: inout SeededGenerator) -> String {
        let valid = alphabet[0]
        let others = alphabet.dropFirst().flatMap { $0 }
        switch Int.random(in: 0..<3, using: &random) {
        case 0:
            return String((0..<Int.random(in: 0...80, using: &random)).map { _ in valid.randomElement(using: &random)! })
        case 1:
            var name = (0..<Int.random(in: 1...70, using: &random)).map { _ in valid.randomElement(using: &random)! }
            name.insert(others.randomElement(using: &random)!, at: Int.random(in: 0...name.count, using: &random))
            return String(name)
        default:
            let everything = valid + others
            return String((0..<Int.random(in: 0...100, using: &random)).map { _ in everything.randomElement(using: &random)! })
        }
    }

    @Test func swiftAndSQLAgreeOnEveryGeneratedName() throws {
        let store = try PolicyStore.inMemory()
        var random = SeededGenerator(state: 20_261_129)
        var names = (0..<5_000).map { _ in Self.generateName(&random) }
        names += ["", "a", String(repeating: "a", count: 64), String(repeating: "a", count: 65), "SELECT", "a'--", "a.b_c"]
        var accepted = 0
        try store.withConnection { connection in
            for (index, name) in names.enumerated() {
                let swiftVerdict = NameRules.problem(in: name) == nil
                let sqlVerdict: Bool
                do {
                    try connection.transaction(.immediate) {
                        // The table is emptied each time, so only the character rules judge.
                        try connection.run("INSERT INTO policies (name) VALUES (?)", [SQLValue(name)])
                        try connection.run("DELETE FROM policies")
                    }
                    sqlVerdict = true
                } catch let error as SQLiteError where error.code == .constraintCheck || error.code == .constraintNotNull {
                    sqlVerdict = false
                }
                #expect(swiftVerdict == sqlVerdict, "name #\(index) \(quoted(name)): Swift \(swiftVerdict), SQL \(sqlVerdict)")
                if swiftVerdict { accepted += 1 }
            }
        }
        // The generator must exercise both verdicts, or the agreement means nothing.
        #expect(accepted > 500 && accepted < names.count - 500, "accepted \(accepted) of \(names.count)")
    }

    @Test func theStoreNeverStoresAnInvalidName() throws {
        let store = try PolicyStore.inMemory()
        var random = SeededGenerator(state: 7)
        for _ in 0..<2_000 {
            let name = Self.generateName(&random)
            do {
                let policy = try store.perform(.createPolicy(named: name))
                #expect(NameRules.problem(in: policy.name) == nil)
                #expect(policy.name == name)
            } catch .invalidName(_, let refused, _) {
                #expect(refused == name)
                #expect(NameRules.problem(in: name) != nil)
            } catch .nameTaken {
                #expect(NameRules.problem(in: name) == nil)
            }
        }
        try expectHealthy(store)
    }
}

/// `ActorRules` and the history's insert guard give the same verdict for every actor, the
/// edges of each allowed range included.
@Suite struct ActorVerdictPropertyTests {
    @Test func swiftAndSQLAgreeOnEveryGeneratedActor() throws {
        let store = try PolicyStore.inMemory()
        var random = NameVerdictPropertyTests.SeededGenerator(state: 20_261_201)
        var edges: [Unicode.Scalar] = []
        for range in ActorRules.allowed {
            for value in [range.lowerBound - 1, range.lowerBound, range.upperBound, range.upperBound + 1] {
                if let scalar = Unicode.Scalar(value) { edges.append(scalar) }
            }
        }
        edges += ["\u{0}", "\u{9}", "\u{A}", "\u{D}", "\u{1B}", "\u{85}", "\u{202E}", "\u{2066}", "\u{FEFF}", "\u{FFFD}", "é", "😀"]
        let plain = Array("abcdefghijklmnopqrstuvwxyz ABC@.-_0123".unicodeScalars)
        var actors = (0..<4_000).map { _ -> String in
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...132, using: &random) {
                scalars.append(Int.random(in: 0..<60, using: &random) == 0 ? edges.randomElement(using: &random)! : plain.randomElement(using: &random)!)
            }
            return String(scalars)
        }
        actors += ["", String(repeating: "a", count: 128), String(repeating: "é", count: 128), String(repeating: "a", count: 129)]
        var accepted = 0
        try store.withConnection { connection in
            for actor in actors {
                let swiftVerdict = ActorRules.problem(in: actor) == nil
                let sqlVerdict: Bool
                do {
                    try connection.transaction(.immediate) {
                        try connection.run(
                            "INSERT INTO changes (object_kind, object_name, action, revision, actor) VALUES ('policy', 'p', 'create', 1, ?)",
                            [SQLValue(actor)])
                        throw CancellationError()
                    }
                    sqlVerdict = true
                } catch is CancellationError {
                    sqlVerdict = true
                } catch let error as SQLiteError where error.code == .constraintTrigger {
                    sqlVerdict = false
                }
                #expect(swiftVerdict == sqlVerdict, "\(quoted(actor)): Swift \(swiftVerdict), SQL \(sqlVerdict)")
                if swiftVerdict { accepted += 1 }
            }
        }
        #expect(accepted > 400 && accepted < actors.count - 400, "accepted \(accepted) of \(actors.count)")
    }
}
