import Foundation

/// The one writer of the product's JSON: every value of the library that a tool prints or
/// stores (a policy, a ruleset, a change, a cluster, an import plan, a whole document) goes
/// through its `Encodable` conformance, with the product API's field names, to the same
/// layout: keys in the order the type writes them, two-space indents, `"key": value`, a final
/// newline, and no character a terminal could act on. The same value always gives the same
/// bytes.
///
/// ```swift
/// let policy = try store.perform(.createPolicy(named: "web.prod", rulesets: ["baseline"]))
/// print(String(decoding: ProductJSON.data(policy), as: UTF8.self))
/// ```
public enum ProductJSON {
    /// `value` as JSON text, ending with a newline.
    public static func data<Value: Encodable>(_ value: Value) -> Data {
        var writer = JSONWriter()
        writer.value(tree(value), indent: 0)
        writer.raw("\n")
        return Data(writer.bytes)
    }

    /// `value` as JSON on one line, ending with a newline: one value per line (JSON Lines),
    /// for a stream such as `policyctl history --follow --json`. The same members in the same
    /// order as ``data(_:)``, without the indents; a line feed inside a string is `\n`, so a
    /// value never takes two lines.
    ///
    /// ```swift
    /// for try await change in store.changes(after: 0) {
    ///     FileHandle.standardOutput.write(ProductJSON.line(change))
    /// }
    /// ```
    public static func line<Value: Encodable>(_ value: Value) -> Data {
        var writer = JSONWriter()
        writer.compactValue(tree(value))
        writer.raw("\n")
        return Data(writer.bytes)
    }

    /// `value` as a JSON value, to be written inside a larger document.
    static func tree<Value: Encodable>(_ value: Value) -> JSONValue {
        if let direct = value as? any JSONRepresentable { return direct.jsonValue }
        let encoder = TreeEncoder()
        // Encoding into a tree cannot fail: the library's values encode only strings,
        // numbers, booleans, arrays and objects.
        try? value.encode(to: encoder)
        return encoder.storage.value
    }
}

/// Where an encoder writes: a value that containers made from it fill in place.
private final class Slot {
    var value: JSONValue = .null
    /// Object members in the order written, while the slot holds an object.
    var members: [(key: String, slot: Slot)] = []
    var elements: [Slot] = []
    var kind: Kind = .single

    enum Kind { case single, object, array }

    /// The finished value.
    var resolved: JSONValue {
        switch kind {
        case .single: return value
        case .object: return .object(members.map { ($0.key, $0.slot.resolved) })
        case .array: return .array(elements.map(\.resolved))
        }
    }
}

private final class TreeEncoder: Encoder {
    let root: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(root: Slot = Slot(), codingPath: [any CodingKey] = []) {
        self.root = root
        self.codingPath = codingPath
    }

    var storage: (value: JSONValue, slot: Slot) { (root.resolved, root) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if root.kind != .object { root.kind = .object; root.members = [] }
        return KeyedEncodingContainer(KeyedContainer<Key>(slot: root, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if root.kind != .array { root.kind = .array; root.elements = [] }
        return UnkeyedContainer(slot: root, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(slot: root, codingPath: codingPath)
    }
}

/// Encodes a nested value into `slot`.
private func encode<Value: Encodable>(_ value: Value, into slot: Slot, codingPath: [any CodingKey]) throws {
    switch value {
    case let text as String: slot.value = .string(text)
    case let flag as Bool: slot.value = .bool(flag)
    case let number as Int: slot.value = .integer(number)
    case let number as Double: slot.value = .number(number)
    case let direct as any JSONRepresentable: slot.value = direct.jsonValue
    default: try value.encode(to: TreeEncoder(root: slot, codingPath: codingPath))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func member(_ key: Key) -> Slot {
        if let existing = slot.members.first(where: { $0.key == key.stringValue }) { return existing.slot }
        let child = Slot()
        slot.members.append((key.stringValue, child))
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { member(key).value = .null }
    mutating func encode(_ value: Bool, forKey key: Key) throws { member(key).value = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { member(key).value = .string(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { member(key).value = .integer(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { member(key).value = .number(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try ContainerPolicyStore.encode(value, into: member(key), codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(root: member(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(root: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(root: slot, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { TreeEncoder(root: member(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int { slot.elements.count }

    private func next() -> Slot {
        let child = Slot()
        slot.elements.append(child)
        return child
    }

    mutating func encodeNil() throws { next().value = .null }
    mutating func encode(_ value: Bool) throws { next().value = .bool(value) }
    mutating func encode(_ value: String) throws { next().value = .string(value) }
    mutating func encode(_ value: Int) throws { next().value = .integer(value) }
    mutating func encode(_ value: Double) throws { next().value = .number(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try ContainerPolicyStore.encode(value, into: next(), codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(root: next(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        TreeEncoder(root: next(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(root: next(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.value = .null }
    mutating func encode(_ value: Bool) throws { slot.value = .bool(value) }
    mutating func encode(_ value: String) throws { slot.value = .string(value) }
    mutating func encode(_ value: Int) throws { slot.value = .integer(value) }
    mutating func encode(_ value: Double) throws { slot.value = .number(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try ContainerPolicyStore.encode(value, into: slot, codingPath: codingPath)
    }
}

extension ProductJSON {
    /// Writes `{"<key>": [...]}` one element at a time, for a listing read page by page: the
    /// pieces, joined, are what ``ProductJSON/data(_:)`` writes for the whole list.
    ///
    /// ```swift
    /// var list = ProductJSON.ListWriter(key: "policies")
    /// var json = Data()
    /// for policy in try store.perform(.list(Policy.self, limit: 100)) { json += list.element(policy) }
    /// json += list.end()
    /// ```
    public struct ListWriter: Sendable {
        private let key: String
        private var count = 0

        public init(key: String) {
            self.key = key
        }

        /// The text of the next element, after the list's opening when it is the first.
        public mutating func element<Value: Encodable>(_ value: Value) -> Data {
            var writer = JSONWriter()
            if count == 0 { opening(&writer) } else { writer.raw(",") }
            writer.newline(indent: 2)
            writer.value(tree(value), indent: 2)
            count += 1
            return Data(writer.bytes)
        }

        /// The end of the list and of the object, with a final newline.
        public mutating func end() -> Data {
            var writer = JSONWriter()
            if count == 0 {
                opening(&writer)
                writer.raw("]")
            } else {
                writer.newline(indent: 1)
                writer.raw("]")
            }
            writer.newline(indent: 0)
            writer.raw("}\n")
            return Data(writer.bytes)
        }

        private func opening(_ writer: inout JSONWriter) {
            writer.raw("{")
            writer.newline(indent: 1)
            writer.string(key)
            writer.raw(": [")
        }
    }
}
