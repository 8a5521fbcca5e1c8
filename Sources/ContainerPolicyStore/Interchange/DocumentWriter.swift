import Foundation

extension PolicyDocument {
    /// The document as ``ProductJSON`` writes it: entries in the order held, a final
    /// newline. The same document always gives the same bytes.
    public func jsonData() -> Data {
        ProductJSON.data(self)
    }
}

/// Writes a document entry by entry, so an export can stream: the bytes written so far can
/// be taken at any moment (`takeBytes`), and the whole is what ``ProductJSON`` writes for the
/// same document.
struct DocumentJSONWriter {
    private var writer = JSONWriter()
    /// Entries written to the list that is open (rulesets, then policies).
    private(set) var entriesInList = 0
    /// Bytes written since they were last taken.
    var pendingByteCount: Int { writer.bytes.count }

    init() {
        writer.raw("{")
        openList("rulesets")
    }

    /// Closes the rulesets and opens the policies.
    mutating func beginPolicies() {
        endList()
        writer.raw(",")
        openList("policies")
    }

    /// Writes an entry to the list that is open.
    mutating func entry<Content>(_ entry: DocumentEntry<Content>) {
        writer.raw(entriesInList == 0 ? "[" : ",")
        writer.newline(indent: 2)
        writer.value(ProductJSON.tree(entry), indent: 2)
        entriesInList += 1
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

    private mutating func openList(_ member: String) {
        writer.newline(indent: 1)
        writer.raw("\"\(member)\": ")
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
