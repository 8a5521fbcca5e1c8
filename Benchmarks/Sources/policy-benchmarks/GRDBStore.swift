import ContainerPolicyStore
import Foundation
import GRDB

/// GRDB.swift 7.10.0 used as its documentation recommends: Codable records, associations and
/// the query interface, `DatabaseQueue` in WAL mode, a write transaction per operation and
/// `Codable` with `JSONEncoder`/`JSONDecoder` for the interchange document. To leave the same
/// history as the library (one change per operation, at one revision), it follows the
/// schema's protocol for such writers in SQL, with cached statements: a `write_context` row
/// for the transaction, and the change recorded from the `policy_states` view.
final class GRDBStore: StoreUnderTest {
    private let dbQueue: DatabaseQueue

    init(path: String, synchronous: Synchronous) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        dbQueue = try DatabaseQueue(path: path, configuration: configuration)
        // GRDB's WAL setup picks `synchronous = NORMAL`; set the level under test after it.
        try dbQueue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            guard level == synchronous.pragmaValue else { throw BenchmarkFailure("GRDB: synchronous is \(level ?? -1)") }
        }
    }

    func createPolicy(_ policy: PolicySpec) throws -> Policy {
        try write { db in try Self.fetchPolicy(id: try Self.insert(policy, db), db) }
    }

    func createPolicies(_ policies: [PolicySpec]) throws -> [Policy] {
        try write { db in try policies.map { try Self.fetchPolicy(id: try Self.insert($0, db), db) } }
    }

    func duplicatePolicy(named name: String, as copyName: String) throws -> Policy {
        try write { db in
            guard let source = try PolicyRecord.filter(PolicyRecord.Columns.name == name).fetchOne(db) else {
                throw BenchmarkFailure("no policy \(name)")
            }
            var copy = NewPolicyRecord(name: copyName, description: source.description, xdrEnabled: source.xdrEnabled)
            try copy.insert(db)
            for link in try source.request(for: PolicyRecord.links).fetchAll(db) {
                try PolicyRulesetRecord(policyID: copy.id!, rulesetID: link.rulesetID).insert(db)
            }
            try Self.recordPolicyChange(id: copy.id!, action: "create", before: nil, db)
            return try Self.fetchPolicy(id: copy.id!, db)
        }
    }

    func modifyPolicy(named name: String, expectedRevision: Int, adding: String, removing: String) throws -> Policy {
        try write { db in
            guard var policy = try PolicyRecord.filter(PolicyRecord.Columns.name == name).fetchOne(db) else {
                throw BenchmarkFailure("no policy \(name)")
            }
            guard policy.revision == expectedRevision else {
                throw BenchmarkFailure("\(name) is at revision \(policy.revision), not \(expectedRevision)")
            }
            let before = try String.fetchOne(
                db.cachedStatement(sql: "SELECT state FROM policy_states WHERE id = ?"), arguments: [policy.id])
            try policy.updateChanges(db) { $0.xdrEnabled.toggle() }
            let removedID = try Self.rulesetID(named: removing, db)
            try PolicyRulesetRecord.deleteOne(db, key: ["policy_id": policy.id, "ruleset_id": removedID])
            let addedID = try Self.rulesetID(named: adding, db)
            try PolicyRulesetRecord(policyID: policy.id, rulesetID: addedID).insert(db, onConflict: .ignore)
            try db.cachedStatement(sql: """
                UPDATE policies SET revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                    rulesets_updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE id = ?
                """).execute(arguments: [policy.id])
            try Self.recordPolicyChange(id: policy.id, action: "modify", before: before, db)
            return try Self.fetchPolicy(id: policy.id, db)
        }
    }

    func policy(named name: String) throws -> Policy? {
        try dbQueue.read { db in
            try PolicyInfo.all().filter(PolicyRecord.Columns.name == name).fetchOne(db).map(\.policy)
        }
    }

    func forEachPolicy(pageSize: Int, _ body: (Policy) -> Void) throws {
        var after = ""
        while true {
            let page = try dbQueue.read { db in
                try PolicyInfo.all()
                    .filter(PolicyRecord.Columns.name > after)
                    .order(PolicyRecord.Columns.name)
                    .limit(pageSize)
                    .fetchAll(db)
            }
            guard let last = page.last else { return }
            page.forEach { body($0.policy) }
            after = last.record.name
        }
    }

    func exportDocument() throws -> Data {
        let (rulesets, policies) = try dbQueue.read { db in
            let rulesets = try RulesetRecord
                .including(all: RulesetRecord.rules.order(RuleRecord.Columns.ruleID))
                .order(RulesetRecord.Columns.name)
                .asRequest(of: RulesetInfo.self)
                .fetchAll(db)
            return (rulesets, try PolicyInfo.all().order(PolicyRecord.Columns.name).fetchAll(db))
        }
        let document = InterchangeDocument(
            rulesets: rulesets.map { info in
                InterchangeDocument.Ruleset(
                    name: info.ruleset.name, description: info.ruleset.description,
                    rules: info.rules.map { .init(id: $0.ruleID, mitigation: $0.mitigation) })
            },
            policies: policies.map { info in
                InterchangeDocument.Policy(
                    name: info.record.name, description: info.record.description, xdrEnabled: info.record.xdrEnabled,
                    runtime: .init(rulesets: info.rulesets.map { .init(name: $0.name) }))
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }

    func importDocument(_ json: Data) throws {
        let document = try JSONDecoder().decode(InterchangeDocument.self, from: json)
        try write { db in
            for ruleset in document.rulesets where try !RulesetRecord.filter(RulesetRecord.Columns.name == ruleset.name).isEmpty(db) {
                throw BenchmarkFailure("the benchmark imports into an empty store; \(ruleset.name) exists")
            }
            for policy in document.policies where try !PolicyRecord.filter(PolicyRecord.Columns.name == policy.name).isEmpty(db) {
                throw BenchmarkFailure("the benchmark imports into an empty store; \(policy.name) exists")
            }
            for ruleset in document.rulesets {
                var record = RulesetRecord(name: ruleset.name, description: ruleset.description)
                try record.insert(db)
                for rule in ruleset.rules {
                    try RuleRecord(rulesetID: record.id!, ruleID: rule.id, mitigation: rule.mitigation).insert(db)
                }
                try db.cachedStatement(sql: """
                    INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
                    SELECT 'ruleset', r.name, 'create', r.revision, NULL, s.state, ''
                    FROM rulesets AS r JOIN ruleset_states AS s ON s.id = r.id WHERE r.id = ?
                    """).execute(arguments: [record.id])
            }
            for policy in document.policies {
                try Self.insert(
                    PolicySpec(
                        name: policy.name, description: policy.description, xdrEnabled: policy.xdrEnabled,
                        rulesets: policy.runtime.rulesets.map(\.name)),
                    db)
            }
        }
    }

    // MARK: Steps shared by the operations

    /// A write transaction that tells the schema's triggers the changes are recorded here.
    private func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try dbQueue.write { db in
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO write_context (id, actor, recorded_by_library) VALUES (1, '', 1)")
                .execute()
            let result = try updates(db)
            try db.cachedStatement(sql: "DELETE FROM write_context").execute()
            return result
        }
    }

    /// One change in the history, the policy's state after it taken from `policy_states`.
    private static func recordPolicyChange(id: Int64, action: String, before: String?, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO changes (object_kind, object_name, action, revision, before, after, actor)
            SELECT 'policy', p.name, ?, p.revision, ?, s.state, ''
            FROM policies AS p JOIN policy_states AS s ON s.id = p.id WHERE p.id = ?
            """).execute(arguments: [action, before, id])
    }

    /// Inserts a policy and its links; returns its id.
    @discardableResult
    private static func insert(_ policy: PolicySpec, _ db: Database) throws -> Int64 {
        var rulesetIDs: [Int64] = []
        for name in policy.rulesets {
            let id = try rulesetID(named: name, db)
            if !rulesetIDs.contains(id) { rulesetIDs.append(id) }
        }
        var record = NewPolicyRecord(name: policy.name, description: policy.description, xdrEnabled: policy.xdrEnabled)
        try record.insert(db)
        for rulesetID in rulesetIDs {
            try PolicyRulesetRecord(policyID: record.id!, rulesetID: rulesetID).insert(db)
        }
        try recordPolicyChange(id: record.id!, action: "create", before: nil, db)
        return record.id!
    }

    private static func rulesetID(named name: String, _ db: Database) throws -> Int64 {
        guard let id = try RulesetRecord.filter(RulesetRecord.Columns.name == name)
            .select(RulesetRecord.Columns.id, as: Int64.self)
            .fetchOne(db)
        else { throw BenchmarkFailure("no ruleset \(name)") }
        return id
    }

    private static func fetchPolicy(id: Int64, _ db: Database) throws -> Policy {
        guard let info = try PolicyInfo.all().filter(PolicyRecord.Columns.id == id).fetchOne(db) else {
            throw BenchmarkFailure("policy \(id) was not written")
        }
        return info.policy
    }
}

// MARK: Records

/// A row of `policies`.
private struct PolicyRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "policies"
    static let links = hasMany(PolicyRulesetRecord.self)
    static let rulesets = hasMany(RulesetRecord.self, through: links, using: PolicyRulesetRecord.ruleset)

    var id: Int64
    var name: String
    var description: String
    var xdrEnabled: Bool
    var revision: Int
    var createdAt: Date
    var updatedAt: Date
    var rulesetsUpdatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, description, revision
        case xdrEnabled = "xdr_enabled"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case rulesetsUpdatedAt = "rulesets_updated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
    }
}

/// The columns a new policy sets; the schema's defaults and triggers set the others.
private struct NewPolicyRecord: Encodable, MutablePersistableRecord {
    static let databaseTableName = "policies"

    var id: Int64?
    var name: String
    var description: String
    var xdrEnabled: Bool

    enum CodingKeys: String, CodingKey {
        case id, name, description
        case xdrEnabled = "xdr_enabled"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of `policy_rulesets`: a policy links a ruleset.
private struct PolicyRulesetRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "policy_rulesets"
    static let ruleset = belongsTo(RulesetRecord.self)

    var policyID: Int64
    var rulesetID: Int64

    enum CodingKeys: String, CodingKey {
        case policyID = "policy_id"
        case rulesetID = "ruleset_id"
    }
}

/// A row of `rulesets`, the columns the benchmark reads and writes.
private struct RulesetRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "rulesets"
    static let rules = hasMany(RuleRecord.self, key: "rules")

    var id: Int64?
    var name: String
    var description: String

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of `ruleset_rules`.
private struct RuleRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "ruleset_rules"

    var rulesetID: Int64
    var ruleID: String
    var mitigation: String

    enum CodingKeys: String, CodingKey {
        case rulesetID = "ruleset_id"
        case ruleID = "rule_id"
        case mitigation
    }

    enum Columns {
        static let ruleID = Column(CodingKeys.ruleID)
    }
}

/// A policy with the names of its rulesets, fetched with one request.
private struct PolicyInfo: Decodable, FetchableRecord {
    var record: PolicyRecord
    var rulesets: [RulesetName]

    struct RulesetName: Decodable, FetchableRecord {
        var name: String
    }

    enum CodingKeys: CodingKey {
        case record, rulesets
    }

    /// Built once: requests are values, refined per call with `filter`, `order` and `limit`.
    private static let request = PolicyRecord
        .including(all: PolicyRecord.rulesets
            .select(RulesetRecord.Columns.name)
            .order(RulesetRecord.Columns.name)
            .forKey(CodingKeys.rulesets))
        .asRequest(of: PolicyInfo.self)

    static func all() -> QueryInterfaceRequest<PolicyInfo> { request }

    var policy: Policy {
        Policy(
            id: Int(record.id), name: record.name, description: record.description, xdrEnabled: record.xdrEnabled,
            rulesets: rulesets.map(\.name), revision: record.revision,
            createdAt: record.createdAt, updatedAt: record.updatedAt, rulesetsUpdatedAt: record.rulesetsUpdatedAt)
    }
}

/// A ruleset with its rules, for the export.
private struct RulesetInfo: Decodable, FetchableRecord {
    var ruleset: RulesetRecord
    var rules: [RuleRecord]
}
