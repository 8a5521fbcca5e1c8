/// One thing wrong with a document, at a JSON path such as `policies[3].name`, with the
/// offending value when there is one.
///
/// ```swift
/// let problem = DocumentProblem(path: "policies[2].name", offendingText: "also-bad", message: "contains '-' at position 5")
/// print(problem)   // policies[2].name "also-bad": contains '-' at position 5
/// ```
public struct DocumentProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where in the document: `policies[3].runtime.rulesets[0].name`, or `$` for the whole.
    public let path: String
    /// The offending value as compact JSON (`"also-bad"`, `5`, `null`), safe to print on a
    /// terminal and cut to about 60 characters; nil when the problem is a missing or whole part.
    public let value: String?
    /// What is wrong and what to do.
    public let message: String
    /// Set when the problem is a part of the product that Amazon ECS policies do not have.
    public let unsupportedFeature: UnsupportedFeature?

    /// A problem at `path`.
    public init(path: String, value: String? = nil, message: String, unsupportedFeature: UnsupportedFeature? = nil) {
        self.path = path
        self.value = value
        self.message = message
        self.unsupportedFeature = unsupportedFeature
    }

    /// A problem with a string of the document, which is shown quoted.
    public init(path: String, offendingText text: String, message: String) {
        self.init(path: path, value: Self.shown(.string(text)), message: message)
    }

    /// A problem with a value of the document: a scalar is shown, an object or array is not.
    init(path: String, offending value: JSONValue, message: String, unsupportedFeature: UnsupportedFeature? = nil) {
        self.init(path: path, value: Self.shown(value), message: message, unsupportedFeature: unsupportedFeature)
    }

    public var description: String { value.map { "\(path) \($0): \(message)" } ?? "\(path): \(message)" }

    /// The longest string shown whole; a longer one is cut and ends in `…`.
    static let shownLength = 60

    private static func shown(_ value: JSONValue) -> String? {
        var writer = JSONWriter(escapesForTerminals: true)
        switch value {
        case .array, .object:
            return nil
        case .string(let text) where text.count > shownLength:
            writer.compactValue(.string(String(text.prefix(shownLength - 1))))
            return String(decoding: writer.bytes, as: UTF8.self) + "…"
        default:
            writer.compactValue(value)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
    }
}

extension DocumentProblem {
    /// Problems in the order of the document: by the lists in the order `lists` gives, then by
    /// index, then by field in the order the product writes them; otherwise as found.
    static func inDocumentOrder(_ problems: [DocumentProblem], lists: [String] = ["rulesets", "policies"]) -> [DocumentProblem] {
        let keyed = problems.enumerated().map { (position: $0.offset, key: PathKey($0.element.path, lists: lists), problem: $0.element) }
        return keyed.sorted { $0.key == $1.key ? $0.position < $1.position : $0.key < $1.key }.map(\.problem)
    }

    /// A path made comparable: each step a field's rank or an index.
    private struct PathKey: Comparable {
        /// The product's order of the fields of an entry: the name, the content types' scalar
        /// fields as they declare them, then the lists; a field it does not have comes after.
        static let fieldOrder = uniqueNames(
            ["name"] + PolicyContent.Field.allCases.map(\.rawValue) + RulesetContent.Field.allCases.map(\.rawValue)
                + ["runtime", "rulesets", "rules", "id", "mitigation"])
        let steps: [Int]

        init(_ path: String, lists: [String]) {
            var steps: [Int] = []
            var field = ""
            /// The text between `[` and `]`: an index, or a quoted key (which may hold `]`).
            var bracket: String?
            func rank(_ name: String) -> Int {
                let order = steps.isEmpty ? lists : Self.fieldOrder
                return order.firstIndex(of: name) ?? order.count
            }
            func endField() {
                if !field.isEmpty { steps.append(rank(field)) }
                field = ""
            }
            for character in path.dropFirst(path.hasPrefix("$") ? 1 : 0) {
                if let text = bracket {
                    let closesQuote = text.count > 1 && text.hasSuffix("\"") && !text.dropLast().hasSuffix("\\")
                    if character == "]", !text.hasPrefix("\"") || closesQuote {
                        steps.append(Int(text) ?? rank(text))
                        bracket = nil
                    } else {
                        bracket = text + String(character)
                    }
                    continue
                }
                switch character {
                case ".": endField()
                case "[": endField(); bracket = ""
                default: field.append(character)
                }
            }
            endField()
            self.steps = steps
        }

        static func < (lhs: PathKey, rhs: PathKey) -> Bool { lhs.steps.lexicographicallyPrecedes(rhs.steps) }
    }
}
