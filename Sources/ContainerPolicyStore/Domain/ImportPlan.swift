/// What an import does, or would do in a dry run: one step per object that changes, each
/// with what changes, and how many stay as they are. Its ``fingerprint`` names exactly these
/// steps against exactly these revisions, so that a plan approved in review is applied only
/// if it is still the same (see ``StoreTransaction/importDocument(_:prune:dryRun:expectedPlan:progress:)``).
///
/// ```text
/// + create policy web.prod
/// ~ modify policy api: description, rulesets +baseline -legacy
/// - delete ruleset old
/// 12 unchanged
/// ```
public struct ImportPlan: Sendable, Hashable, CustomStringConvertible {
    /// One change to one object.
    public struct Step: Sendable, Hashable, Codable, CustomStringConvertible {
        /// What the step does to the object.
        public enum Action: Sendable, Hashable {
            /// Creates the object with this content.
            case create(RecordedContent)
            /// Changes exactly these fields, links and rules.
            case modify(ContentChanges)
            case delete
        }

        /// A policy or a ruleset.
        public let kind: ObjectKind
        /// The object's name, as the store has it (or as the document gives it, for a create).
        public let name: String
        public let action: Action
        /// The revision of the object the step was planned against; nil for a create.
        public let revision: Int?

        public init(kind: ObjectKind, name: String, action: Action, revision: Int? = nil) {
            self.kind = kind
            self.name = name
            self.action = action
            self.revision = revision
        }

        public var description: String {
            switch action {
            case .create: return "+ create \(kind) \(name)"
            case .modify(let changes): return "~ modify \(kind) \(name): \(changes)"
            case .delete: return "- delete \(kind) \(name)"
            }
        }

        private enum CodingKeys: String, CodingKey { case action, kind, name, revision, content, changes }

        /// `{"action": "create", "kind", "name", "content"}`, `{"action": "modify", ...,
        /// "revision", "changes"}` or `{"action": "delete", ..., "revision"}`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch action {
            case .create(let content):
                try container.encode("create", forKey: .action)
                try container.encode(kind, forKey: .kind)
                try container.encode(name, forKey: .name)
                try container.encode(content, forKey: .content)
            case .modify(let changes):
                try container.encode("modify", forKey: .action)
                try container.encode(kind, forKey: .kind)
                try container.encode(name, forKey: .name)
                try container.encodeIfPresent(revision, forKey: .revision)
                try container.encode(changes, forKey: .changes)
            case .delete:
                try container.encode("delete", forKey: .action)
                try container.encode(kind, forKey: .kind)
                try container.encode(name, forKey: .name)
                try container.encodeIfPresent(revision, forKey: .revision)
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            kind = try container.decode(ObjectKind.self, forKey: .kind)
            name = try container.decode(String.self, forKey: .name)
            revision = try container.decodeIfPresent(Int.self, forKey: .revision)
            switch try container.decode(String.self, forKey: .action) {
            case "create": action = .create(try container.decode(RecordedContent.self, forKey: .content))
            case "modify": action = .modify(try container.decode(ContentChanges.self, forKey: .changes))
            case "delete": action = .delete
            case let other:
                throw DecodingError.dataCorruptedError(forKey: .action, in: container, debugDescription: "unknown action \(other)")
            }
        }
    }

    /// In the order they are applied: rulesets, then policies, then deletions.
    public let steps: [Step]
    /// Objects in the document that already match the store.
    public let unchanged: Int
    /// False for a dry run: nothing was written.
    public let applied: Bool

    public init(steps: [Step], unchanged: Int, applied: Bool) {
        self.steps = steps
        self.unchanged = unchanged
        self.applied = applied
    }

    public var description: String {
        (steps.map(\.description) + ["\(unchanged) unchanged"]).joined(separator: "\n")
    }
}
