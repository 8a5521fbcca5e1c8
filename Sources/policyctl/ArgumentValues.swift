import ArgumentParser
import ContainerPolicyStore

/// The value of `--xdr`: the console's "XDR Telemetry" switch.
enum XDRSetting: String, CaseIterable, ExpressibleByArgument {
    case on
    case off

    var isEnabled: Bool { self == .on }
}

/// Reads a `--rule` / `--add-rule` value, `ID[:MITIGATION]` (`TM-00000001:terminate`; the
/// library's default mitigation when there is none). Only the mitigation is checked here,
/// because only a known one can be represented; the library judges the rule ID.
@Sendable
func parseRule(_ argument: String) throws -> RuleReference {
    let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let id = String(parts[0])
    guard parts.count == 2 else { return RuleReference(id: id) }
    guard let mitigation = Mitigation(rawValue: String(parts[1])) else {
        let choices = Mitigation.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("'\(parts[1])' is not a mitigation: use one of \(choices)")
    }
    return RuleReference(id: id, mitigation: mitigation)
}

/// How a rule is written on the command line, `TM-00000001:terminate`.
func ruleArgument(_ rule: RuleReference) -> String {
    "\(rule.id):\(rule.mitigation)"
}
