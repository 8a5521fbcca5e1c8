import SQLiteCore

extension StoreTransaction {
    /// Writes the content the policy had at `revision` back, as a new revision recorded as a
    /// `restore` of that revision. `life` names which life of the name the revision belongs
    /// to (the ``Change/life`` the history shows); by default, the current policy's. With
    /// `expectedRevision`, refused with ``PolicyStoreError/revisionConflict(_:name:expected:actual:)``
    /// unless the policy is still at that revision. Refused when a ruleset it needs no longer
    /// exists. Restoring the content the policy has already writes nothing.
    ///
    /// ```swift
    /// try tx.restorePolicy(named: "web.prod", toRevision: 2, expectedRevision: 5)
    /// ```
    @discardableResult
    public func restorePolicy(
        named name: String, toRevision revision: Int, ofLife life: Int? = nil, expectedRevision: Int? = nil
    ) throws(PolicyStoreError) -> Policy {
        try writeOperation {
            let current = try existing(Policy.self, named: name)
            if let expectedRevision, expectedRevision != current.revision {
                throw PolicyStoreError.revisionConflict(.policy, name: current.name, expected: expectedRevision, actual: current.revision)
            }
            if let life {
                let lives = try connection.query(HistorySQL.lives.sql, [SQLValue(ObjectKind.policy.rawValue), SQLValue(current.name)]) { $0.int(0) }
                guard lives.contains(life) else { throw PolicyStoreError.unknownLife(.policy, name: current.name, life: life, lives: lives) }
            }
            let start = try life ?? currentLife(ofPolicy: current.name)
            guard
                let state = try connection.queryFirst(
                    HistorySQL.stateAtRevision.sql, [SQLValue(current.name), SQLValue(revision), SQLValue(start)], { $0.text(0) }),
                case .policy(let content)? = RecordedState.content(.policy, json: state)
            else {
                let lives = try connection.query(HistorySQL.livesWithRevision.sql, [SQLValue(current.name), SQLValue(revision)]) {
                    $0.isNull(0) ? nil : $0.int(0)
                }
                throw PolicyStoreError.unknownRevision(
                    .policy, name: current.name, revision: revision, life: start, livesWithRevision: lives.compactMap { $0 })
            }
            for ruleset in content.rulesets {
                do {
                    _ = try existingRulesetLink(ruleset)
                } catch PolicyStoreError.notFound {
                    throw PolicyStoreError.restoreNeedsRuleset(policy: current.name, revision: revision, ruleset: ruleset)
                }
            }
            return try update(current, to: content, restoring: revision)
        }
    }

    /// The sequence of the `create` that began the current policy's life; 0 when the history
    /// holds none (a policy older than its history).
    func currentLife(ofPolicy name: String) throws -> Int {
        try connection.queryFirst(HistorySQL.currentLife.sql, [SQLValue(ObjectKind.policy.rawValue), SQLValue(name)]) {
            $0.isNull(0) ? 0 : $0.int(0)
        } ?? 0
    }
}

extension StoreOperation {
    /// ``StoreTransaction/restorePolicy(named:toRevision:ofLife:expectedRevision:)``: writes
    /// the content of an earlier revision back as a new one.
    ///
    /// ```swift
    /// try store.perform(.restorePolicy(named: "web.prod", toRevision: 3))
    /// ```
    public static func restorePolicy(
        named name: String, toRevision revision: Int, ofLife life: Int? = nil, expectedRevision: Int? = nil
    ) -> StoreOperation<Policy> {
        StoreOperation<Policy>(.write) { tx throws(PolicyStoreError) in
            try tx.restorePolicy(named: name, toRevision: revision, ofLife: life, expectedRevision: expectedRevision)
        }
    }
}
