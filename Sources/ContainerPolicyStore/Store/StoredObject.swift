import SQLiteCore

/// A kind of object the store keeps, named by its type in the operations that serve both
/// kinds: ``Policy`` and ``Ruleset``. Code written once for both (a listing, a sync, a
/// command line) is generic over it.
///
/// ```swift
/// func names<Object: StoredObject>(_ kind: Object.Type, in store: PolicyStore) throws -> [String] {
///     try store.perform(.list(kind, limit: 100)).map(\.name)
/// }
/// ```
///
/// No other type can conform: only the store can make an ``ObjectStorage``.
public protocol StoredObject: PolicyStoreObject, Sendable {
    /// How the store keeps objects of this kind.
    static var storage: ObjectStorage<Self> { get }
}

/// How the store keeps one kind of object: its table's statements, how a row reads, and the
/// parts of create, modify and delete that differ by kind. Only the store makes these.
///
/// A class, so that generic code reaches it through one reference instead of copying a
/// dozen closures and statements on every access.
public final class ObjectStorage<Object: PolicyStoreObject>: Sendable {
    /// What a duplicate's default name appends to the source's name: `Policy` for a
    /// policy, as the product does, and `Copy` for a ruleset.
    ///
    /// ```swift
    /// let defaultName = "web.prod" + Policy.storage.copySuffix   // "web.prodPolicy"
    /// ```
    public let copySuffix: String
    let byName: NamedSQL
    /// A page after a name: (after, limit).
    let page: NamedSQL
    let count: NamedSQL
    /// Copies a row (name, source id), `RETURNING` what `written` reads.
    let copy: NamedSQL
    /// Copies the rows that belong to an object (copy id, source id): links, rules.
    let copyParts: NamedSQL
    let decode: @Sendable (Row) -> Object
    /// The object a `RETURNING` row describes, with the name and content written.
    let written: @Sendable (Row, String, Object.Content) -> Object
    /// The content as the history records it.
    let recorded: @Sendable (Object.Content) -> RecordedContent
    /// Creates an object and records it.
    let insert: @Sendable (borrowing StoreTransaction, String, Object.Content) throws -> Object
    /// Writes new content over the object and records it when anything differs.
    let update: @Sendable (borrowing StoreTransaction, Object, Object.Content) throws -> Object
    /// Deletes the object and records it, unless something still uses it.
    let delete: @Sendable (borrowing StoreTransaction, Object) throws -> Void

    init(
        copySuffix: String, byName: NamedSQL, page: NamedSQL, count: NamedSQL, copy: NamedSQL, copyParts: NamedSQL,
        decode: @escaping @Sendable (Row) -> Object,
        written: @escaping @Sendable (Row, String, Object.Content) -> Object,
        recorded: @escaping @Sendable (Object.Content) -> RecordedContent,
        insert: @escaping @Sendable (borrowing StoreTransaction, String, Object.Content) throws -> Object,
        update: @escaping @Sendable (borrowing StoreTransaction, Object, Object.Content) throws -> Object,
        delete: @escaping @Sendable (borrowing StoreTransaction, Object) throws -> Void
    ) {
        self.copySuffix = copySuffix
        self.byName = byName
        self.page = page
        self.count = count
        self.copy = copy
        self.copyParts = copyParts
        self.decode = decode
        self.written = written
        self.recorded = recorded
        self.insert = insert
        self.update = update
        self.delete = delete
    }
}

extension Policy: StoredObject {
    /// How the store keeps policies.
    public static let storage = ObjectStorage<Policy>(
        copySuffix: "Policy", byName: PolicySQL.byName, page: PolicySQL.page, count: PolicySQL.count,
        copy: PolicySQL.copy, copyParts: PolicySQL.copyLinks, decode: { StoreTransaction.decodePolicy($0) },
        written: { Policy(written: $0, name: $1, content: $2) }, recorded: { $0.recorded },
        insert: { tx, name, content in try tx.insertPolicy(named: name, content: content) },
        update: { tx, current, content in try tx.update(current, to: content) },
        delete: { tx, policy in try tx.remove(policy) })
}

