import Foundation

/// One recorded change to a policy or ruleset, from the `changes` table.
///
/// ```swift
/// let last = try store.history(ofPolicy: "web.prod").last
/// print(last?.action, last?.actor)
/// ```
public struct Change: Sendable, Hashable {
    /// What the change did.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case create
        /// The description, the XDR setting, or several things at once (rules included).
        case modify
        case delete
        /// Rulesets were added to a policy, and nothing else changed.
        case link
        /// Rulesets were removed from a policy, and nothing else changed.
        case unlink
    }

    /// Increases with every change in the database.
    public let sequence: Int
    /// When, to the millisecond.
    public let changedAt: Date
    /// A policy or a ruleset.
    public let kind: ObjectKind
    /// The object's name.
    public let name: String
    public let action: Action
    /// The object's revision after the change (for a delete, its last revision).
    public let revision: Int
    /// The state before, as JSON (`{"name", "description", "xdrEnabled", "rulesets"}` for a
    /// policy, `{"name", "description", "rules"}` for a ruleset); nil for a create.
    public let before: String?
    /// The state after, as JSON; nil for a delete.
    public let after: String?
    /// Who made the change, as the library's caller said (`StoreOptions.actor`); empty for
    /// a change made from the shell.
    public let actor: String
    /// Stored values of the row that break the history's format (a state that is not the
    /// JSON the history writes, a timestamp in another format); empty for a sound row.
    public let damage: [StoredDamage]

    /// A change as the history holds it.
    public init(
        sequence: Int, changedAt: Date, kind: ObjectKind, name: String, action: Action, revision: Int,
        before: String?, after: String?, actor: String, damage: [StoredDamage] = []
    ) {
        self.sequence = sequence
        self.changedAt = changedAt
        self.kind = kind
        self.name = name
        self.action = action
        self.revision = revision
        self.before = before
        self.after = after
        self.actor = actor
        self.damage = damage
    }
}
