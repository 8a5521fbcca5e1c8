import Foundation

/// What the store remembers of one policy's or ruleset's last sync with a remote tenant
/// (Trend Vision One, through ContainerPolicySync): the remote object's id, the remote
/// `updatedDateTime` seen right after the sync, and the content both sides had then. A later
/// plan compares the store's content with ``content`` ("changed here") and the remote one with
/// ``remoteUpdatedDateTime`` and ``content`` ("changed there").
///
/// ```swift
/// let record = SyncRecord(
///     endpoint: "https://api.xdr.trendmicro.com", name: "baseline", remoteID: "rs-1",
///     remoteUpdatedDateTime: "2026-11-29T05:07:21Z", content: .ruleset(RulesetContent()))
/// try store.perform(.recordSync(record))
/// ```
public struct SyncRecord: Sendable, Hashable {
    /// The tenant's API base URL, as the sync client writes it (`https://api.xdr.trendmicro.com`):
    /// ids of one tenant mean nothing in another, so each endpoint has records of its own.
    public let endpoint: String
    /// The name as the store spells it; records are keyed by it, ignoring letter case.
    public let name: String
    /// The id the remote side gave the object.
    public let remoteID: String
    /// The remote `updatedDateTime` as the server wrote it, compared as text; nil when the
    /// server sent none.
    public let remoteUpdatedDateTime: String?
    /// The content both sides had right after the sync; a policy's or a ruleset's, which is
    /// also the record's kind.
    public let content: RecordedContent
    /// When the record was written; nil for one not read from a store.
    public let syncedAt: Date?
    /// Stored values of the record that break its rules (its content cannot be read); empty
    /// for a sound one. A record with damage tells nothing about the last sync.
    public let damage: [StoredDamage]

    /// A record to store; the store sets ``syncedAt``.
    public init(
        endpoint: String, name: String, remoteID: String, remoteUpdatedDateTime: String?, content: RecordedContent,
        syncedAt: Date? = nil, damage: [StoredDamage] = []
    ) {
        self.endpoint = endpoint
        self.name = name
        self.remoteID = remoteID
        self.remoteUpdatedDateTime = remoteUpdatedDateTime
        self.content = content
        self.syncedAt = syncedAt
        self.damage = damage
    }

    /// ``ObjectKind/policy`` or ``ObjectKind/ruleset``, as the content is.
    public var kind: ObjectKind {
        switch content {
        case .policy: return .policy
        case .ruleset: return .ruleset
        }
    }

    /// The field of a record that cannot be stored.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        case endpoint
        case remoteID
        case remoteUpdatedDateTime
    }

    /// The longest endpoint, remote id and timestamp stored, in bytes.
    public static let maximumLengths: [Field: Int] = [.endpoint: 2_048, .remoteID: 256, .remoteUpdatedDateTime: 64]

    /// The first problem of the record's identifiers, as the schema's checks see them: an
    /// endpoint is an `http://` or `https://` URL, and it, the remote id and the timestamp
    /// are printable ASCII without spaces, of bounded length. Nil when all can be stored.
    public func problem() -> (field: Field, value: String, problem: String)? {
        if !(endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://")) || endpoint.utf8.count < 8 {
            return (.endpoint, endpoint, "is not an http:// or https:// URL")
        }
        let values: [(Field, String?)] = [(.endpoint, endpoint), (.remoteID, remoteID), (.remoteUpdatedDateTime, remoteUpdatedDateTime)]
        for case (let field, let value?) in values {
            let limit = Self.maximumLengths[field]!
            if value.isEmpty { return (field, value, "is empty") }
            if value.utf8.count > limit { return (field, value, "is \(value.utf8.count) bytes long: the limit is \(limit)") }
            if !value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
                return (field, value, "holds a space, a control character or a character that is not ASCII")
            }
        }
        return nil
    }
}