extension Ruleset: StoredObject {
    /// How the store keeps rulesets.
    public static let storage = ObjectStorage<Ruleset>(
        copySuffix: "Copy", byName: RulesetSQL.byName, page: RulesetSQL.page, count: RulesetSQL.count,
        copy: RulesetSQL.copy, copyParts: RulesetSQL.copyRules, decode: { StoreTransaction.decodeRuleset($0) },
        written: { Ruleset(written: $0, name: $1, content: $2) }, recorded: { $0.recorded },
        insert: { tx, name, content in try tx.insertRuleset(named: name, content: content) },
        update: { tx, current, content in try tx.update(current, to: content) },
        delete: { tx, ruleset in try tx.remove(ruleset) })
}

extension StoreTransaction {
    // MARK: Reading

    /// The policy or ruleset with this name, ignoring letter case, or nil.
    ///
    /// ```swift
    /// let policy = try tx.fetch(Policy.self, named: "WEB.prod")   // finds "web.prod"
    /// ```
    public func fetch<Object: StoredObject>(_: Object.Type, named name: String) throws(PolicyStoreError) -> Object? {
        try readOperation { try connection.queryFirst(Object.storage.byName.sql, [SQLValue(name)], Object.storage.decode) }
    }

    /// One page of policies or rulesets sorted by name (ignoring letter case): those after
    /// `after`, at most `limit`. Pass the last name of a page to get the next one.
    ///
    /// ```swift
    /// let first = try tx.list(Ruleset.self, limit: 50)
    /// let next = try tx.list(Ruleset.self, after: first.last?.name, limit: 50)
    /// ```
    public func list<Object: StoredObject>(
        _: Object.Type, after: String? = nil, limit: Int = 100
    ) throws(PolicyStoreError) -> [Object] {
        try readOperation {
            try Self.checkPageSize(limit)
            return try connection.query(Object.storage.page.sql, [SQLValue(after ?? ""), SQLValue(limit)], Object.storage.decode)
        }
    }

    /// How many policies or rulesets there are.
    public func count<Object: StoredObject>(_: Object.Type) throws(PolicyStoreError) -> Int {
        try readOperation { try connection.queryFirst(Object.storage.count.sql) { $0.int(0) } ?? 0 }
    }

    /// The object with this name, or ``PolicyStoreError/notFound(_:name:)``.
    func existing<Object: StoredObject>(_: Object.Type, named name: String) throws -> Object {
        guard let object = try fetch(Object.self, named: name) else { throw PolicyStoreError.notFound(Object.Content.kind, name: name) }
        return object
    }

    // MARK: Writing

    /// Creates a policy or a ruleset with this content. Its name must be new (ignoring letter
    /// case); a policy's rulesets must exist, a ruleset's rules must be managed rules. The
    /// history records one `create` at revision 1.
    ///
    /// ```swift
    /// try tx.create(Ruleset.self, named: "baseline", content: RulesetContent(rules: [RuleReference(id: "TM-00000001")]))
    /// ```
    @discardableResult
    public func create<Object: StoredObject>(
        _: Object.Type, named name: String, content: Object.Content
    ) throws(PolicyStoreError) -> Object {
        try writeOperation { try Object.storage.insert(self, name, content) }
    }

