/// A stored value that breaks the product's rules, found when the object was read: written
/// by another program with the database's checks switched off (`PRAGMA
/// ignore_check_constraints`), or damaged on disk. The store shows such a value as it is,
/// marked, rather than pass off something else as what is stored; it refuses to export or
/// change an object that holds one (deleting it is allowed), and `checkIntegrity` lists it.
///
/// ```swift
/// if let ruleset = try store.perform(.fetch(Ruleset.self, named: "baseline")), !ruleset.damage.isEmpty {
///     print(ruleset.damage.map(\.description))   // ruleset_rules "TM-1:log": the rule ID is not TM- and 8 digits
/// }
/// ```
public struct StoredDamage: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Where the value is stored: a table, or `table.column`.
    public let location: String
    /// The stored value, as it is.
    public let value: String
    /// Which rule it breaks.
    public let problem: String

    public init(location: String, value: String, problem: String) {
        self.location = location
        self.value = value
        self.problem = problem
    }

    public var description: String { "\(location) \(quoted(value)): \(problem)" }
}
