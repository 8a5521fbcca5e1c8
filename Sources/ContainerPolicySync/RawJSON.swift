import ContainerPolicyStore

/// A JSON value kept as the server sent it: the fields of the product's API this library does
/// not model (a policy's `malwareScan`, a managed rule's MITRE ATT&CK mapping) travel in these,
/// so nothing the server said is lost and a future field does not break decoding.
///
/// ```swift
/// if case .object(let mapping)? = rule.additionalFields["mitre"] { print(mapping.keys.sorted()) }
/// ```
public enum RawJSON: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([RawJSON])
    case object([String: RawJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([RawJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: RawJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// True for `null`, `[]` and `{}`: the ways the API says "none".
    public var isEmpty: Bool {
        switch self {
        case .null: return true
        case .array(let elements): return elements.isEmpty
        case .object(let members): return members.isEmpty
        default: return false
        }
    }
}

extension KeyedDecodingContainer where Key == FieldKey {
    /// Every member whose key is not in `known`, as raw JSON.
    func additionalFields(excluding known: Set<String>) throws -> [String: RawJSON] {
        var fields: [String: RawJSON] = [:]
        for key in allKeys where !known.contains(key.stringValue) {
            fields[key.stringValue] = try decode(RawJSON.self, forKey: key)
        }
        return fields
    }

    /// A string that may be absent or null (the API sends both for "no description").
    func optionalString(_ key: String) throws -> String? {
        try decodeIfPresent(String.self, forKey: FieldKey(key))
    }

    func requiredString(_ key: String) throws -> String {
        try decode(String.self, forKey: FieldKey(key))
    }
}

extension KeyedEncodingContainer where Key == FieldKey {
    /// Writes the unmodelled fields back, never over a modelled one.
    mutating func encodeAdditional(_ fields: [String: RawJSON], excluding known: Set<String>) throws {
        for (key, value) in fields where !known.contains(key) {
            try encode(value, forKey: FieldKey(key))
        }
    }
}