    /// Copies a policy or a ruleset: the same content (a policy's rulesets are linked, not
    /// copied), under `newName` or the source's name with `Policy` (for a policy) or `Copy`
    /// (for a ruleset) appended. A name that is taken or too long is refused; it is never
    /// changed to fit.
    ///
    /// ```swift
    /// let copy = try tx.duplicate(Policy.self, named: "web")   // "webPolicy"
    /// ```
    @discardableResult
    public func duplicate<Object: StoredObject>(
        _: Object.Type, named name: String, as newName: String? = nil
    ) throws(PolicyStoreError) -> Object {
        try writeOperation {
            let source = try existing(Object.self, named: name)
            guard source.damage.isEmpty else { throw PolicyStoreError.damagedData(Object.Content.kind, name: source.name, source.damage) }
            let copyName = newName ?? source.name + Object.storage.copySuffix
            try NameRules.validate(copyName, kind: Object.Content.kind)
            try checkNameIsFree(copyName, kind: Object.Content.kind)
            let copy = try connection.queryFirst(Object.storage.copy.sql, [SQLValue(copyName), SQLValue(source.id)]) {
                Object.storage.written($0, copyName, source.content)
            }!
            try connection.run(Object.storage.copyParts.sql, [SQLValue(copy.id), SQLValue(source.id)])
            try record(Object.Content.kind, name: copyName, action: .create, revision: 1, before: nil,
                after: Object.storage.recorded(source.content))
            return copy
        }
    }

    /// Changes a policy's or a ruleset's content. With `expectedRevision`, the change is
    /// refused with ``PolicyStoreError/revisionConflict(_:name:expected:actual:)`` unless the
    /// object is still at that revision. A change moves the revision by one and is recorded
    /// once (for a policy, `link` or `unlink` when only rulesets were added or removed; a
    /// ruleset's rules are compared by ID, so only those that differ are written); when
    /// nothing changed, nothing is written and the object is returned as it is.
    ///
    /// ```swift
    /// try tx.modify(Policy.self, named: "web.prod", expectedRevision: 2) { $0.xdrEnabled = false }
    /// ```
    @discardableResult
    public func modify<Object: StoredObject>(
        _: Object.Type, named name: String, expectedRevision: Int? = nil, _ edit: (inout Object.Content) -> Void
    ) throws(PolicyStoreError) -> Object {
        try storeErrors { try modifyObject(Object.self, named: name, expectedRevision: expectedRevision, edit) }
    }

    /// The same, with an edit that may throw to abort the change: its error is thrown as it
    /// is, and nothing is written. (Inside ``PolicyStore/write(actor:_:)-6yccd``,
    /// whose closure may throw your errors.)
    ///
    /// ```swift
    /// try tx.modify(Policy.self, named: "web.prod") { policy in
    ///     guard !policy.rulesets.isEmpty else { throw EditRefused() }
    ///     policy.xdrEnabled = true
    /// }
    /// ```
    @discardableResult
    public func modify<Object: StoredObject>(
        _: Object.Type, named name: String, expectedRevision: Int? = nil, _ edit: (inout Object.Content) throws -> Void
    ) throws -> Object {
        do {
            return try modifyObject(Object.self, named: name, expectedRevision: expectedRevision, edit)
        } catch let error as CallerError {
            throw error.error
        }
    }

    /// Modify for both overloads: an error `edit` throws comes out as a ``CallerError``, and
    /// nothing is written.
    private func modifyObject<Object: StoredObject>(
        _: Object.Type, named name: String, expectedRevision: Int?, _ edit: (inout Object.Content) throws -> Void
    ) throws -> Object {
        try callerWriteOperation {
            let current = try existing(Object.self, named: name)
            if let expectedRevision, expectedRevision != current.revision {
                throw PolicyStoreError.revisionConflict(Object.Content.kind, name: current.name, expected: expectedRevision, actual: current.revision)
            }
            var changed = current.content
            do {
                try edit(&changed)
            } catch {
                throw CallerError(error: error)
            }
            return try Object.storage.update(self, current, changed)
        }
    }

