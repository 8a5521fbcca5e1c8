import SQLiteCore

/// The statements on `sync_state`.
enum SyncStateSQL {
    static let select = "SELECT endpoint, object_kind, object_name, remote_id, remote_updated_at, content, synced_at FROM sync_state"

    static let ofEndpoint = NamedSQL(
        "the sync records of an endpoint", select + " WHERE endpoint = ? ORDER BY object_kind, object_name")
    static let byName = NamedSQL(
        "the sync record of an object", select + " WHERE endpoint = ? AND object_kind = ? AND object_name = ?")
    /// The name is written too: a record keyed `Web` follows the store's spelling `web`.
    static let upsert = NamedSQL(
        "record a sync",
        "INSERT INTO sync_state (endpoint, object_kind, object_name, remote_id, remote_updated_at, content) VALUES (?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (endpoint, object_kind, object_name) DO UPDATE SET object_name = excluded.object_name,"
            + " remote_id = excluded.remote_id, remote_updated_at = excluded.remote_updated_at, content = excluded.content,"
            + " synced_at = " + SQLCatalogue.currentTimestamp + " RETURNING synced_at")
    /// A remote object is synced under one name: another name's record of it is stale.
    static let releaseRemoteID = NamedSQL(
        "forget another name's record of a remote object",
        "DELETE FROM sync_state WHERE endpoint = ? AND object_kind = ? AND remote_id = ? AND object_name <> ?")
    static let forget = NamedSQL(
        "forget a sync record", "DELETE FROM sync_state WHERE endpoint = ? AND object_kind = ? AND object_name = ? RETURNING remote_id")

    static let all = [ofEndpoint, byName, upsert, releaseRemoteID, forget]
}

extension StoreTransaction {
    static func decodeSyncRecord(_ row: Row) -> SyncRecord {
        var damage: [StoredDamage] = []
        let name = row.text(2)
        let kind = ObjectKind(rawValue: row.text(1)) ?? .policy
        let stored = row.text(5)
        let content = RecordedState.content(kind, json: stored)
        if content == nil {
            damage.append(StoredDamage(location: "sync_state.content", value: stored, problem: "is not the JSON object the library writes"))
        }
        let syncedAt = row.timestamp(6, location: "sync_state.synced_at", damage: &damage)
        return SyncRecord(
            endpoint: row.text(0), name: name, remoteID: row.text(3), remoteUpdatedDateTime: row.optionalText(4),
            content: content ?? (kind == .ruleset ? .ruleset(.empty) : .policy(.empty)), syncedAt: syncedAt, damage: damage)
    }

    // MARK: Reading

    /// Every record of the last sync with `endpoint`, policies first, each kind sorted by name.
    ///
    /// ```swift
    /// for record in try tx.syncRecords(endpoint: "https://api.xdr.trendmicro.com") {
    ///     print(record.kind, record.name, record.remoteID)
    /// }
    /// ```
    public func syncRecords(endpoint: String) throws(PolicyStoreError) -> [SyncRecord] {
        try readOperation { try connection.query(SyncStateSQL.ofEndpoint.sql, [SQLValue(endpoint)], Self.decodeSyncRecord) }
    }

    /// The record of the last sync of one object with `endpoint` (its name ignoring letter
    /// case), or nil when it was never synced there.
    public func syncRecord(endpoint: String, kind: ObjectKind, name: String) throws(PolicyStoreError) -> SyncRecord? {
        try readOperation {
            try connection.queryFirst(
                SyncStateSQL.byName.sql, [SQLValue(endpoint), SQLValue(kind.rawValue), SQLValue(name)], Self.decodeSyncRecord)
        }
    }

    // MARK: Writing

