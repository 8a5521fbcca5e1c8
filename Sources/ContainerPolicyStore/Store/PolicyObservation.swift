extension PolicyStore {
    /// The policy named `name` (ignoring letter case) with its rulesets, now and after each
    /// committed change to it: to the policy itself, its links, or the rules of a ruleset it
    /// links, by any writer (see ``changes(after:)``). Nil while there is no such policy. A
    /// cluster's assign or unassign is not such a change: the value does not hold clusters.
    ///
    /// ```swift
    /// for try await current in store.observe(policyNamed: "web.prod") {
    ///     guard let current else { print("web.prod is gone"); continue }
    ///     print(current.policy.revision, current.rulesets.flatMap(\.rules).count)
    /// }
    /// ```
    ///
    /// The first value comes at once. Each later one is read after a change that touches
    /// the policy, in one read transaction, and is never the value before it: several changes
    /// in quick succession may come as one value, the latest. Cancellation and closing the
    /// store end it as they end ``changes(after:)``.
    public func observe(policyNamed name: String) -> PolicyObservation {
        PolicyObservation(store: self, name: name)
    }
}

/// A policy together with the rulesets it links: the value ``PolicyStore/observe(policyNamed:)``
/// yields, so that a change of a linked ruleset's rules is a new value.
public struct PolicyWithRulesets: Sendable, Hashable {
    public let policy: Policy
    /// The rulesets named in `policy.rulesets`, in that order.
    public let rulesets: [Ruleset]

    public init(policy: Policy, rulesets: [Ruleset]) {
        self.policy = policy
        self.rulesets = rulesets
    }
}

/// The values of one policy over time: see ``PolicyStore/observe(policyNamed:)``.
public struct PolicyObservation: AsyncSequence, Sendable {
    public typealias Element = PolicyWithRulesets?
    public typealias Failure = PolicyStoreError

    let store: PolicyStore
    let name: String

    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, name: name)
    }

    public struct Iterator: AsyncIteratorProtocol, Sendable {
        public typealias Element = PolicyWithRulesets?
        public typealias Failure = PolicyStoreError

        private let store: PolicyStore
        private let name: String
        /// Nil until the first value is read.
        private var changes: ChangeFeed.Iterator?
        private var current: PolicyWithRulesets?
        /// The last change the current value includes.
        private var readAt = 0
        private var isFinished = false

        init(store: PolicyStore, name: String) {
            self.store = store
            self.name = name
        }

        public mutating func next() async throws(PolicyStoreError) -> PolicyWithRulesets?? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(PolicyStoreError) -> PolicyWithRulesets?? {
            guard !isFinished else { return nil }
            guard changes != nil else {
                guard try await readCurrent() else { return finish() }
                changes = store.changes(after: readAt).makeAsyncIterator()
                return .some(current)
            }
            while let change = try await nextChange(isolation: actor) {
                // A change the value read already includes, or one of another object.
                guard change.sequence > readAt, touches(change) else { continue }
                let previous = current
                guard try await readCurrent() else { return finish() }
                if current != previous { return .some(current) }
            }
            return finish()
        }

        private mutating func nextChange(isolation actor: isolated (any Actor)?) async throws(PolicyStoreError) -> Change? {
            do {
                return try await changes?.next(isolation: actor)
            } catch {
                isFinished = true
                throw error
            }
        }

        private mutating func finish() -> PolicyWithRulesets?? {
            isFinished = true
            return nil
        }

        /// Whether `change` is of the policy, or of a ruleset the value holds. (Not a cluster's,
        /// though it belongs to the policy's history: the value holds no clusters.)
        private func touches(_ change: Change) -> Bool {
            switch change.kind {
            case .policy: return change.belongs(to: .policy, named: name)
            case .ruleset: return current?.policy.rulesets.contains { change.belongs(to: .ruleset, named: $0) } ?? false
            case .cluster: return false
            }
        }

        /// Reads the value and the last change it includes, in one snapshot; false when the
        /// task was cancelled.
        private mutating func readCurrent() async throws(PolicyStoreError) -> Bool {
            let name = self.name
            do {
                (current, readAt) = try await store.read { tx throws(PolicyStoreError) in
                    let sequence = try tx.lastChangeSequence()
                    guard let policy = try tx.fetch(Policy.self, named: name) else { return (nil, sequence) }
                    var rulesets: [Ruleset] = []
                    for ruleset in policy.rulesets {
                        if let linked = try tx.fetch(Ruleset.self, named: ruleset) { rulesets.append(linked) }
                    }
                    return (PolicyWithRulesets(policy: policy, rulesets: rulesets), sequence)
                }
                return true
            } catch {
                isFinished = true
                if let failure = ChangeFeed.failure(error, path: store.path) { throw failure }
                return false
            }
        }
    }
}
