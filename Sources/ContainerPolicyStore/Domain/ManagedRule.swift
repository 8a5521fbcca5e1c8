import Foundation

/// A managed rule of the product's catalogue (`GET /v3.0/containerSecurity/managedRules`),
/// which lists every rule a ruleset can apply and is read-only there. A store holds the
/// catalogue a user imported (``StoreTransaction/importManagedRules(_:)``); with one, a
/// ruleset may apply only the rules it lists.
///
/// ```swift
/// if let rule = try store.perform(.managedRule(id: "TM-00000005")) {
///     print(rule.name, rule.techniques)   // (T1609) Docker or Kubernetes client executed in container ["T1609"]
/// }
/// ```
public struct ManagedRule: Sendable, Hashable, Identifiable {
    /// `TM-` and 8 digits, the ID rulesets refer to the rule by.
    public let id: String
    /// One line of at most 256 characters.
    public var name: String
    /// At most 4,000 characters; may be empty.
    public var description: String
    /// The MITRE ATT&CK technique IDs the rule's mapping names (`T1609`, `T1552.005`), sorted.
    public var techniques: [String]
    /// Every other field of the API's item as it came, the MITRE mapping among them: one
    /// compact JSON object, `{}` when there are none. The API's field names for the mapping
    /// are not published, so they are kept whatever they are.
    public var otherFields: String
    /// When the rule was last imported; nil for one not read from a store.
    public let importedAt: Date?
    /// Stored values of the rule that break the catalogue's rules; empty for a sound one.
    public let damage: [StoredDamage]

    /// A rule with these fields.
    public init(
        id: String, name: String, description: String = "", techniques: [String] = [], otherFields: String = "{}",
        importedAt: Date? = nil, damage: [StoredDamage] = []
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.techniques = techniques
        self.otherFields = otherFields
        self.importedAt = importedAt
        self.damage = damage
    }

    /// True when the two hold the same product values (`importedAt` and `damage` aside).
    func hasSameFields(as other: ManagedRule) -> Bool {
        id == other.id && name == other.name && description == other.description && techniques == other.techniques
            && otherFields == other.otherFields
    }
}

extension ManagedRule: Codable {
    /// `id`, `name`, `description`, `techniques`, `otherFields` (the object itself), then
    /// `importedDateTime` and `damage` when there are any.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(id, forKey: FieldKey("id"))
        try container.encode(name, forKey: FieldKey("name"))
        try container.encode(description, forKey: FieldKey("description"))
        try container.encode(techniques, forKey: FieldKey("techniques"))
        // Damaged text that is not JSON is written as the text it is.
        if let fields = try? JSONParser.parse(Array(otherFields.utf8)) {
            try container.encode(fields, forKey: FieldKey("otherFields"))
        } else {
            try container.encode(otherFields, forKey: FieldKey("otherFields"))
        }
        if let importedAt { try container.encode(Timestamp.text(from: importedAt), forKey: FieldKey("importedDateTime")) }
        if !damage.isEmpty { try container.encode(damage, forKey: FieldKey("damage")) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        let fields = try container.decodeIfPresent(JSONValue.self, forKey: FieldKey("otherFields")) ?? .object([])
        self.init(
            id: try container.decode(String.self, forKey: FieldKey("id")),
            name: try container.decode(String.self, forKey: FieldKey("name")),
            description: try container.decodeIfPresent(String.self, forKey: FieldKey("description")) ?? "",
            techniques: try container.decodeIfPresent([String].self, forKey: FieldKey("techniques")) ?? [],
            otherFields: fields.compactText,
            importedAt: container.contains(FieldKey("importedDateTime")) ? try decodeTimestamp(container, "importedDateTime") : nil,
            damage: try container.decodeIfPresent([StoredDamage].self, forKey: FieldKey("damage")) ?? [])
    }
}

/// A managed rule that rulesets apply: its ID and the names of those rulesets, sorted.
public struct RuleUsage: Sendable, Hashable, Codable {
    public let ruleID: String
    public let rulesets: [String]

    public init(ruleID: String, rulesets: [String]) {
        self.ruleID = ruleID
        self.rulesets = rulesets
    }
}

/// What the catalogue holds, in Swift as the schema's `CHECK` constraints say it: IDs as
/// rulesets use them, names of one line, descriptions like those of policies but longer, and
/// ATT&CK technique IDs. Each rule's problem is a sentence that ends in what to fix.
enum ManagedRuleRules {
    static let maximumNameLength = 256
    static let maximumDescriptionLength = 4_000
    /// The most bytes of a rule's other fields, as compact JSON.
    static let maximumOtherFieldsSize = 65_536

