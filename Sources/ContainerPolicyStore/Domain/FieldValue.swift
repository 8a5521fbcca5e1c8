/// The value of one scalar field of an object's content: the store keeps each in a column,
/// a document in a JSON member, a diff compares them, and a listing shows them, all through
/// this one type, so that a new field of a content type needs no code beyond its own case.
public enum FieldValue: Sendable, Hashable, CustomStringConvertible {
    case text(String)
    case flag(Bool)

    /// How a person reads it: the text as it is, a switch as `on` or `off`.
    public var description: String {
        switch self {
        case .text(let text): return text
        case .flag(let flag): return flag ? "on" : "off"
        }
    }
}

/// One scalar field whose value differs between two versions of an object's content.
///
/// ```swift
/// let change = PolicyContent().changes(to: PolicyContent(xdrEnabled: false)).fields[0]
/// print(change.field, change.from, change.to)   // xdrEnabled on off
/// ```
public struct FieldChange<Field: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    public let field: Field
    public let from: FieldValue
    public let to: FieldValue

    public init(field: Field, from: FieldValue, to: FieldValue) {
        self.field = field
        self.from = from
        self.to = to
    }
}

extension FieldValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .flag(flag)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .flag(let flag): try container.encode(flag)
        }
    }
}

/// Where a content type keeps one of its scalar fields, and so what it holds: text, held to
/// the product's description rules (``DescriptionRules``), or an on/off switch.
public enum FieldPath<Content>: Sendable {
    case text(WritableKeyPath<Content, String> & Sendable)
    case flag(WritableKeyPath<Content, Bool> & Sendable)
}

/// A content type whose scalar fields are listed by a `Field` enum: the one place that names
/// them, for storage, documents, diffs and display.
public protocol ObjectContent: Sendable, Hashable, Codable {
    associatedtype Field: RawRepresentable, CaseIterable, Sendable, Hashable, Codable where Field.RawValue == String

    /// The kind of object whose content this is.
    static var kind: ObjectKind { get }

    /// Where `field` is kept: the one switch over the fields a content type writes.
    static func path(of field: Field) -> FieldPath<Self>

    /// Throws the precise error of the first rule the content breaks, for an object named
    /// `name`.
    func validate(name: String) throws(PolicyStoreError)

    /// Every field at its default: what a document's entry holds before its fields are read.
    static var empty: Self { get }
}

extension ObjectContent {
    /// The value of a scalar field.
    public subscript(field: Field) -> FieldValue {
        get {
            switch Self.path(of: field) {
            case .text(let path): return .text(self[keyPath: path])
            case .flag(let path): return .flag(self[keyPath: path])
            }
        }
        set {
            switch (Self.path(of: field), newValue) {
            case (.text(let path), .text(let text)): self[keyPath: path] = text
            case (.flag(let path), .flag(let flag)): self[keyPath: path] = flag
            default: preconditionFailure("\(field) does not hold \(newValue)")
            }
        }
    }

    /// The problem of `value` for `field` as a sentence, or nil when it can be stored.
    public static func problem(of value: FieldValue, for field: Field) -> String? {
        guard case .text(let text) = value, case .text = path(of: field) else { return nil }
        return DescriptionRules.problem(in: text)?.explanation
    }

    /// Throws the error of the first text field that breaks the description rules.
    func validateFields(name: String) throws(PolicyStoreError) {
        for field in Field.allCases {
            if case .text(let path) = Self.path(of: field) {
                try DescriptionRules.validate(self[keyPath: path], kind: Self.kind, name: name)
            }
        }
    }

    /// The scalar fields whose values differ, in the order the fields are declared.
    func fieldChanges(to new: Self) -> [FieldChange<Field>] {
        Field.allCases.compactMap { field in
            self[field] == new[field] ? nil : FieldChange(field: field, from: self[field], to: new[field])
        }
    }
}

extension ObjectContent {
    /// Every scalar field as a JSON member, in the order of `Field`.
    var fieldMembers: [(key: String, value: JSONValue)] {
        Field.allCases.map { field in
            switch self[field] {
            case .text(let text): return (field.rawValue, .string(text))
            case .flag(let flag): return (field.rawValue, .bool(flag))
            }
        }
    }

    /// Reads every scalar field that is present; absent ones keep the value they have.
    mutating func decodeFields(from container: KeyedDecodingContainer<FieldKey>) throws {
        for field in Field.allCases where container.contains(FieldKey(field.rawValue)) {
            switch self[field] {
            case .text: self[field] = .text(try container.decode(String.self, forKey: FieldKey(field.rawValue)))
            case .flag: self[field] = .flag(try container.decode(Bool.self, forKey: FieldKey(field.rawValue)))
            }
        }
    }
}

extension FieldValue {
    /// The value as a document holds it.
    var json: JSONValue {
        switch self {
        case .text(let text): return .string(text)
        case .flag(let flag): return .bool(flag)
        }
    }
}
