import Foundation

/// Finds SQL that is built from values in Swift sources: every call that hands SQL text to
/// SQLite (`run`, `query`, `queryFirst`, `execute`, `statement`, `Statement(connection:sql:)`)
/// must pass a literal, a `+` of literals, or a constant declared as such (a ternary of
/// literals too), with no string interpolation, unless the call is on the allowlist.
///
/// It reads Swift the way a reviewer does, not the way the compiler does: comments, string
/// literals (multi-line, raw, with interpolations nested to any depth) and brackets are
/// understood; types are not. Good enough for code written in this project's style, and
/// its self-test shows that it catches the usual ways of getting it wrong.
struct SQLScanner {
    /// A known safe exception: a file and the SQL argument as written (spaces removed).
    struct Exception: Hashable {
        let file: String
        let argument: String
        let reason: String
    }

    struct Finding: CustomStringConvertible, Hashable {
        let file: String
        let line: Int
        let argument: String
        let reason: String
        var description: String { "\(file):\(line): \(argument) — \(reason)" }
    }

    static let sqlFunctions: Set<String> = ["run", "query", "queryFirst", "execute", "statement"]

    /// Fragments built in Swift from compile-time names, never from values: the column lists
    /// of a content type, made from the cases of its `Field` enum.
    static let safeFragments: Set<String> = [
        "PolicyContent.columns", "RulesetContent.columns", "PolicyContent.assignments", "RulesetContent.assignments",
        "PolicyContent.placeholders", "RulesetContent.placeholders",
    ]

    var exceptions: [Exception] = []

    // MARK: Tokens

    enum Token: Equatable {
        case string(text: String, interpolated: Bool)
        case identifier(String)
        case symbol(String)
        case newline
    }

    struct Located { let token: Token; let line: Int }

    /// Splits Swift source into tokens; comments vanish, string literals are one token each.
    static func tokenize(_ source: String) -> [Located] {
        let characters = Array(source.unicodeScalars)
        var tokens: [Located] = []
        var index = 0
        var line = 1
        func peek(_ offset: Int = 0) -> Unicode.Scalar? { index + offset < characters.count ? characters[index + offset] : nil }
        func isIdentifier(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_" || scalar == "$"
        }
        while index < characters.count {
            let character = characters[index]
            if character == "\n" { tokens.append(Located(token: .newline, line: line)); line += 1; index += 1; continue }
            if character == " " || character == "\t" || character == "\r" { index += 1; continue }
            if character == "/", peek(1) == "/" {
                while let next = peek(), next != "\n" { index += 1 }
                continue
            }
            if character == "/", peek(1) == "*" {
                var depth = 0
                repeat {
                    if peek() == "/", peek(1) == "*" { depth += 1; index += 2; continue }
                    if peek() == "*", peek(1) == "/" { depth -= 1; index += 2; continue }
                    if peek() == "\n" { line += 1 }
                    index += 1
                } while depth > 0 && index < characters.count
                continue
            }
            if character == "#" || character == "\"" {
                var hashes = 0
                while peek(hashes) == "#" { hashes += 1 }
                if peek(hashes) == "\"" {
                    let startLine = line
                    let (text, interpolated, length, newlines) = readString(characters, from: index, hashes: hashes)
                    tokens.append(Located(token: .string(text: text, interpolated: interpolated), line: startLine))
                    index += length
                    line += newlines
                    continue
                }
            }
            if isIdentifier(character) {
                var word = ""
                while let next = peek(), isIdentifier(next) { word.unicodeScalars.append(next); index += 1 }
                tokens.append(Located(token: .identifier(word), line: line))
                continue
            }
            if character == "=" && peek(1) == "=" {
                tokens.append(Located(token: .symbol("=="), line: line)); index += 2; continue
            }
            tokens.append(Located(token: .symbol(String(character)), line: line))
            index += 1
        }
        return tokens
    }

    /// Reads a string literal starting at `start` (its `#`s and quotes): its text as written,
    /// whether it interpolates, its length in scalars and the line breaks inside.
    static func readString(_ characters: [Unicode.Scalar], from start: Int, hashes: Int) -> (String, Bool, Int, Int) {
        var index = start + hashes
        let multiline = index + 2 < characters.count && characters[index + 1] == "\"" && characters[index + 2] == "\""
        index += multiline ? 3 : 1
        let delimiter = String(repeating: "\"", count: multiline ? 3 : 1) + String(repeating: "#", count: hashes)
        let escape = "\\" + String(repeating: "#", count: hashes)
        var text = ""
        var interpolated = false
        var newlines = 0
        func matches(_ literal: String, at position: Int) -> Bool {
            let scalars = Array(literal.unicodeScalars)
            guard position + scalars.count <= characters.count else { return false }
            return Array(characters[position..<(position + scalars.count)]) == scalars
        }
        while index < characters.count {
            if matches(delimiter, at: index) { index += delimiter.unicodeScalars.count; break }
            if matches(escape, at: index) {
                let after = index + escape.unicodeScalars.count
                if after < characters.count, characters[after] == "(" {
                    interpolated = true
                    // Skip the interpolation, strings inside it included.
                    var depth = 0
                    var position = after
                    repeat {
                        let scalar = characters[position]
                        if scalar == "(" { depth += 1 }
                        if scalar == ")" { depth -= 1 }
                        if scalar == "\n" { newlines += 1 }
                        if scalar == "\"" {
                            let (_, _, length, inner) = readString(characters, from: position, hashes: 0)
                            position += length
                            newlines += inner
                            continue
                        }
                        position += 1
                    } while depth > 0 && position < characters.count
                    text += "\\(…)"
                    index = position
                    continue
                }
                text.unicodeScalars.append(contentsOf: characters[index..<min(after + 1, characters.count)])
                index = after + 1
                continue
            }
            if characters[index] == "\n" { newlines += 1 }
            text.unicodeScalars.append(characters[index])
            index += 1
        }
        return (text, interpolated, index - start, newlines)
    }

