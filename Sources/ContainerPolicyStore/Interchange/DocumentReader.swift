import Foundation

extension PolicyDocument {
    /// The largest document read, so a hostile file cannot exhaust memory.
    public static let maximumSize = 64 * 1_024 * 1_024

    /// The first problems, and one line that counts the others.
    static func capped(_ problems: [DocumentProblem], unlisted: Int) -> [DocumentProblem] {
        let limit = DocumentReader.maximumProblems
        let more = unlisted + max(0, problems.count - limit)
        guard more > 0 else { return problems }
        return Array(problems.prefix(limit)) + [DocumentProblem(path: "$", message: "and \(more) more problems not listed")]
    }

    /// Fields of the product's API that are read-only there: accepted so that a policy
    /// fetched from the product imports as it is, and ignored.
    static let readOnlyFields: Set<String> = ["id", "createdDateTime", "updatedDateTime", "rulesetsUpdatedDateTime"]

    /// Reads a document, checking all of it before giving up, so that every problem is
    /// reported at once with its JSON path, as
    /// ``PolicyStoreError/invalidDocument(_:)``.
    ///
    /// ```swift
    /// let document = try PolicyDocument(json: Data(#"{"policies": [{"name": "web"}]}"#.utf8))
    /// ```
    public init(json data: Data) throws(PolicyStoreError) {
        guard data.count <= Self.maximumSize else {
            throw .invalidDocument([DocumentProblem(
                path: "$", message: "the document is \(data.count) bytes; the limit is \(Self.maximumSize)")])
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(data))
        } catch {
            throw .invalidDocument([DocumentProblem(
                path: "$", message: "not valid JSON at line \(error.line), column \(error.column): \(error.message)")])
        }
        var reader = DocumentReader()
        let document = reader.document(value)
        var problems = reader.problems
        if reader.unlistedProblems == 0 { problems += document.validationProblems() }
        guard problems.isEmpty else {
            let ordered = DocumentProblem.inDocumentOrder(problems, lists: reader.listOrder)
            throw .invalidDocument(Self.capped(ordered, unlisted: reader.unlistedProblems))
        }
        self = document
    }
}

/// Turns parsed JSON into a document, collecting every problem of shape (types, unknown
/// fields, parts Amazon ECS does not have) instead of stopping at the first. The product's
/// rules are checked on the result by `PolicyDocument.validationProblems()`.
struct DocumentReader {
    /// The most problems listed: a hostile document with millions of bad elements must not
    /// take memory in proportion.
    static let maximumProblems = 100

    private(set) var problems: [DocumentProblem] = []
    /// Problems found past the listed ones.
    private(set) var unlistedProblems = 0
    /// The document's lists in the order it gives them, for listing problems in its order.
    private(set) var listOrder = ["rulesets", "policies"]

    private mutating func problem(
        _ path: String, _ message: String, _ feature: UnsupportedFeature? = nil, offending value: JSONValue? = nil
    ) {
        guard problems.count < Self.maximumProblems else {
            unlistedProblems += 1
            return
        }
        problems.append(value.map { DocumentProblem(path: path, offending: $0, message: message, unsupportedFeature: feature) }
            ?? DocumentProblem(path: path, message: message, unsupportedFeature: feature))
    }

    mutating func document(_ value: JSONValue) -> PolicyDocument {
        var document = PolicyDocument()
        guard let members = object(value, at: "$") else { return document }
        listOrder = members.map(\.key).filter { $0 == "rulesets" || $0 == "policies" }
        for (key, value) in members {
            switch key {
            case "rulesets":
                document.rulesets = array(value, at: key).enumerated().compactMap { ruleset($1, at: "rulesets[\($0)]") }
            case "policies":
                document.policies = array(value, at: key).enumerated().compactMap { policy($1, at: "policies[\($0)]") }
            default:
                problem(memberPath(nil, key), "unknown field; a document has only \"rulesets\" and \"policies\"")
            }
        }
        return document
    }

    /// An entry: its name, its content's scalar fields, what `member` reads of the rest (it
    /// returns false for a key it does not know), and the product's read-only fields.
    private mutating func entry<Content: ObjectContent>(
        _ value: JSONValue, at path: String, kind: ObjectKind, otherFields: [String],
        _ member: (inout Self, inout Content, String, JSONValue, String) -> Bool
    ) -> DocumentEntry<Content>? {
        var entry = DocumentEntry(name: "", content: Content.empty)
        let isObject = readObject(value, at: path, requiring: "name", missing: "missing: every \(kind) needs a name") { reader, key, value, fieldPath in
            if let field = Content.Field(rawValue: key) {
                reader.read(value, into: &entry.content, field, at: fieldPath)
            } else if key == "name" {
                entry.name = reader.string(value, at: fieldPath) ?? ""
            } else if !member(&reader, &entry.content, key, value, fieldPath), !PolicyDocument.readOnlyFields.contains(key) {
                let names = ["name"] + Content.Field.allCases.map(\.rawValue) + otherFields
                reader.problem(fieldPath, "unknown field; a \(kind) has \(Self.fieldList(names))")
            }
        }
        return isObject ? entry : nil
    }

    private mutating func ruleset(_ value: JSONValue, at path: String) -> PolicyDocument.RulesetEntry? {
        entry(value, at: path, kind: .ruleset, otherFields: ["rules"]) { reader, content, key, value, fieldPath in
            switch key {
            case "rules":
                content.rules = reader.array(value, at: fieldPath).enumerated().compactMap { reader.rule($1, at: "\(fieldPath)[\($0)]") }
            case "labels":
                if !reader.isEmpty(value) {
                    reader.problem(fieldPath, UnsupportedFeature.rulesetLabels.explanation, .rulesetLabels, offending: value)
                }
            case "labelMatchingCondition":
                break  // Only meaningful with labels, which must be empty.
            default:
                return false
            }
            return true
        }
    }

