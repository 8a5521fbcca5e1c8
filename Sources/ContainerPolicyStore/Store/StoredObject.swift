import SQLiteCore

/// What the store's operations need of a kind of object, so that one implementation of
/// modify and duplicate serves policies and rulesets alike.
protocol StoredObject: PolicyStoreObject, Sendable where Content: RecordableContent {
    /// What a duplicate's default name appends: `Policy`, `Copy`.
    static var copySuffix: String { get }
    /// Copies a row (name, source id), `RETURNING` what `init(written:)` reads.
    static var copy: NamedSQL { get }
    /// Copies the rows that belong to an object (copy id, source id): links, rules.
    static var copyParts: NamedSQL { get }

    /// The object a `RETURNING` row describes, with the content written.
    init(written row: Row, name: String, content: Content)
    static func existing(named name: String, in tx: borrowing StoreTransaction) throws -> Self
    /// Writes `content` over `current` and records it when anything differs.
    static func update(_ current: Self, to content: Content, in tx: borrowing StoreTransaction) throws -> Self
}

extension StoreTransaction {
    /// Modify, for either kind: refused unless at `expectedRevision` (when given). An error
    /// `edit` throws comes out as a ``CallerError``, and nothing is written.
    func modifyObject<Object: StoredObject>(
        _: Object.Type, named name: String, expectedRevision: Int?, _ edit: (inout Object.Content) throws -> Void
    ) throws -> Object {
        try callerWriteOperation {
            let current = try Object.existing(named: name, in: self)
            if let expectedRevision, expectedRevision != current.revision {
                throw PolicyStoreError.revisionConflict(Object.Content.kind, name: current.name, expected: expectedRevision, actual: current.revision)
            }
            var changed = current.content
            do {
                try edit(&changed)
            } catch {
                throw CallerError(error: error)
            }
            return try Object.update(current, to: changed, in: self)
        }
    }

    /// ``modifyObject(_:named:expectedRevision:_:)`` with an edit that cannot fail.
    func modifyObject<Object: StoredObject>(
        _ kind: Object.Type, named name: String, expectedRevision: Int?, _ edit: (inout Object.Content) -> Void
    ) throws(PolicyStoreError) -> Object {
        try storeErrors { try modifyObject(kind, named: name, expectedRevision: expectedRevision, throwing: edit) }
    }

    /// ``modifyObject(_:named:expectedRevision:_:)`` with the caller's error thrown as it is.
    func modifyObject<Object: StoredObject>(
        _ kind: Object.Type, named name: String, expectedRevision: Int?, throwing edit: (inout Object.Content) throws -> Void
    ) throws -> Object {
        do {
            return try modifyObject(kind, named: name, expectedRevision: expectedRevision, edit)
        } catch let error as CallerError {
            throw error.error
        }
    }

    /// Duplicate, for either kind: the copy has the source's content, under `newName` or the
    /// source's name with the kind's suffix; a name that is taken or too long is refused,
    /// never changed to fit.
    func duplicateObject<Object: StoredObject>(_: Object.Type, named name: String, as newName: String?) throws(PolicyStoreError) -> Object {
        try writeOperation {
            let source = try Object.existing(named: name, in: self)
            guard source.damage.isEmpty else { throw PolicyStoreError.damagedData(Object.Content.kind, name: source.name, source.damage) }
            let copyName = newName ?? source.name + Object.copySuffix
            try NameRules.validate(copyName, kind: Object.Content.kind)
            try checkNameIsFree(copyName, kind: Object.Content.kind)
            let copy = try connection.queryFirst(Object.copy.sql, [SQLValue(copyName), SQLValue(source.id)]) {
                Object(written: $0, name: copyName, content: source.content)
            }!
            try connection.run(Object.copyParts.sql, [SQLValue(copy.id), SQLValue(source.id)])
            try record(Object.Content.kind, name: copyName, action: .create, revision: 1, before: nil, after: source.content.recorded)
            return copy
        }
    }
}

extension Policy: StoredObject {
    static var copySuffix: String { "Policy" }
    static var copy: NamedSQL { PolicySQL.copy }
    static var copyParts: NamedSQL { PolicySQL.copyLinks }

    /// From `RETURNING id, revision, created_at, updated_at, rulesets_updated_at`.
    init(written row: Row, name: String, content: PolicyContent) {
        var damage: [StoredDamage] = []
        self.init(
            id: row.int(0), name: name, content: content, revision: row.int(1),
            createdAt: row.timestamp(2, location: "policies.created_at", damage: &damage),
            updatedAt: row.timestamp(3, location: "policies.updated_at", damage: &damage),
            rulesetsUpdatedAt: row.timestamp(4, location: "policies.rulesets_updated_at", damage: &damage))
    }

    static func existing(named name: String, in tx: borrowing StoreTransaction) throws -> Policy {
        try tx.existingPolicy(name)
    }

    static func update(_ current: Policy, to content: PolicyContent, in tx: borrowing StoreTransaction) throws -> Policy {
        try tx.update(current, to: content)
    }
}

extension Ruleset: StoredObject {
    static var copySuffix: String { "Copy" }
    static var copy: NamedSQL { RulesetSQL.copy }
    static var copyParts: NamedSQL { RulesetSQL.copyRules }

    /// From `RETURNING id, revision, created_at, updated_at`.
    init(written row: Row, name: String, content: RulesetContent) {
        var damage: [StoredDamage] = []
        self.init(
            id: row.int(0), name: name, content: content, revision: row.int(1),
            createdAt: row.timestamp(2, location: "rulesets.created_at", damage: &damage),
            updatedAt: row.timestamp(3, location: "rulesets.updated_at", damage: &damage))
    }

    static func existing(named name: String, in tx: borrowing StoreTransaction) throws -> Ruleset {
        try tx.existingRuleset(name)
    }

    static func update(_ current: Ruleset, to content: RulesetContent, in tx: borrowing StoreTransaction) throws -> Ruleset {
        try tx.update(current, to: content)
    }
}
