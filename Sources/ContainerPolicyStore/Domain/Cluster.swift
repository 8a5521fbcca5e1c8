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

extension Cluster: Codable {
    private enum CodingKeys: String, CodingKey { case arn, policy, assignedDateTime, damage }

    /// `arn`, `policy` (the name, or null), `assignedDateTime` (or null), and `damage` when
    /// there is any.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(arn, forKey: .arn)
        try container.encode(policy, forKey: .policy)
        try container.encode(assignedAt.map(Timestamp.text(from:)), forKey: .assignedDateTime)
        if !damage.isEmpty { try container.encode(damage, forKey: .damage) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            arn: try container.decode(String.self, forKey: .arn),
            policy: try container.decodeIfPresent(String.self, forKey: .policy),
            assignedAt: try container.decodeIfPresent(String.self, forKey: .assignedDateTime).flatMap(Timestamp.date(from:)),
            damage: try container.decodeIfPresent([StoredDamage].self, forKey: .damage) ?? [])
    }
}

/// Why a cluster ARN was refused.
public enum ClusterARNProblem: Sendable, Hashable {
    /// Not `arn:` followed by a partition, `:ecs:`, a region, an account and
    /// `:cluster/<name>`.
    case notAnECSClusterARN
    /// The partition is not `aws`, `aws-cn` or `aws-us-gov`.
    case unknownPartition(String)
    /// The region is not like `us-east-1`: two letters, words of letters, a number of one or
    /// two digits, joined by single dashes (`cn-north-1`, `us-gov-west-1`, `ap-southeast-2`).
    case malformedRegion
    /// The region belongs to another partition (`cn-*` to `aws-cn`, `us-gov-*` to
    /// `aws-us-gov`, every other to `aws`).
    case regionOutsidePartition(region: String, partition: String)
    /// The account is not 12 digits.
    case malformedAccount
    /// The name after `cluster/` is empty, longer than 255, or has a character other than
    /// ASCII letters, digits, `-` and `_`.
    case malformedClusterName
}

/// The form of an Amazon ECS cluster ARN, in the three partitions; the `clusters` table's
/// CHECK says the same.
///
/// ```swift
/// ClusterARNRules.problem(in: "arn:aws:ecs:us-east-1:123456789012:cluster/web")         // nil
/// ClusterARNRules.problem(in: "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/web")     // nil
/// ClusterARNRules.problem(in: "arn:aws:ecs:us--1:123456789012:cluster/web")             // .malformedRegion
/// ```
public enum ClusterARNRules {
    /// The longest cluster name Amazon ECS allows.
    public static let maximumNameLength = 255
    /// The partitions an Amazon ECS cluster can be in.
    public static let partitions = ["aws", "aws-cn", "aws-us-gov"]

    /// The first rule `arn` breaks, or nil when it is a well-formed cluster ARN.
    public static func problem(in arn: String) -> ClusterARNProblem? {
        let bytes = Array(arn.utf8)
        guard bytes.starts(with: Array("arn:".utf8)) else { return .notAnECSClusterARN }
        let fields = bytes.dropFirst(4).split(separator: UInt8(ascii: ":"), maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, fields[1].elementsEqual("ecs".utf8) else { return .notAnECSClusterARN }
        let partition = String(decoding: fields[0], as: UTF8.self)
        guard partitions.contains(partition) else { return .unknownPartition(partition) }
        let region = Array(fields[2])
        guard isRegion(region) else { return .malformedRegion }
        let regionText = String(decoding: region, as: UTF8.self)
        guard partitionOf(region: regionText) == partition else {
            return .regionOutsidePartition(region: regionText, partition: partition)
        }
        guard fields[3].count == 12, fields[3].allSatisfy(isDigit) else { return .malformedAccount }
        let resource = Array(fields[4])
        let prefix = Array("cluster/".utf8)
        guard resource.starts(with: prefix) else { return .notAnECSClusterARN }
        let name = resource.dropFirst(prefix.count)
        let isNameByte = { (byte: UInt8) in
            isLowercaseLetter(byte) || (0x41...0x5A).contains(byte) || isDigit(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard (1...maximumNameLength).contains(name.count), name.allSatisfy(isNameByte) else {
            return .malformedClusterName
        }
        return nil
    }

    /// Two letters, then words of letters, then a number of one or two digits, all joined
    /// by single dashes.
    private static func isRegion(_ region: [UInt8]) -> Bool {
        let parts = region.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count >= 3, let number = parts.last, let country = parts.first else { return false }
        return country.count == 2 && country.allSatisfy(isLowercaseLetter)
            && (1...2).contains(number.count) && number.allSatisfy(isDigit)
            && parts.dropFirst().dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy(isLowercaseLetter) }
    }

    private static func partitionOf(region: String) -> String {
        if region.hasPrefix("cn-") { return "aws-cn" }
        if region.hasPrefix("us-gov-") { return "aws-us-gov" }
        return "aws"
    }

    private static func isLowercaseLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}