    // MARK: Scanning

    /// Findings for a set of files (name → source).
    func scan(_ files: [String: String]) -> (findings: [Finding], calls: Int, exceptionsUsed: Set<Exception>) {
        var findings: [Finding] = []
        var calls = 0
        var used: Set<Exception> = []
        let tokenized = files.mapValues(Self.tokenize)
        for (file, tokens) in tokenized.sorted(by: { $0.key < $1.key }) {
            let significant = tokens.enumerated().filter { $0.element.token != .newline }
            for (position, located) in significant.enumerated() {
                guard case .identifier(let name) = located.element.token else { continue }
                var argumentStart: Int?
                // `x.run(` anywhere; a bare `run(` only in the SQLite layer, where it is the
                // connection's own (elsewhere a bare `run(` is some other type's method).
                let qualified = position > 0 && significant[position - 1].element.token == .symbol(".")
                let isDeclaration = position > 0 && significant[position - 1].element.token == .identifier("func")
                if Self.sqlFunctions.contains(name), position + 1 < significant.count,
                   significant[position + 1].element.token == .symbol("("), !isDeclaration,
                   qualified || file.hasPrefix("SQLite/") || file == "Case.swift" {
                    argumentStart = significant[position + 1].offset + 1
                } else if name == "Statement", position + 1 < significant.count, significant[position + 1].element.token == .symbol("(") {
                    // Statement(connection: c, sql: X, ...): the argument after "sql:".
                    var cursor = significant[position + 1].offset + 1
                    while cursor + 1 < tokens.count, !(tokens[cursor].token == .identifier("sql") && tokens[cursor + 1].token == .symbol(":")) {
                        if tokens[cursor].token == .symbol(")") { break }
                        cursor += 1
                    }
                    if cursor + 1 < tokens.count, tokens[cursor].token == .identifier("sql") { argumentStart = cursor + 2 }
                }
                guard let start = argumentStart else { continue }
                let argument = Self.argument(tokens, from: start)
                guard !argument.isEmpty else { continue }  // run() with no SQL: not a call we judge
                calls += 1
                let text = Self.render(argument)
                if let exception = exceptions.first(where: { $0.file == file && $0.argument == text }) {
                    used.insert(exception)
                    continue
                }
                if let reason = Self.unsafety(of: argument, in: tokenized, file: file, depth: 0) {
                    findings.append(Finding(file: file, line: located.element.line, argument: text, reason: reason))
                }
            }
        }
        return (findings, calls, used)
    }

    /// The tokens of a call's first argument: up to the first `,` or `)` at its own depth.
    static func argument(_ tokens: [Located], from start: Int) -> [Token] {
        var depth = 0
        var result: [Token] = []
        var index = start
        while index < tokens.count {
            let token = tokens[index].token
            if token == .symbol("(") || token == .symbol("[") || token == .symbol("{") { depth += 1 }
            if token == .symbol(")") || token == .symbol("]") || token == .symbol("}") {
                if depth == 0 { break }
                depth -= 1
            }
            if token == .symbol(","), depth == 0 { break }
            if token != .newline { result.append(token) }
            index += 1
        }
        // A labelled first argument (`sql: x`) keeps only its value.
        if result.count > 2, case .identifier = result[0], result[1] == .symbol(":") { result.removeFirst(2) }
        return result
    }

    static func render(_ tokens: [Token]) -> String {
        tokens.map { token in
            switch token {
            case .string(let text, _): "\"" + text + "\""
            case .identifier(let name): name
            case .symbol(let symbol): symbol
            case .newline: ""
            }
        }.joined()
    }

