/// The kinds of object the store keeps. Policies and rulesets are separate namespaces: a
/// policy and a ruleset may share a name. Clusters are known by their ARN.
public enum ObjectKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case policy
    case ruleset
    case cluster

    public var description: String { rawValue }
}
