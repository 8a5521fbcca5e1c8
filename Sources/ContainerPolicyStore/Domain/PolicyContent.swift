/// What a policy says, apart from its name (which never changes): what a user edits, what a
/// document holds for it, and what the history records before and after each change. One
/// type for all of them, so a field is added in one place.
///
/// ```swift
/// var content = PolicyContent(description: "Front end")
/// content.xdrEnabled = false
/// content.addRuleset("baseline")
/// ```
public struct PolicyContent: ObjectContent {
    /// Shown under the name in the policy list; at most 1,000 characters.
    public var description: String
    /// The console's "XDR Telemetry" switch; on unless said otherwise.
    public var xdrEnabled: Bool
    /// The Runtime part: names of the linked rulesets, a set (letter case and repeats do not
    /// matter, as with the console's checkboxes). The store gives them sorted.
    public var rulesets: [String]

    public static var empty: PolicyContent { PolicyContent() }

    /// The fields as they are to be.
    public init(description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []) {
        self.description = description
        self.xdrEnabled = xdrEnabled
        self.rulesets = rulesets
    }

    /// Links a ruleset; linking one that is already linked changes nothing.
    public mutating func addRuleset(_ name: String) {
        if !rulesets.contains(where: { sameName($0, name) }) { rulesets.append(name) }
    }

    /// Unlinks a ruleset, matching its name ignoring letter case.
    public mutating func removeRuleset(_ name: String) {
        rulesets.removeAll { sameName($0, name) }
    }

    /// The scalar fields, by their names in the product's API. The store keeps each in the
    /// column of the same name in snake case (`xdr_enabled`).
    public enum Field: String, CaseIterable, Sendable, Hashable, Codable {
        case description
        case xdrEnabled
    }

    public static var kind: ObjectKind { .policy }

    public static func path(of field: Field) -> FieldPath<PolicyContent> {
        switch field {
        case .description: return .text(\.description)
        case .xdrEnabled: return .flag(\.xdrEnabled)
        }
    }

    public func validate(name: String) throws(PolicyStoreError) {
        try validateFields(name: name)
    }

    /// How this content becomes `new`: the fields that differ and the rulesets linked and
    /// unlinked, compared ignoring letter case.
    public func changes(to new: PolicyContent) -> PolicyChanges {
        let old = Set(rulesets.map(asciiLowercased))
        let wanted = Set(new.rulesets.map(asciiLowercased))
        return PolicyChanges(
            fields: fieldChanges(to: new),
            addedRulesets: sortedNames(uniqueNames(new.rulesets.filter { !old.contains(asciiLowercased($0)) })),
            removedRulesets: sortedNames(uniqueNames(rulesets.filter { !wanted.contains(asciiLowercased($0)) })))
    }
}

/// How a policy's content changes: what a modify writes, an import plans and the history shows.
public struct PolicyChanges: Sendable, Hashable, Codable {
    public var fields: [FieldChange<PolicyContent.Field>]
    public var addedRulesets: [String]
    public var removedRulesets: [String]

    public init(fields: [FieldChange<PolicyContent.Field>] = [], addedRulesets: [String] = [], removedRulesets: [String] = []) {
        self.fields = fields
        self.addedRulesets = addedRulesets
        self.removedRulesets = removedRulesets
    }

    public var isEmpty: Bool { fields.isEmpty && addedRulesets.isEmpty && removedRulesets.isEmpty }
}

extension PolicyContent {
    /// The product's shape: `description`, `xdrEnabled`, `runtime.rulesets[].name`.
    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: FieldKey.self)
        try decodeFields(from: container)
        if container.contains(FieldKey("runtime")) {
            let runtime = try container.nestedContainer(keyedBy: FieldKey.self, forKey: FieldKey("runtime"))
            rulesets = try runtime.decodeIfPresent([RulesetLink].self, forKey: FieldKey("rulesets"))?.map(\.name) ?? []
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try encodeTree(to: encoder)
    }

    /// `{"name": ...}`, how the product's API refers to a linked ruleset.
    private struct RulesetLink: Decodable {
        let name: String
    }
}

extension PolicyContent: JSONRepresentable {
    var jsonValue: JSONValue {
        .object(fieldMembers + [
            ("runtime", .object([("rulesets", .array(rulesets.map { .object([("name", .string($0))]) }))])),
        ])
    }
}

/// The names, each once ignoring letter case, in the order given.
func uniqueNames(_ names: [String]) -> [String] {
    var seen = Set<String>()
    return names.filter { seen.insert(asciiLowercased($0)).inserted }
}
