/// Each operation of ``StoreTransaction`` as a transaction of its own. Every one is all or
/// nothing and throws only ``PolicyStoreError``.
extension PolicyStore {
    // MARK: Policies

    /// Creates a policy; see ``StoreTransaction/createPolicy(named:description:xdrEnabled:rulesets:)``.
    ///
    /// ```swift
    /// let policy = try store.createPolicy(named: "web.prod", description: "Front end", rulesets: ["baseline"])
    /// ```
    @discardableResult
    public func createPolicy(
        named name: String, description: String = "", xdrEnabled: Bool = true, rulesets: [String] = []
    ) throws(PolicyStoreError) -> Policy {
        try perform(.write) {
            try $0.createPolicy(named: name, description: description, xdrEnabled: xdrEnabled, rulesets: rulesets)
        }
    }

    /// Duplicates a policy as `newName`, by default its name with `Policy` appended.
    ///
    /// ```swift
    /// let copy = try store.duplicatePolicy(named: "web")   // "webPolicy"
    /// ```
    @discardableResult
    public func duplicatePolicy(named name: String, as newName: String? = nil) throws(PolicyStoreError) -> Policy {
        try perform(.write) { try $0.duplicatePolicy(named: name, as: newName) }
    }

    /// Modifies a policy's description, XDR setting and rulesets in one transaction.
    ///
    /// ```swift
    /// try store.modifyPolicy(named: "web.prod", expectedRevision: 3) { $0.xdrEnabled = false }
    /// ```
    @discardableResult
    public func modifyPolicy(
        named name: String, expectedRevision: Int? = nil, _ edit: (inout PolicyEdit) -> Void
    ) throws(PolicyStoreError) -> Policy {
        try perform(.write) { try $0.modifyPolicy(named: name, expectedRevision: expectedRevision, edit) }
    }

    /// Deletes a policy and its links.
    public func deletePolicy(named name: String) throws(PolicyStoreError) {
        try perform(.write) { try $0.deletePolicy(named: name) }
    }

    /// The policy with this name, ignoring letter case, or nil.
    public func policy(named name: String) throws(PolicyStoreError) -> Policy? {
        try perform(.singleStatement) { try $0.policy(named: name) }
    }

    /// A page of policies sorted by name; pass the last name of a page as `after` for the next.
    ///
    /// ```swift
    /// var page = try store.policies(limit: 50)
    /// while let last = page.last {
    ///     page.forEach { print($0.name) }
    ///     page = try store.policies(after: last.name, limit: 50)
    /// }
    /// ```
    public func policies(after: String? = nil, limit: Int = 100) throws(PolicyStoreError) -> [Policy] {
        try perform(.singleStatement) { try $0.policies(after: after, limit: limit) }
    }

    /// How many policies there are.
    public func policyCount() throws(PolicyStoreError) -> Int {
        try perform(.singleStatement) { try $0.policyCount() }
    }

    /// The names of the policies that link the ruleset, sorted.
    public func policies(usingRuleset name: String) throws(PolicyStoreError) -> [String] {
        try perform(.read) { try $0.policies(usingRuleset: name) }
    }

    // MARK: Rulesets

    /// Creates a ruleset with its rules.
    ///
    /// ```swift
    /// try store.createRuleset(named: "baseline", rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])
    /// ```
    @discardableResult
    public func createRuleset(
        named name: String, description: String = "", rules: [RuleReference] = []
    ) throws(PolicyStoreError) -> Ruleset {
        try perform(.write) { try $0.createRuleset(named: name, description: description, rules: rules) }
    }

    /// Duplicates a ruleset as `newName`, by default its name with `Copy` appended.
    @discardableResult
    public func duplicateRuleset(named name: String, as newName: String? = nil) throws(PolicyStoreError) -> Ruleset {
        try perform(.write) { try $0.duplicateRuleset(named: name, as: newName) }
    }

    /// Modifies a ruleset's description and rules in one transaction.
    @discardableResult
    public func modifyRuleset(
        named name: String, expectedRevision: Int? = nil, _ edit: (inout RulesetEdit) -> Void
    ) throws(PolicyStoreError) -> Ruleset {
        try perform(.write) { try $0.modifyRuleset(named: name, expectedRevision: expectedRevision, edit) }
    }

    /// Deletes a ruleset; refused while a policy uses it.
    public func deleteRuleset(named name: String) throws(PolicyStoreError) {
        try perform(.write) { try $0.deleteRuleset(named: name) }
    }

    /// The ruleset with this name, ignoring letter case, or nil.
    public func ruleset(named name: String) throws(PolicyStoreError) -> Ruleset? {
        try perform(.singleStatement) { try $0.ruleset(named: name) }
    }

    /// A page of rulesets sorted by name.
    public func rulesets(after: String? = nil, limit: Int = 100) throws(PolicyStoreError) -> [Ruleset] {
        try perform(.singleStatement) { try $0.rulesets(after: after, limit: limit) }
    }

    /// How many rulesets there are.
    public func rulesetCount() throws(PolicyStoreError) -> Int {
        try perform(.singleStatement) { try $0.rulesetCount() }
    }
}
