import ContainerPolicyStore
import ContainerPolicySync

/// What to do next, in policyctl's own words: the library's messages say what is wrong in
/// terms any program linking it can use, and policyctl adds the command that helps.
func advice(for error: any Error) -> String? {
    switch error {
    case PolicyStoreError.notFound(let kind, _) where kind != .cluster:
        return "see 'policyctl \(kind) list'"
    case PolicyStoreError.managedRuleNotFound(_, let closest) where closest.isEmpty:
        return "import the catalogue with 'policyctl rules import FILE'"
    case PolicyStoreError.unknownManagedRule, PolicyStoreError.managedRuleNotFound:
        return "see 'policyctl rules list'"
    case PolicyStoreError.catalogueLacksRulesInUse:
        return "remove a rule with 'policyctl ruleset modify NAME --remove-rule ID'"
    case PolicyStoreError.databaseNotFound:
        return "create it with a command that writes (policy create, ruleset create, rules import, import, remote pull or demo), or give the right --db path"
    case PolicyStoreError.incompatibleDatabase(_, .notADatabase):
        return "point --db at a policy database, or at a path where none exists yet"
    case PolicyStoreError.incompatibleDatabase(_, .damaged):
        return "'policyctl check' lists what it finds"
    case PolicyStoreError.incompatibleDatabase(_, .alteredSchema):
        return "'policyctl check' lists the changes"
    case SyncError.stepFailed(_, let done, _), SyncError.changedSincePlan(_, let done, _, _),
         SyncError.missingRulesetID(_, let done, _):
        let before = done == 0 ? "no step was done" : "the \(done) step\(done == 1 ? "" : "s") before it \(done == 1 ? "is" : "are") done and recorded"
        return "\(before); run 'policyctl remote plan' to see what is left"
    case SyncError.recordNotSaved:
        return "run 'policyctl remote plan' to see what is left"
    case SyncError.refused:
        return "see them with 'policyctl remote plan'"
    case SyncError.remote(let error) where error.kind == .timedOut:
        return "--timeout SECONDS waits longer"
    default:
        return nil
    }
}
