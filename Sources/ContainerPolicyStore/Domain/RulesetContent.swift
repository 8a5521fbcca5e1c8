/// What a ruleset says, apart from its name: its description and its rules, as a user edits
/// them, a document holds them and the history records them.
///
/// ```swift
/// var content = RulesetContent(rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
/// content.rules.append(RuleReference(id: "TM-00000042"))
/// ```
public struct RulesetContent: ObjectContent {
    /// At most 1,000 characters.
    public var description: String
    /// The complete list of rules; each rule ID at most once. The store gives them sorted by ID.
    public var rules: [RuleReference]

    public static var empty: RulesetContent { RulesetContent() }

    /// The fields as they are to be.
    public init(description: String = "", rules: [RuleReference] = []) {
        self.description = description
        self.rules = rules
    }

    /// The scalar fields, by their names in the product's API. The store keeps each in the
    /// column of the same name in snake case.
    public enum Field: String, CaseIterable, Sendable, Hashable, Codable {
        case description
    }

    public static var kind: ObjectKind { .ruleset }

    public static func path(of field: Field) -> FieldPath<RulesetContent> {
        switch field {
        case .description: return .text(\.description)
        }
    }

    /// The description's rules; each rule ID `TM-` and 8 digits, and at most once.
    public func validate(name: String) throws(PolicyStoreError) {
        try validateFields(name: name)
        var seen = Set<String>()
        for rule in rules {
            guard RuleReference.isValidID(rule.id) else { throw .invalidRule(ruleset: name, ruleID: rule.id, .malformedID) }
            guard seen.insert(rule.id).inserted else { throw .invalidRule(ruleset: name, ruleID: rule.id, .duplicate) }
        }
    }

    /// How this content becomes `new`: the fields that differ, and the rules added, removed
    /// and given another mitigation, compared by rule ID; each list sorted by ID.
    public func changes(to new: RulesetContent) -> RulesetChanges {
        let oldMitigations = Dictionary(rules.map { ($0.id, $0.mitigation) }, uniquingKeysWith: { first, _ in first })
        let newIDs = Set(new.rules.map(\.id))
        let sortedNew = new.rules.sorted { $0.id < $1.id }
        return RulesetChanges(
            fields: fieldChanges(to: new),
            addedRules: sortedNew.filter { oldMitigations[$0.id] == nil },
            removedRules: rules.map(\.id).filter { !newIDs.contains($0) }.sorted(),
            remitigatedRules: sortedNew.filter { rule in oldMitigations[rule.id].map { $0 != rule.mitigation } ?? false })
    }
}

/// How a ruleset's content changes.
public struct RulesetChanges: Sendable, Hashable, Codable {
    public var fields: [FieldChange<RulesetContent.Field>]
    public var addedRules: [RuleReference]
    /// The IDs of the rules removed.
    public var removedRules: [String]
    /// Rules kept with another mitigation, with the new one.
    public var remitigatedRules: [RuleReference]

    public init(
        fields: [FieldChange<RulesetContent.Field>] = [], addedRules: [RuleReference] = [], removedRules: [String] = [],
        remitigatedRules: [RuleReference] = []
    ) {
        self.fields = fields
        self.addedRules = addedRules
        self.removedRules = removedRules
        self.remitigatedRules = remitigatedRules
    }

    public var isEmpty: Bool { fields.isEmpty && addedRules.isEmpty && removedRules.isEmpty && remitigatedRules.isEmpty }
}

extension RulesetContent {
    /// The product's shape: `description`, `rules[]` of `{id, mitigation}` (mitigation `log`
    /// when absent).
    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: FieldKey.self)
        try decodeFields(from: container)
        rules = try container.decodeIfPresent([RuleReference].self, forKey: FieldKey("rules")) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        try encodeTree(to: encoder)
    }
}

extension RulesetContent: JSONRepresentable {
    var jsonValue: JSONValue {
        .object(fieldMembers + [("rules", .array(rules.map(\.jsonValue)))])
    }
}