    private mutating func rule(_ value: JSONValue, at path: String) -> RuleReference? {
        var rule = RuleReference(id: "")
        let isObject = readObject(value, at: path, requiring: "id", missing: "missing: every rule needs an id") { reader, key, value, fieldPath in
            switch key {
            case "id":
                rule.id = reader.string(value, at: fieldPath) ?? ""
            case "mitigation":
                guard let text = reader.string(value, at: fieldPath) else { break }
                if let mitigation = Mitigation(rawValue: text) {
                    rule.mitigation = mitigation
                } else {
                    reader.problem(fieldPath, "is not a mitigation: use log, isolate or terminate", offending: value)
                }
            default:
                reader.problem(fieldPath, "unknown field; a rule has id and mitigation")
            }
        }
        return isObject ? rule : nil
    }

    private mutating func policy(_ value: JSONValue, at path: String) -> PolicyDocument.PolicyEntry? {
        entry(value, at: path, kind: .policy, otherFields: ["runtime"]) { reader, content, key, value, fieldPath in
            switch key {
            case "runtime":
                content.rulesets = reader.runtime(value, at: fieldPath)
            case "default":
                for (part, partValue) in reader.object(value, at: fieldPath) ?? [] {
                    switch part {
                    case "rules" where !reader.isEmpty(partValue):
                        reader.problem(fieldPath + ".rules", UnsupportedFeature.deploymentRules.explanation, .deploymentRules)
                    case "exceptions" where !reader.isEmpty(partValue):
                        reader.problem(fieldPath + ".exceptions", UnsupportedFeature.exceptions.explanation, .exceptions)
                    case "rules", "exceptions":
                        break
                    default:
                        reader.problem(memberPath(fieldPath, part), "unknown field; Amazon ECS policies have no default part")
                    }
                }
            case "namespaced":
                if !reader.isEmpty(value) {
                    reader.problem(fieldPath, UnsupportedFeature.namespacedPolicies.explanation, .namespacedPolicies, offending: value)
                }
            default:
                return false
            }
            return true
        }
    }

    /// Reads a scalar field of a content, of the kind its current value is.
    private mutating func read<Content: ObjectContent>(
        _ value: JSONValue, into content: inout Content, _ field: Content.Field, at path: String
    ) {
        switch content[field] {
        case .text:
            if let text = string(value, at: path) { content[field] = .text(text) }
        case .flag:
            if case .bool(let flag) = value { content[field] = .flag(flag) } else {
                problem(path, "expected true or false, found \(value.kindName)", offending: value)
            }
        }
    }

    /// `a, b and c`.
    private static func fieldList(_ names: [String]) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    private mutating func runtime(_ value: JSONValue, at path: String) -> [String] {
        var names: [String] = []
        for (key, value) in object(value, at: path) ?? [] {
            let fieldPath = memberPath(path, key)
            guard key == "rulesets" else {
                problem(fieldPath, "unknown field; runtime has only rulesets")
                continue
            }
            for (index, element) in array(value, at: fieldPath).enumerated() {
                let elementPath = "\(fieldPath)[\(index)]"
                readObject(element, at: elementPath, requiring: "name", missing: "missing: name the ruleset") { reader, field, fieldValue, fieldPath in
                    switch field {
                    case "name":
                        names.append(reader.string(fieldValue, at: fieldPath) ?? "")
                    case "id":
                        break  // The product's ruleset id; rulesets are matched by name.
                    default:
                        reader.problem(fieldPath, "unknown field; a ruleset reference has only name")
                    }
                }
            }
        }
        return names
    }

    // MARK: Values

    /// Reads each member of an object through `read` (with the member's path), then reports
    /// `required` when the object has no such member. False when `value` is not an object.
    @discardableResult
    private mutating func readObject(
        _ value: JSONValue, at path: String, requiring required: String, missing: String,
        _ read: (inout Self, String, JSONValue, String) -> Void
    ) -> Bool {
        guard let members = object(value, at: path) else { return false }
        for (key, value) in members { read(&self, key, value, memberPath(path, key)) }
        if !members.contains(where: { $0.key == required }) { problem(path + "." + required, missing) }
        return true
    }

    private mutating func object(_ value: JSONValue, at path: String) -> [(key: String, value: JSONValue)]? {
        guard case .object(let members) = value else {
            problem(path, "expected an object, found \(value.kindName)", offending: value)
            return nil
        }
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted {
            problem(memberPath(path == "$" ? nil : path, member.key), "the field appears twice; keep one")
        }
        return members
    }

    private mutating func array(_ value: JSONValue, at path: String) -> [JSONValue] {
        guard case .array(let elements) = value else {
            problem(path, "expected an array, found \(value.kindName)", offending: value)
            return []
        }
        return elements
    }

    private mutating func string(_ value: JSONValue, at path: String) -> String? {
        guard case .string(let text) = value else {
            problem(path, "expected a string, found \(value.kindName)", offending: value)
            return nil
        }
        return text
    }

    /// Absent parts of the product arrive as null, `[]` or `{}`; all mean "none".
    private func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return true
        case .array(let elements): return elements.isEmpty
        case .object(let members): return members.isEmpty
        default: return false
        }
    }
}

/// The JSON path of a field: `policies[0].name`, or `policies[0]["odd key"]` for a key that is
/// not a plain word, quoted so that a hostile key cannot put control characters in a message.
func memberPath(_ path: String?, _ key: String) -> String {
    let plain = !key.isEmpty && key.utf8.allSatisfy { byte in
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F
    }
    guard plain else { return (path ?? "$") + "[" + quoted(key) + "]" }
    return path.map { $0 + "." + key } ?? key
}
