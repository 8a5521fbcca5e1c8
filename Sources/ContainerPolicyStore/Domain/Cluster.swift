import Foundation

/// An Amazon ECS cluster, identified by its ARN, and the policy assigned to it, if any.
///
/// ```swift
/// let cluster = try store.assignPolicy(named: "web.prod", toCluster: "arn:aws:ecs:us-east-1:123456789012:cluster/web")
/// print(cluster.policy ?? "none")   // web.prod
/// ```
public struct Cluster: Sendable, Hashable {
    /// `arn:aws:ecs:<region>:<12-digit account>:cluster/<name>`.
    public let arn: String
    /// The assigned policy's name; nil when none is.
    public let policy: String?
    /// When the current policy was assigned.
    public let assignedAt: Date?

    public init(arn: String, policy: String?, assignedAt: Date?) {
        self.arn = arn
        self.policy = policy
        self.assignedAt = assignedAt
    }
}

/// Why a cluster ARN was refused.
public enum ClusterARNProblem: Sendable, Hashable {
    /// Not `arn:aws:ecs:` followed by a region.
    case notAnECSClusterARN
    /// The region is not like `us-east-1`.
    case malformedRegion
    /// The account is not 12 digits.
    case malformedAccount
    /// The name after `cluster/` is empty, longer than 255, or has a character other than
    /// ASCII letters, digits, `-` and `_`.
    case malformedClusterName
}

/// The form of an Amazon ECS cluster ARN; the `clusters` table's CHECK says the same.
///
/// ```swift
/// ClusterARNRules.problem(in: "arn:aws:ecs:us-east-1:123456789012:cluster/web")   // nil
/// ```
public enum ClusterARNRules {
    public static let maximumNameLength = 255

    public static func problem(in arn: String) -> ClusterARNProblem? {
        let prefix = "arn:aws:ecs:"
        guard arn.utf8.starts(with: prefix.utf8), arn.unicodeScalars.allSatisfy(\.isASCII), !arn.utf8.contains(0) else {
            return .notAnECSClusterARN
        }
        let parts = arn.utf8.dropFirst(prefix.utf8.count).split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .notAnECSClusterARN }
        let region = Array(parts[0])
        let isRegionCharacter = { (byte: UInt8) in isLowercaseLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "-") }
        guard region.count >= 5, isLowercaseLetter(region[0]), isLowercaseLetter(region[1]), region[2] == UInt8(ascii: "-"),
            region[region.count - 2] == UInt8(ascii: "-"), isDigit(region[region.count - 1]), region.allSatisfy(isRegionCharacter)
        else { return .malformedRegion }
        guard parts[1].count == 12, parts[1].allSatisfy(isDigit) else { return .malformedAccount }
        let resource = Array(parts[2])
        let resourcePrefix = Array("cluster/".utf8)
        guard resource.starts(with: resourcePrefix) else { return .notAnECSClusterARN }
        let name = resource.dropFirst(resourcePrefix.count)
        let isNameCharacter = { (byte: UInt8) in
            isLowercaseLetter(byte) || (0x41...0x5A).contains(byte) || isDigit(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard (1...maximumNameLength).contains(name.count), name.allSatisfy(isNameCharacter) else {
            return .malformedClusterName
        }
        return nil
    }

    private static func isLowercaseLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}

/// One recorded change to a policy or ruleset, from the `changes` table.
public struct Change: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case create, modify, delete, link, unlink
    }

    /// Increases with every change in the database.
    public let sequence: Int
    public let changedAt: Date
    public let kind: ObjectKind
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

    public init(
        sequence: Int, changedAt: Date, kind: ObjectKind, name: String, action: Action, revision: Int,
        before: String?, after: String?, actor: String
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
    }
}
