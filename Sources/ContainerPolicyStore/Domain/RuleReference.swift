/// What the runtime does when a rule matches.
public enum Mitigation: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case log
    case isolate
    case terminate

    public var description: String { rawValue }
}

/// A managed rule a ruleset applies: its ID (`TM-` and 8 digits) and the mitigation.
///
/// ```swift
/// let rule = RuleReference(id: "TM-00000001", mitigation: .terminate)
/// let logged = RuleReference(id: "TM-00000002")   // mitigation .log
/// ```
public struct RuleReference: Sendable, Hashable, Codable {
    /// The managed rule's ID, `TM-00000001`.
    public var id: String
    /// What the runtime does when the rule matches.
    public var mitigation: Mitigation

    /// A reference to rule `id`, logged unless told otherwise.
    public init(id: String, mitigation: Mitigation = .log) {
        self.id = id
        self.mitigation = mitigation
    }

    /// True when `id` is `TM-` followed by exactly 8 ASCII digits.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return bytes.count == 11 && bytes.starts(with: Array("TM-".utf8))
            && bytes[3...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

/// Why a rule reference was refused.
public enum RuleProblem: Sendable, Hashable {
    /// The ID is not `TM-` followed by 8 digits.
    case malformedID
    /// The same rule ID appears twice in one ruleset.
    case duplicate
}

extension RuleReference {
    private enum CodingKeys: String, CodingKey { case id, mitigation }

    /// The product's shape, `{"id", "mitigation"}`; the mitigation is `log` when absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            mitigation: try container.decodeIfPresent(Mitigation.self, forKey: .mitigation) ?? .log)
    }
}

extension RuleReference: JSONRepresentable {
    var jsonValue: JSONValue {
        .object([("id", .string(id)), ("mitigation", .string(mitigation.rawValue))])
    }

    public func encode(to encoder: any Encoder) throws {
        try encodeTree(to: encoder)
    }
}
