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
    /// Stored values of the cluster that break the product's rules; empty for a sound one.
    public let damage: [StoredDamage]

    /// A cluster as the store holds it.
    public init(arn: String, policy: String?, assignedAt: Date?, damage: [StoredDamage] = []) {
        self.arn = arn
        self.policy = policy
        self.assignedAt = assignedAt
        self.damage = damage
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
    /// The longest cluster name Amazon ECS allows.
    public static let maximumNameLength = 255

    /// The first rule `arn` breaks, or nil when it is a well-formed cluster ARN.
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
