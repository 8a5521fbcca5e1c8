import Foundation

/// The product's list of managed rules, as a store imports it whole
/// (``StoreTransaction/importManagedRules(_:)``): read from the JSON the API answers to
/// `GET /v3.0/containerSecurity/managedRules`, every page of it.
///
/// ```swift
/// let pages = try Data(contentsOf: URL(fileURLWithPath: "managed-rules.json"))
/// let catalogue = try ManagedRuleCatalogue(json: pages)
/// print(catalogue.rules.count)
/// ```
public struct ManagedRuleCatalogue: Sendable, Hashable {
    /// The largest file read: the product's list is a few hundred rules, far below it.
    public static let maximumSize = 16 * 1_024 * 1_024

    /// The rules, sorted by ID (an ID given twice keeps its order).
    public var rules: [ManagedRule]

    /// A catalogue of these rules; the store checks them when it imports them.
    public init(rules: [ManagedRule]) {
        self.rules = rules.enumerated().sorted { ($0.element.id, $0.offset) < ($1.element.id, $1.offset) }.map(\.element)
    }

    /// Reads the API's answer as it comes: one page, `{"items": [...], "totalCount": N,
    /// "count": n, "nextLink": "..."}`, or several pages one after another in one file
    /// (`curl` of each `nextLink` appended). An item's `id`, `name` and `description` are the
    /// rule's; every other field is kept as it came, in ``ManagedRule/otherFields``, and the
    /// ATT&CK technique IDs named in those whose name speaks of MITRE, ATT&CK, a technique or
    /// a tactic are its ``ManagedRule/techniques``.
    ///
    /// The whole file is checked before giving up, so every problem is reported at once, each
    /// with its path (`pages[1].items[3].name`), as ``PolicyStoreError/invalidCatalogue(_:)``:
    /// so are a last page that still has a `nextLink`, pages that hold fewer or more items
    /// than their `totalCount` says (a page is missing or repeated), and an ID listed twice.
    public init(json data: Data) throws(PolicyStoreError) {
        guard data.count <= Self.maximumSize else {
            throw .invalidCatalogue([DocumentProblem(
                path: "$", message: "the file is \(data.count) bytes; the limit is \(Self.maximumSize)")])
        }
        let pages: [JSONValue]
        do {
            pages = try JSONParser.parseSequence(Array(data))
        } catch {
            throw .invalidCatalogue([DocumentProblem(
                path: "$", message: "not valid JSON at line \(error.line), column \(error.column): \(error.message)")])
        }
        var reader = ManagedRulePageReader()
        let rules = reader.read(pages)
        guard reader.problems.isEmpty else { throw .invalidCatalogue(PolicyDocument.capped(reader.problems, unlisted: reader.unlisted)) }
        self.init(rules: rules)
    }
}

/// Reads the pages of the API's listing, collecting every problem rather than stopping at the
/// first. Unknown fields of a page are the API's to add and are passed over; those of an item
/// are kept.
struct ManagedRulePageReader {
    private(set) var problems: [DocumentProblem] = []
    /// Problems found past the listed ones.
    private(set) var unlisted = 0
    /// Where each valid ID was first seen.
    private var places: [String: String] = [:]

    private mutating func problem(_ path: String, _ message: String) {
        guard problems.count < DocumentReader.maximumProblems else {
            unlisted += 1
            return
        }
        problems.append(DocumentProblem(path: path, message: message))
    }

    mutating func read(_ pages: [JSONValue]) -> [ManagedRule] {
        guard !pages.isEmpty else {
            problem("$", "the file holds no JSON: give the API's answer to GET /v3.0/containerSecurity/managedRules, every page of it")
            return []
        }
        var rules: [ManagedRule] = []
        var totalCount: (count: Int, path: String)?
        for (index, page) in pages.enumerated() {
            let path = "pages[\(index)]"
            guard let members = object(page, at: path) else { continue }
            guard let items = members.first(where: { $0.key == "items" })?.value else {
                problem(path, "has no items: it is not a page of the managedRules API (give its answer as it came)")
                continue
            }
            guard case .array(let elements) = items else {
                problem(path + ".items", "expected an array, found \(items.kindName)")
                continue
            }
            rules += elements.enumerated().compactMap { rule($1, at: "\(path).items[\($0)]") }
            for (key, value) in members {
                switch (key, value) {
                case ("count", .number(let count)) where Int(exactly: count) != elements.count:
                    problem(path + ".count", "says \(Int(exactly: count).map(String.init) ?? String(count)) items, but the page holds \(elements.count): fetch the page again")
                case ("totalCount", .number(let count)) where totalCount == nil:
                    totalCount = (Int(exactly: count) ?? -1, path + ".totalCount")
                case ("nextLink", .string) where index == pages.count - 1:
                    problem(path + ".nextLink", """
                        the last page links to a next one, so the list is incomplete: fetch every nextLink until a \
                        page has none, and give all the pages in one file
                        """)
                default:
                    break
                }
            }
        }
        if let totalCount, totalCount.count != rules.count, problems.isEmpty {
            problem(totalCount.path, """
                says \(totalCount.count) managed rules, but the pages hold \(rules.count): a page is missing or given \
                twice; fetch the list again
                """)
        }
        return rules
    }

    /// Fields of an item whose name says they hold the MITRE ATT&CK mapping.
    private static func isMappingField(_ key: String) -> Bool {
        let name = asciiLowercased(key)
        return ["mitre", "attack", "technique", "tactic"].contains { name.contains($0) }
    }

    private mutating func rule(_ value: JSONValue, at path: String) -> ManagedRule? {
        guard let members = object(value, at: path) else { return nil }
        var id: String?
        var name: String?
        var description = ""
        var others: [(key: String, value: JSONValue)] = []
        var techniques = Set<String>()
        for (key, value) in members {
            let fieldPath = memberPath(path, key)
            switch (key, value) {
            case ("id", .string(let text)): id = text
            case ("name", .string(let text)): name = text
            case ("description", .string(let text)): description = text
            case ("description", .null): break
            case ("id", _), ("name", _), ("description", _):
                problem(fieldPath, "expected a string, found \(value.kindName)")
            default:
                others.append((key, value))
                if Self.isMappingField(key) { techniques.formUnion(ManagedRuleRules.techniques(in: value)) }
            }
        }
        guard let id else {
            problem(path + ".id", "missing: every managed rule has an id")
            return nil
        }
        if name == nil { problem(path + ".name", "missing: every managed rule has a name") }
        let rule = ManagedRule(
            id: id, name: name ?? "", description: description, techniques: techniques.sorted(),
            otherFields: JSONValue.object(others).compactText)
        for (field, _, message) in ManagedRuleRules.problems(of: rule) where !(field == .name && name == nil) {
            problem(field == .otherFields ? path : memberPath(path, field.rawValue), message)
        }
        if RuleReference.isValidID(id) {
            if let first = places[id] {
                problem(path + ".id", "\(quoted(id)) is listed already at \(first).id: a page is given twice, or the list changed while it was fetched")
            } else {
                places[id] = path
            }
        }
        return rule
    }

    private mutating func object(_ value: JSONValue, at path: String) -> [(key: String, value: JSONValue)]? {
        guard case .object(let members) = value else {
            problem(path, "expected an object, found \(value.kindName)")
            return nil
        }
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted {
            problem(memberPath(path, member.key), "the field appears twice; keep one")
        }
        return members
    }
}