    /// Deletes a policy and its links (its rulesets stay), or a ruleset and its rules. Refused
    /// with ``PolicyStoreError/policyAssigned(policy:clusters:)`` while a cluster uses the
    /// policy, and with ``PolicyStoreError/rulesetInUse(ruleset:policies:)`` while a policy
    /// links the ruleset.
    ///
    /// ```swift
    /// try tx.delete(Policy.self, named: "web.staging")
    /// ```
    public func delete<Object: StoredObject>(_: Object.Type, named name: String) throws(PolicyStoreError) {
        try writeOperation { try Object.storage.delete(self, try existing(Object.self, named: name)) }
    }
}

/// The operations of both kinds as values: each is the method of the same name of
/// ``StoreTransaction``.
extension StoreOperation {
    /// ``StoreTransaction/fetch(_:named:)``: the object with this name, ignoring letter case, or nil.
    ///
    /// ```swift
    /// let policy = try store.perform(.fetch(Policy.self, named: "WEB.PROD"))
    /// ```
    public static func fetch<Object: StoredObject>(_: Object.Type, named name: String) -> StoreOperation<Object?> {
        StoreOperation<Object?>(.singleStatement) { tx throws(PolicyStoreError) in try tx.fetch(Object.self, named: name) }
    }

    /// ``StoreTransaction/list(_:after:limit:)``: a page sorted by name; pass the last name of
    /// a page as `after` for the next.
    ///
    /// ```swift
    /// var page = try store.perform(.list(Policy.self, limit: 50))
    /// while let last = page.last {
    ///     page.forEach { print($0.name) }
    ///     page = try store.perform(.list(Policy.self, after: last.name, limit: 50))
    /// }
    /// ```
    public static func list<Object: StoredObject>(
        _: Object.Type, after: String? = nil, limit: Int = 100
    ) -> StoreOperation<[Object]> {
        StoreOperation<[Object]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.list(Object.self, after: after, limit: limit) }
    }

    /// ``StoreTransaction/count(_:)``.
    public static func count<Object: StoredObject>(_: Object.Type) -> StoreOperation<Int> {
        StoreOperation<Int>(.singleStatement) { tx throws(PolicyStoreError) in try tx.count(Object.self) }
    }

    /// ``StoreTransaction/create(_:named:content:)``.
    public static func create<Object: StoredObject>(
        _: Object.Type, named name: String, content: Object.Content
    ) -> StoreOperation<Object> {
        StoreOperation<Object>(.write) { tx throws(PolicyStoreError) in try tx.create(Object.self, named: name, content: content) }
    }

    /// ``StoreTransaction/duplicate(_:named:as:)``: by default a policy's copy is named with
    /// `Policy` appended, a ruleset's with `Copy`.
    ///
    /// ```swift
    /// let copy = try store.perform(.duplicate(Policy.self, named: "web"))   // "webPolicy"
    /// ```
    public static func duplicate<Object: StoredObject>(
        _: Object.Type, named name: String, as newName: String? = nil
    ) -> StoreOperation<Object> {
        StoreOperation<Object>(.write) { tx throws(PolicyStoreError) in try tx.duplicate(Object.self, named: name, as: newName) }
    }

    /// The modify of ``StoreTransaction``, with an edit that cannot fail.
    ///
    /// ```swift
    /// try store.perform(.modify(Policy.self, named: "web.prod", expectedRevision: 3) { $0.xdrEnabled = false })
    /// ```
    public static func modify<Object: StoredObject>(
        _: Object.Type, named name: String, expectedRevision: Int? = nil, _ edit: @escaping @Sendable (inout Object.Content) -> Void
    ) -> StoreOperation<Object> {
        StoreOperation<Object>(.write) { tx throws(PolicyStoreError) in
            try tx.modify(Object.self, named: name, expectedRevision: expectedRevision, edit)
        }
    }

    /// ``StoreTransaction/delete(_:named:)``.
    public static func delete<Object: StoredObject>(_: Object.Type, named name: String) -> StoreOperation<Void> {
        StoreOperation<Void>(.write) { tx throws(PolicyStoreError) in try tx.delete(Object.self, named: name) }
    }
}
