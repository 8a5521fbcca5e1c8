import ContainerPolicyStore
import Foundation

/// One way of doing the store's operations: the library, the SQLite C API (lean, or the
/// library's SQL), or GRDB.
/// Every implementation returns the library's own value types, so results can be compared.
protocol StoreUnderTest: AnyObject {
    /// Creates one policy in its own transaction and returns it as stored.
    func createPolicy(_ policy: PolicySpec) throws -> Policy
    /// Creates all the policies in one transaction.
    func createPolicies(_ policies: [PolicySpec]) throws -> [Policy]
    func duplicatePolicy(named name: String, as copyName: String) throws -> Policy
    /// Toggles XDR, links `adding` and unlinks `removing`, refused unless the policy is at
    /// `expectedRevision`.
    func modifyPolicy(named name: String, expectedRevision: Int, adding: String, removing: String) throws -> Policy
    func policy(named name: String) throws -> Policy?
    /// Lists every policy with its ruleset names, sorted by name, page by page.
    func forEachPolicy(pageSize: Int, _ body: (Policy) -> Void) throws
    /// The whole store as a JSON document.
    func exportDocument() throws -> Data
    /// The whole store as a JSON document written to a file, streamed where the
    /// implementation can.
    func exportDocument(to file: URL) throws
    /// Imports a JSON document into an empty store, in one transaction.
    func importDocument(_ json: Data) throws
}

extension StoreUnderTest {
    /// Without a streaming export: the document made in memory, then written.
    func exportDocument(to file: URL) throws {
        try exportDocument().write(to: file)
    }
}

/// A policy to create.
struct PolicySpec: Sendable {
    let name: String
    let description: String
    var xdrEnabled = true
    let rulesets: [String]
}

/// The implementations measured side by side.
enum Implementation: String, CaseIterable, Sendable {
    /// ContainerPolicyStore, through its public API.
    case ours
    /// The same product work through the SQLite C API, as a competent user would write it:
    /// a lean schema of its own, no history. The floor.
    case lean
    /// GRDB.swift 7.10.0 in its documented fast style, recording the history as the library does.
    case grdb
    /// The library's own SQL, statement for statement, through the SQLite C API: what the
    /// library's Swift code costs on top of its SQL.
    case raw

    var title: String {
        switch self {
        case .ours: return "ContainerPolicyStore"
        case .lean: return "lean raw C API"
        case .grdb: return "GRDB"
        case .raw: return "raw, library's SQL"
        }
    }

    /// Whether it writes the library's schema, history included (the lean store has its own
    /// schema and no history).
    var usesLibrarySchema: Bool { self != .lean }

    func open(path: String, synchronous: Synchronous) throws -> any StoreUnderTest {
        switch self {
        case .ours: return try OurStore(path: path, synchronous: synchronous)
        case .lean: return try LeanRawStore(path: path, synchronous: synchronous)
        case .grdb: return try GRDBStore(path: path, synchronous: synchronous)
        case .raw: return try RawStore(path: path, synchronous: synchronous)
        }
    }
}

/// `PRAGMA synchronous`, the same for every implementation (all use WAL).
enum Synchronous: String, CaseIterable, Sendable {
    case normal = "NORMAL"
    case full = "FULL"

    init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }

    /// The value `PRAGMA synchronous` reads back.
    var pragmaValue: Int {
        switch self {
        case .normal: return 1
        case .full: return 2
        }
    }
}

/// A summary of what an operation returned, equal across implementations that did the same
/// work. It also keeps the results alive, so no implementation can skip decoding them.
struct Tally: Equatable, Sendable, CustomStringConvertible {
    var policies = 0
    var revisions = 0
    var links = 0
    var xdrEnabled = 0

    mutating func add(_ policy: Policy) {
        policies += 1
        revisions += policy.revision
        links += policy.rulesets.count
        if policy.xdrEnabled { xdrEnabled += 1 }
    }

    var description: String {
        "\(policies) policies, revisions \(revisions), links \(links), XDR on \(xdrEnabled)"
    }
}

/// An implementation refused to go on: a benchmark bug, not a measurement.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Policy {
    /// A policy from its columns, as the baselines read them.
    init(
        id: Int, name: String, description: String, xdrEnabled: Bool, rulesets: [String],
        revision: Int, createdAt: Date, updatedAt: Date, rulesetsUpdatedAt: Date
    ) {
        self.init(
            id: id, name: name, content: PolicyContent(description: description, xdrEnabled: xdrEnabled, rulesets: rulesets),
            revision: revision, createdAt: createdAt, updatedAt: updatedAt, rulesetsUpdatedAt: rulesetsUpdatedAt)
    }
}
