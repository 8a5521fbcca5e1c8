/// What the store remembers of the last sync with one Vision One tenant: for each policy and
/// ruleset, by name, the remote id and the remote `updatedDateTime` as they were right after
/// the last push or pull. The planner compares the remote timestamps with these to tell a
/// remote edit made since (drift) from a local one; the id tells a remote object deleted and
/// made again under the same name from the one synced.
///
/// The caller persists it (the store, one row per record), after every step of a push, so
/// that a push cut short is resumed by planning again.
///
/// ```swift
/// var state = SyncState()
/// state.record(.ruleset, name: "baseline", remoteID: "rs-1", updatedDateTime: "2026-11-29T05:07:21Z")
/// state[.ruleset, "Baseline"]?.remoteID   // "rs-1": names match ignoring letter case
/// ```
public struct SyncState: Sendable, Hashable, Codable {
    /// One synced object.
    public struct Record: Sendable, Hashable, Codable {
        /// ``RemoteObjectKind/policy`` or ``RemoteObjectKind/ruleset``.
        public var kind: RemoteObjectKind
        /// The name, as the store has it.
        public var name: String
        public var remoteID: String
        /// The remote `updatedDateTime` (else `createdDateTime`) seen right after the sync,
        /// verbatim: it is compared as text, never parsed, so no precision is lost.
        public var updatedDateTime: String?

        public init(kind: RemoteObjectKind, name: String, remoteID: String, updatedDateTime: String?) {
            self.kind = kind
            self.name = name
            self.remoteID = remoteID
            self.updatedDateTime = updatedDateTime
        }
    }

    /// Keyed by kind and the name in ASCII lowercase, as the store's names are unique.
    private var byKey: [String: Record] = [:]

    /// An empty state: nothing synced yet.
    public init() {}

    /// A state holding these records.
    public init(records: [Record]) {
        for record in records { byKey[Self.key(record.kind, record.name)] = record }
    }

    /// Every record, sorted by kind and name: a stable order to persist and to compare.
    public var records: [Record] {
        byKey.values.sorted { ($0.kind.rawValue, asciiLowercased($0.name)) < ($1.kind.rawValue, asciiLowercased($1.name)) }
    }

    public var isEmpty: Bool { byKey.isEmpty }

    /// The record of the object of this kind and name (ignoring ASCII letter case).
    public subscript(kind: RemoteObjectKind, name: String) -> Record? {
        byKey[Self.key(kind, name)]
    }

    /// Remembers that the object is synced with this remote id and timestamp.
    public mutating func record(_ kind: RemoteObjectKind, name: String, remoteID: String, updatedDateTime: String?) {
        byKey[Self.key(kind, name)] = Record(kind: kind, name: name, remoteID: remoteID, updatedDateTime: updatedDateTime)
    }

    /// Forgets the object (it was deleted remotely).
    public mutating func forget(_ kind: RemoteObjectKind, name: String) {
        byKey[Self.key(kind, name)] = nil
    }

    /// Applies a plan's bookkeeping: objects found equal on both sides, and records of objects
    /// gone from both.
    public mutating func apply(_ updates: [SyncPlan.StateUpdate]) {
        for update in updates {
            switch update.action {
            case .record:
                if let remoteID = update.remoteID {
                    record(update.kind, name: update.name, remoteID: remoteID, updatedDateTime: update.updatedDateTime)
                }
            case .forget:
                forget(update.kind, name: update.name)
            }
        }
    }

    private static func key(_ kind: RemoteObjectKind, _ name: String) -> String {
        kind.rawValue + "/" + asciiLowercased(name)
    }

    public init(from decoder: any Decoder) throws {
        self.init(records: try decoder.singleValueContainer().decode([Record].self))
    }

    /// A JSON array of records, sorted.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(records)
    }
}

extension RemotePolicy {
    /// The timestamp a sync remembers: `updatedDateTime`, else `createdDateTime`.
    public var lastModified: String? { updatedDateTime ?? createdDateTime }
}

extension RemoteRuleset {
    /// The timestamp a sync remembers: `updatedDateTime`, else `createdDateTime`.
    public var lastModified: String? { updatedDateTime ?? createdDateTime }
}
