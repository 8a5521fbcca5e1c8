import Foundation

/// A value whose content's fields read as its own: `policy.description` for
/// `policy.content.description`. The store's ``Policy`` and ``Ruleset`` are such values, and
/// so are the Vision One sync's remote objects.
///
/// ```swift
/// var policy = try store.perform(.createPolicy(named: "web"))
/// policy.xdrEnabled = false   // policy.content.xdrEnabled
/// ```
@dynamicMemberLookup
public protocol ContentBearing {
    associatedtype Content: ObjectContent
    /// The editable part, whose fields read as the value's own.
    var content: Content { get set }
}

extension ContentBearing {
    /// A field of the content, as if it were the object's own.
    public subscript<Value>(dynamicMember field: WritableKeyPath<Content, Value>) -> Value {
        get { content[keyPath: field] }
        set { content[keyPath: field] = newValue }
    }
}

/// A policy or a ruleset as the store holds it: its ``ObjectRecord``, whose members read as
/// its own (`policy.revision`), and its content, whose fields do too (`policy.description`).
public protocol PolicyStoreObject: ContentBearing, Identifiable where ID == Int {
    /// What the store keeps about the object beside its content.
    var record: ObjectRecord { get }
}

extension PolicyStoreObject {
    /// The row id; stable for the life of the object, never reused.
    public var id: Int { record.id }
    /// Unique ignoring letter case among objects of its kind; keeps the case it was created
    /// with; never changes.
    public var name: String { record.name }
    /// Starts at 1 and grows by one with every change to the object or to one of its parts
    /// (a policy's links, a ruleset's rules).
    public var revision: Int { record.revision }
    /// When the object was created.
    public var createdAt: Date { record.createdAt }
    /// When the object or its parts last changed.
    public var updatedAt: Date { record.updatedAt }
    /// Stored values of the object that break the product's rules (for a ruleset, a rule
    /// whose ID or mitigation is not one the product has, which is then not in `rules`);
    /// empty for a sound one.
    public var damage: [StoredDamage] { record.damage }
}

/// What the store keeps about every object beside its content: its id, name, revision, times
/// and damage, which a ``Policy`` or ``Ruleset`` reads as its own (`policy.revision`; each
/// member is described there, in ``PolicyStoreObject``).
///
/// ```swift
/// let policy = try store.perform(.createPolicy(named: "web"))
/// print(policy.revision, policy.record.createdAt == policy.createdAt)   // 1 true
/// ```
public struct ObjectRecord: Sendable, Hashable {
    /// ``PolicyStoreObject/id``.
    public let id: Int
    /// ``PolicyStoreObject/name``.
    public let name: String
    /// ``PolicyStoreObject/revision``.
    public let revision: Int
    /// ``PolicyStoreObject/createdAt``.
    public let createdAt: Date
    /// ``PolicyStoreObject/updatedAt``.
    public let updatedAt: Date
    /// ``PolicyStoreObject/damage``.
    public let damage: [StoredDamage]

    /// A record as the store holds it; the store makes these, callers rarely need to.
    public init(id: Int, name: String, revision: Int, createdAt: Date, updatedAt: Date, damage: [StoredDamage] = []) {
        self.id = id
        self.name = name
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.damage = damage
    }

    /// The product's JSON shape of an object: `id`, `name`, then the content, then
    /// `revision`, `createdDateTime`, `updatedDateTime`, a kind's own `times`, and `damage`
    /// when there is any.
    func encode(to encoder: any Encoder, content: some Encodable, times: KeyValuePairs<String, Date> = [:]) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(id, forKey: FieldKey("id"))
        try container.encode(name, forKey: FieldKey("name"))
        try content.encode(to: encoder)
        try container.encode(revision, forKey: FieldKey("revision"))
        try container.encode(Timestamp.text(from: createdAt), forKey: FieldKey("createdDateTime"))
        try container.encode(Timestamp.text(from: updatedAt), forKey: FieldKey("updatedDateTime"))
        for (key, time) in times { try container.encode(Timestamp.text(from: time), forKey: FieldKey(key)) }
        if !damage.isEmpty { try container.encode(damage, forKey: FieldKey("damage")) }
    }
}

extension ObjectRecord: Decodable {
    /// Reads the members the record writes around the content, all but the content.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        id = try container.decode(Int.self, forKey: FieldKey("id"))
        name = try container.decode(String.self, forKey: FieldKey("name"))
        revision = try container.decode(Int.self, forKey: FieldKey("revision"))
        createdAt = try decodeTimestamp(container, "createdDateTime")
        updatedAt = try decodeTimestamp(container, "updatedDateTime")
        damage = try container.decodeIfPresent([StoredDamage].self, forKey: FieldKey("damage")) ?? []
    }
}

/// A product timestamp member (`2026-11-29T05:07:21.123Z`) as a date.
func decodeTimestamp(_ container: KeyedDecodingContainer<FieldKey>, _ key: String) throws -> Date {
    let text = try container.decode(String.self, forKey: FieldKey(key))
    guard let date = Timestamp.date(from: text) else {
        throw DecodingError.dataCorruptedError(
            forKey: FieldKey(key), in: container, debugDescription: "\(text) is not a timestamp like 2026-11-29T05:07:21.123Z")
    }
    return date
}

/// A product timestamp member of a decoder's keyed container.
func decodeTimestamp(_ decoder: any Decoder, _ key: String) throws -> Date {
    try decodeTimestamp(try decoder.container(keyedBy: FieldKey.self), key)
}
