/// What an import does, or would do in a dry run: one step per object that changes, and how
/// many stay as they are.
///
/// ```text
/// + create policy web.prod
/// ~ modify policy api: description, rulesets +baseline -legacy
/// - delete ruleset old
/// 12 unchanged
/// ```
public struct ImportPlan: Sendable, Hashable, CustomStringConvertible {
    /// One change to one object.
    public struct Step: Sendable, Hashable, CustomStringConvertible {
        /// What the step does to the object.
        public enum Action: Sendable, Hashable {
            case create
            /// What changes, e.g. `["description", "rulesets +baseline -legacy"]`.
            case modify([String])
            case delete
        }

        /// A policy or a ruleset.
        public let kind: ObjectKind
        /// The object's name, as the store has it (or as the document gives it, for a create).
        public let name: String
        public let action: Action

        public var description: String {
            switch action {
            case .create: return "+ create \(kind) \(name)"
            case .modify(let changes): return "~ modify \(kind) \(name): \(changes.joined(separator: ", "))"
            case .delete: return "- delete \(kind) \(name)"
            }
        }
    }

    /// In the order they are applied: rulesets, then policies, then deletions.
    public let steps: [Step]
    /// Objects in the document that already match the store.
    public let unchanged: Int
    /// False for a dry run: nothing was written.
    public let applied: Bool

    public var description: String {
        (steps.map(\.description) + ["\(unchanged) unchanged"]).joined(separator: "\n")
    }
}
