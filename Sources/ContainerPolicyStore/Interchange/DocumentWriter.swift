import Foundation

extension PolicyDocument {
    /// The document as pretty-printed JSON with a fixed layout: entries in the order held,
    /// keys in the product's order, two-space indents, a final newline. The same document
    /// always gives the same bytes.
    public func jsonData() -> Data {
        var json = DocumentJSONWriter()
        for ruleset in rulesets { json.ruleset(ruleset) }
        json.beginPolicies()
        for policy in policies { json.policy(policy) }
        json.end()
        return Data(json.takeBytes())
    }
}

/// Writes a document entry by entry, so an export can stream: the bytes written so far can
/// be taken at any moment (`takeBytes`) and the layout is the same as `jsonData()`'s.
struct DocumentJSONWriter {
    private var writer = JSONWriter()
    /// Entries written to the list that is open (rulesets, then policies).
    private(set) var entriesInList = 0
    /// Bytes written since they were last taken.
    var pendingByteCount: Int { writer.bytes.count }

    init() {
        writer.raw("{")
        writer.newline(indent: 1)
        writer.raw("\"rulesets\": ")
    }

    mutating func ruleset(_ ruleset: PolicyDocument.RulesetEntry) {
        beginEntry()
        writer.field("name", first: true, indent: 3) { $0.string(ruleset.name) }
        writer.field("description", indent: 3) { $0.string(ruleset.description) }
        writer.field("rules", indent: 3) { writer in
            writer.list(ruleset.rules, indent: 3) { writer, rule in
                writer.field("id", first: true, indent: 5) { $0.string(rule.id) }
                writer.field("mitigation", indent: 5) { $0.string(rule.mitigation.rawValue) }
            }
        }
        endEntry()
    }

    /// Closes the rulesets and opens the policies.
    mutating func beginPolicies() {
        endList()
        writer.raw(",")
        writer.newline(indent: 1)
        writer.raw("\"policies\": ")
    }

    mutating func policy(_ policy: PolicyDocument.PolicyEntry) {
        beginEntry()
        writer.field("name", first: true, indent: 3) { $0.string(policy.name) }
        writer.field("description", indent: 3) { $0.string(policy.description) }
        writer.field("xdrEnabled", indent: 3) { $0.raw(policy.xdrEnabled ? "true" : "false") }
        writer.field("runtime", indent: 3) { writer in
            writer.raw("{")
            writer.newline(indent: 4)
            writer.raw("\"rulesets\": ")
            writer.list(policy.rulesets, indent: 4) { writer, name in
                writer.field("name", first: true, indent: 6) { $0.string(name) }
            }
            writer.newline(indent: 3)
            writer.raw("}")
        }
        endEntry()
    }

    /// Closes the policies and the document.
    mutating func end() {
        endList()
        writer.newline(indent: 0)
        writer.raw("}\n")
    }

    /// The bytes written since the last call.
    mutating func takeBytes() -> [UInt8] {
        defer { writer = JSONWriter() }
        return writer.bytes
    }

    private mutating func beginEntry() {
        writer.raw(entriesInList == 0 ? "[" : ",")
        writer.newline(indent: 2)
        writer.raw("{")
    }

    private mutating func endEntry() {
        writer.newline(indent: 2)
        writer.raw("}")
        entriesInList += 1
    }

    private mutating func endList() {
        if entriesInList == 0 {
            writer.raw("[]")
        } else {
            writer.newline(indent: 1)
            writer.raw("]")
        }
        entriesInList = 0
    }
}

extension JSONWriter {
    /// An array of objects, one per element, each opened and closed around `members`.
    fileprivate mutating func list<Element>(
        _ elements: [Element], indent: Int, _ members: (inout JSONWriter, Element) -> Void
    ) {
        guard !elements.isEmpty else { return raw("[]") }
        raw("[")
        for (index, element) in elements.enumerated() {
            newline(indent: indent + 1)
            raw("{")
            members(&self, element)
            newline(indent: indent + 1)
            raw(index == elements.count - 1 ? "}" : "},")
        }
        newline(indent: indent)
        raw("]")
    }

    fileprivate mutating func field(_ key: String, first: Bool = false, indent: Int, _ value: (inout JSONWriter) -> Void) {
        if !first { raw(",") }
        newline(indent: indent)
        string(key)
        raw(": ")
        value(&self)
    }
}
