/// A JSON member name as a coding key: a content field's raw value, which is the product
/// API's name, or any other member's. The Vision One sync reads and writes the API's JSON with
/// it too.
package struct FieldKey: CodingKey, Hashable {
    package let stringValue: String
    package var intValue: Int? { nil }

    package init(_ name: String) { stringValue = name }
    package init?(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { nil }
}

extension Encoder {
    /// The members in this order, each under its key, a nil one as `null` rather than left
    /// out: every value of a type has the same members.
    package func encodeMembers(_ members: KeyValuePairs<String, any Encodable>) throws {
        var container = container(keyedBy: FieldKey.self)
        for (key, value) in members { try container.encode(value, forKey: FieldKey(key)) }
    }
}