    static func idProblem(_ id: String) -> String? {
        RuleReference.isValidID(id) ? nil : "\(quoted(id)) is not a managed rule ID: TM- followed by 8 digits, like TM-00000001"
    }

    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty: every managed rule needs a name" }
        for (offset, scalar) in name.unicodeScalars.enumerated() {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                return "has a control character at position \(offset + 1): a name is one line without control characters"
            }
            if (0xFFFD...0xFFFF).contains(scalar.value) {
                return "has U+FFFD, U+FFFE or U+FFFF at position \(offset + 1), which stand for text that was not valid"
            }
        }
        let length = name.unicodeScalars.count
        return length > maximumNameLength ? "is \(length) characters long: the limit is \(maximumNameLength)" : nil
    }

    static func descriptionProblem(_ description: String) -> String? {
        switch DescriptionRules.problem(in: description) {
        case nil:
            return nil
        case .tooLong(let length):
            // Policies' descriptions are shorter than the product's rules' may be.
            return length > maximumDescriptionLength
                ? "is \(length) characters long: the limit is \(maximumDescriptionLength)" : nil
        case let problem?:
            return problem.explanation
        }
    }

    static func otherFieldsProblem(_ text: String) -> String? {
        text.utf8.count > maximumOtherFieldsSize
            ? "the other fields take \(text.utf8.count) bytes as JSON: a rule's other fields may take at most \(maximumOtherFieldsSize)" : nil
    }

    static func isTechniqueID(_ text: some Collection<UInt8>) -> Bool {
        let bytes = Array(text)
        func digits(_ range: Range<Int>) -> Bool { bytes[range].allSatisfy { (0x30...0x39).contains($0) } }
        guard bytes.first == UInt8(ascii: "T") else { return false }
        switch bytes.count {
        case 5: return digits(1..<5)
        case 9: return digits(1..<5) && bytes[5] == UInt8(ascii: ".") && digits(6..<9)
        default: return false
        }
    }

    /// A field of a rule, by its name in ``ManagedRule``.
    enum Field: String {
        case id, name, description, techniques, otherFields
    }

    /// Every problem of `rule`, each with its field and the value that has it.
    static func problems(of rule: ManagedRule) -> [(field: Field, value: String, message: String)] {
        var problems: [(field: Field, value: String, message: String)] = []
        if let problem = idProblem(rule.id) { problems.append((.id, rule.id, problem)) }
        if let problem = nameProblem(rule.name) { problems.append((.name, rule.name, problem)) }
        if let problem = descriptionProblem(rule.description) { problems.append((.description, rule.description, problem)) }
        for technique in rule.techniques where !isTechniqueID(technique.utf8) {
            problems.append((.techniques, technique, "\(quoted(technique)) is not an ATT&CK technique ID like T1609 or T1552.005"))
        }
        if let problem = otherFieldsProblem(rule.otherFields) { problems.append((.otherFields, rule.otherFields, problem)) }
        return problems
    }

    /// The ATT&CK technique IDs named anywhere in `value`: each `T` and 4 digits, with
    /// `.` and 3 more for a sub-technique, that stands apart from letters and digits
    /// (`T1609`, `"T1552.005 Cloud Instance Metadata API"`), sorted, each once.
    static func techniques(in value: JSONValue) -> [String] {
        var found = Set<String>()
        func visit(_ value: JSONValue) {
            switch value {
            case .string(let text): found.formUnion(techniqueIDs(in: text))
            case .array(let elements): elements.forEach(visit)
            case .object(let members): members.forEach { visit($0.value) }
            default: break
            }
        }
        visit(value)
        return found.sorted()
    }

    private static func techniqueIDs(in text: String) -> [String] {
        let bytes = Array(text.utf8)
        func isWordByte(_ index: Int) -> Bool {
            guard bytes.indices.contains(index) else { return false }
            let byte = bytes[index]
            return (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        }
        func id(_ start: Int, _ length: Int) -> String? {
            guard start + length <= bytes.count, !isWordByte(start + length) else { return nil }
            let candidate = bytes[start..<(start + length)]
            return isTechniqueID(candidate) ? String(decoding: candidate, as: UTF8.self) : nil
        }
        return bytes.indices.filter { bytes[$0] == UInt8(ascii: "T") && !isWordByte($0 - 1) }.compactMap { id($0, 9) ?? id($0, 5) }
    }
}