    /// Remembers that the object is synced with `record.endpoint` as the record says,
    /// replacing what was remembered of it, and of its remote id under another name. The name
    /// and content follow the product's rules; the endpoint, id and timestamp are printable
    /// ASCII (``SyncRecord/problem()``). Returns the record as stored.
    ///
    /// ```swift
    /// try tx.recordSync(SyncRecord(
    ///     endpoint: endpoint, name: "web.prod", remoteID: "pol-7", remoteUpdatedDateTime: "2026-11-29T05:07:21Z",
    ///     content: .policy(PolicyContent(rulesets: ["baseline"]))))
    /// ```
    @discardableResult
    public func recordSync(_ record: SyncRecord) throws(PolicyStoreError) -> SyncRecord {
        try writeOperation {
            try NameRules.validate(record.name, kind: record.kind)
            switch record.content {
            case .policy(let content): try content.validate(name: record.name)
            case .ruleset(let content): try content.validate(name: record.name)
            }
            if let (field, value, problem) = record.problem() {
                throw PolicyStoreError.invalidSyncRecord(record.kind, name: record.name, field: field, value: value, problem: problem)
            }
            let key = [SQLValue(record.endpoint), SQLValue(record.kind.rawValue)]
            try connection.run(SyncStateSQL.releaseRemoteID.sql, key + [SQLValue(record.remoteID), SQLValue(record.name)])
            var damage: [StoredDamage] = []
            let syncedAt = try connection.queryFirst(
                SyncStateSQL.upsert.sql,
                key + [
                    SQLValue(record.name), SQLValue(record.remoteID), SQLValue(record.remoteUpdatedDateTime),
                    SQLValue(RecordedState.json(name: record.name, content: record.content)),
                ]
            ) { $0.timestamp(0, location: "sync_state.synced_at", damage: &damage) }
            return SyncRecord(
                endpoint: record.endpoint, name: record.name, remoteID: record.remoteID,
                remoteUpdatedDateTime: record.remoteUpdatedDateTime, content: record.content, syncedAt: syncedAt, damage: damage)
        }
    }

    /// Forgets the record of one object's sync with `endpoint`; returns whether there was one.
    @discardableResult
    public func forgetSync(endpoint: String, kind: ObjectKind, name: String) throws(PolicyStoreError) -> Bool {
        try writeOperation {
            try connection.queryFirst(SyncStateSQL.forget.sql, [SQLValue(endpoint), SQLValue(kind.rawValue), SQLValue(name)]) { _ in true } ?? false
        }
    }
}

extension StoreOperation {
    /// ``StoreTransaction/syncRecords(endpoint:)``: every record of the last sync with an endpoint.
    ///
    /// ```swift
    /// let records = try store.perform(.syncRecords(endpoint: "https://api.xdr.trendmicro.com"))
    /// ```
    public static func syncRecords(endpoint: String) -> StoreOperation<[SyncRecord]> {
        StoreOperation<[SyncRecord]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.syncRecords(endpoint: endpoint) }
    }

    /// ``StoreTransaction/syncRecord(endpoint:kind:name:)``.
    public static func syncRecord(endpoint: String, kind: ObjectKind, name: String) -> StoreOperation<SyncRecord?> {
        StoreOperation<SyncRecord?>(.singleStatement) { tx throws(PolicyStoreError) in
            try tx.syncRecord(endpoint: endpoint, kind: kind, name: name)
        }
    }

    /// ``StoreTransaction/recordSync(_:)``, in a transaction of its own.
    public static func recordSync(_ record: SyncRecord) -> StoreOperation<SyncRecord> {
        StoreOperation<SyncRecord>(.write) { tx throws(PolicyStoreError) in try tx.recordSync(record) }
    }

    /// ``StoreTransaction/forgetSync(endpoint:kind:name:)``.
    public static func forgetSync(endpoint: String, kind: ObjectKind, name: String) -> StoreOperation<Bool> {
        StoreOperation<Bool>(.write) { tx throws(PolicyStoreError) in try tx.forgetSync(endpoint: endpoint, kind: kind, name: name) }
    }
}