    /// Why an expression is not a constant SQL text, or nil when it is.
    static func unsafety(of expression: [Token], in files: [String: [Located]], file: String, depth: Int) -> String? {
        guard depth < 5 else { return "constants refer to each other too deeply to follow" }
        var tokens = expression
        // A ternary: only its two branches are SQL; the condition is not.
        if let question = tokens.firstIndex(of: .symbol("?")) { tokens = Array(tokens[(question + 1)...]) }
        var index = 0
        while index < tokens.count {
            switch tokens[index] {
            case .string(_, let interpolated):
                if interpolated { return "string interpolation in SQL" }
                index += 1
            case .symbol("+"), .symbol(":"), .symbol("("), .symbol(")"):
                index += 1
            case .identifier:
                // A dotted path: Self.name, StoreTransaction.name, name.
                var path: [String] = []
                while index < tokens.count {
                    guard case .identifier(let part) = tokens[index] else { break }
                    path.append(part)
                    if index + 1 < tokens.count, tokens[index + 1] == .symbol("."), index + 2 < tokens.count,
                       case .identifier = tokens[index + 2] {
                        index += 2
                    } else {
                        index += 1
                        break
                    }
                }
                if Self.safeFragments.contains(path.joined(separator: ".")) {
                    // Skip a call's arguments: the prefix of a column list is a literal.
                    if index < tokens.count, tokens[index] == .symbol("(") {
                        var depth = 0
                        repeat {
                            if tokens[index] == .symbol("(") { depth += 1 }
                            if tokens[index] == .symbol(")") { depth -= 1 }
                            index += 1
                        } while depth > 0 && index < tokens.count
                    }
                    continue
                }
                if index < tokens.count, tokens[index] == .symbol("(") { return "a call (\(path.joined(separator: "."))(...)) builds the SQL" }
                // `Catalogue.statement.sql`: the SQL argument of a NamedSQL constant.
                if path.count >= 2, path.last == "sql" { path.removeLast() }
                let name = path.last!
                let isTypeName = path.first.map { $0.first?.isUppercase == true } ?? false
                if ["Self", "StoreTransaction"].contains(path.first) || path.count == 1 || (path.count == 2 && isTypeName) {
                    // A member of a type (`PolicySQL.insert`) is a `static let`, not a local of
                    // the same name.
                    let initializers = declarations(of: name, in: files, preferring: file, staticOnly: path.count == 2 && isTypeName)
                    guard !initializers.isEmpty else {
                        return "\(path.joined(separator: ".")) is not a constant declared from literals"
                    }
                    // Every declaration of that name is checked: the scanner does not know
                    // which scope the call sees.
                    for initializer in initializers.map(namedSQLArgument) {
                        if let reason = unsafety(of: initializer, in: files, file: file, depth: depth + 1) {
                            return "\(name) = \(render(initializer)): \(reason)"
                        }
                    }
                } else {
                    return "\(path.joined(separator: ".")) is a value, not a constant"
                }
            default:
                return "\(render([tokens[index]])) in SQL"
            }
        }
        return nil
    }

    /// For `NamedSQL("label", <sql>, readsWholeTable: ...)`, the `<sql>` argument; any other
    /// initializer as it is.
    static func namedSQLArgument(_ initializer: [Token]) -> [Token] {
        guard initializer.count > 2, initializer[0] == .identifier("NamedSQL"), initializer[1] == .symbol("(") else { return initializer }
        var depth = 0
        var argument = 0
        var result: [Token] = []
        for token in initializer.dropFirst(2) {
            if token == .symbol("(") || token == .symbol("[") { depth += 1 }
            if token == .symbol(")") || token == .symbol("]") {
                if depth == 0 { break }
                depth -= 1
            }
            if token == .symbol(","), depth == 0 {
                argument += 1
                continue
            }
            if argument == 1 { result.append(token) }
        }
        return result
    }

    /// The initializers of every `let name = ...` (or `static let`) in `file`, else in the
    /// other files: the tokens up to the end of the statement (a line break that neither
    /// follows nor precedes `+`, `?` or `:`).
    static func declarations(of name: String, in files: [String: [Located]], preferring file: String, staticOnly: Bool = false) -> [[Token]] {
        let own = declarations(of: name, in: files[file] ?? [], staticOnly: staticOnly)
        if !own.isEmpty { return own }
        return files.keys.filter { $0 != file }.sorted().flatMap { declarations(of: name, in: files[$0]!, staticOnly: staticOnly) }
    }

    static func declarations(of name: String, in tokens: [Located], staticOnly: Bool = false) -> [[Token]] {
        var found: [[Token]] = []
        for index in tokens.indices.dropLast(3) where tokens[index].token == .identifier("let")
                && tokens[index + 1].token == .identifier(name) && tokens[index + 2].token == .symbol("=")
                && (!staticOnly || (index > 0 && tokens[index - 1].token == .identifier("static"))) {
                var initializer: [Token] = []
                var cursor = index + 3
                var depth = 0
                while cursor < tokens.count {
                    let token = tokens[cursor].token
                    if token == .symbol("(") || token == .symbol("[") { depth += 1 }
                    if token == .symbol(")") || token == .symbol("]") { depth -= 1 }
                    if token == .symbol("{") || token == .symbol("}") { break }
                    if token == .newline, depth == 0 {
                        let previous = initializer.last
                        let next = tokens[(cursor + 1)...].first { $0.token != .newline }?.token
                        let continues = [Token.symbol("+"), .symbol("?"), .symbol(":")]
                        if !(previous.map(continues.contains) ?? true) && !(next.map(continues.contains) ?? false) { break }
                    }
                    if token != .newline { initializer.append(token) }
                    cursor += 1
                }
                found.append(initializer)
        }
        return found
    }
}
