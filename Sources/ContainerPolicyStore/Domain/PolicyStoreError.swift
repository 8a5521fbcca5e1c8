import SQLiteCore

/// Every way an operation of the store can be refused. Each case carries what a caller
/// needs to react, and its `description` says what to fix. When an operation throws, the
/// database is as it was before the operation began.
///
/// ```swift
/// do {
///     try store.createPolicy(named: "web prod")
/// } catch .invalidName(_, let name, .space(let position)) {
///     print("\(name): no spaces (position \(position))")
/// } catch {
///     print(error)   // every case reads as a sentence
/// }
/// ```
public enum PolicyStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name breaks the product's name rules.
    case invalidName(ObjectKind, name: String, NameProblem)
    /// Another object of this kind already has the name, ignoring letter case.
    case nameTaken(ObjectKind, name: String, existing: String)
    /// No object of this kind has the name.
    case notFound(ObjectKind, name: String)
    /// The object changed since the caller read it.
    case revisionConflict(ObjectKind, name: String, expected: Int, actual: Int)
    /// The ruleset is still linked to these policies.
    case rulesetInUse(ruleset: String, policies: [String])
    /// The policy is assigned to these clusters (their ARNs), so it cannot be deleted.
    case policyAssigned(policy: String, clusters: [String])
    /// The cluster ARN is malformed.
    case invalidClusterARN(String, ClusterARNProblem)
    /// Who the changes are to be recorded as (`StoreOptions.actor`, `write(actor:)`) cannot
    /// be shown safely in the history.
    case invalidActor(String, ActorProblem)
    /// The revision is not in the history of the life `life` of the name (the sequence of the
    /// `create` that began it); `livesWithRevision` are the lives that have it.
    case unknownRevision(ObjectKind, name: String, revision: Int, life: Int, livesWithRevision: [Int])
    /// The change `life` did not begin a life of the name; `lives` are the changes that did.
    case unknownLife(ObjectKind, name: String, life: Int, lives: [Int])
    /// Restoring the policy to a revision needs a ruleset that no longer exists.
    case restoreNeedsRuleset(policy: String, revision: Int, ruleset: String)
    /// The request uses a part of the product that Amazon ECS policies do not have.
    case unsupportedOnAmazonECS(UnsupportedFeature, detail: String)
    /// A rule of a ruleset is malformed or repeated.
    case invalidRule(ruleset: String, ruleID: String, RuleProblem)
    /// The store holds a managed-rule catalogue, and it has no rule of this ID: the IDs it has
    /// that are closest to it (by edit distance on the digits) come with it.
    case unknownManagedRule(ruleset: String, ruleID: String, closest: [String])
    /// The catalogue holds no rule of this ID (the closest it holds come with it; none when it
    /// is empty).
    case managedRuleNotFound(id: String, closest: [String])
    /// The catalogue to import lacks rules that rulesets apply: nothing was imported.
    case catalogueLacksRulesInUse([RuleUsage])
    /// The managed-rule list (the API's JSON) cannot be read as a catalogue; every problem,
    /// each with its path.
    case invalidCatalogue([DocumentProblem])
    /// The description cannot be stored.
    case invalidDescription(ObjectKind, name: String, DescriptionProblem)
    /// The object holds stored values that break the product's rules (see
    /// ``StoredDamage``): it cannot be exported or changed until they are repaired, and it
    /// may be deleted.
    case damagedData(ObjectKind, name: String, [StoredDamage])
    /// A policy document (JSON) that cannot be imported; every problem, each with its path.
    case invalidDocument([DocumentProblem])
    /// A record of a sync with a remote tenant holds a value the store cannot keep (see
    /// ``SyncRecord/problem()``); nothing was written.
    case invalidSyncRecord(ObjectKind, name: String, field: SyncRecord.Field, value: String, problem: String)
    /// An import given the fingerprint of an approved plan, when the plan is now another (the
    /// store or the document changed since): nothing was written; `plan` is the plan now.
    case planChanged(expected: String, plan: ImportPlan)
    /// A file the store was asked to write (an export) could not be written.
    case cannotWriteFile(path: String, reason: String)
    /// A page size outside `1...PageRules.maximumSize`.
    case invalidPageSize(Int)
    /// A ``StoreTransaction`` was used after the closure it was handed to had returned. It
    /// did not touch the database.
    case transactionEnded
    /// An operation inside `write` after SQLite had already rolled the whole transaction
    /// back on an earlier error (a full disk): going on would write outside any transaction.
    case transactionRolledBack
    /// The store was called from inside one of its own `read` or `write` closures (or one of
    /// another store on the same file), which would wait for itself.
    case reentrantCall
    /// The store was closed with ``PolicyStore/close()``.
    case storeClosed(path: String)
    /// The task running the transaction was cancelled: the transaction rolls back. Seen only
    /// inside the closure of an async `read` or `write`; the async call itself throws
    /// `CancellationError`.
    case cancelled
    /// There is no database at the path, and the store was told not to create one.
    case databaseNotFound(path: String)
    /// The file is not a database this library can use.
    case incompatibleDatabase(path: String, DatabaseProblem)
    /// The database file or its folder cannot be written.
    case readOnlyDatabase(path: String, SQLiteError)
    /// No space is left on the disk that holds the database.
    case diskFull(path: String, SQLiteError)
    /// Another connection held the database longer than the busy timeout.
    case busy(SQLiteError)
    /// SQLite failed in a way the store does not expect (a full disk, an I/O error).
    case sqlite(SQLiteError)

    /// The problems of a refused document (``invalidDocument(_:)``) or managed-rule list
    /// (``invalidCatalogue(_:)``); empty for every other error.
    ///
    /// ```swift
    /// do { _ = try PolicyDocument(json: Data("{}".utf8)) } catch { error.documentProblems.forEach { print($0.path) } }
    /// ```
    public var documentProblems: [DocumentProblem] {
        switch self {
        case .invalidDocument(let problems), .invalidCatalogue(let problems): return problems
        default: return []
        }
    }

    public var description: String {
        switch self {
        case .invalidName(let kind, let name, let problem):
            return "the \(kind) name \(quoted(name)) \(problem.explanation)"
        case .nameTaken(let kind, let name, let existing):
            let clash = existing == name ? "" : " as \(quoted(existing)) (names are unique ignoring letter case)"
            return "a \(kind) named \(quoted(name)) already exists\(clash): choose another name"
        case .notFound(let kind, let name):
            return "there is no \(kind) named \(quoted(name))"
        case .revisionConflict(let kind, let name, let expected, let actual):
            return "the \(kind) \(quoted(name)) is at revision \(actual), not \(expected): someone changed it since you read it; read it again and reapply your change"
        case .rulesetInUse(let ruleset, let policies):
            let list = policies.map(quoted).joined(separator: ", ")
            return "the ruleset \(quoted(ruleset)) is used by \(policies.count == 1 ? "policy" : "policies") \(list): remove it from \(policies.count == 1 ? "that policy" : "those policies") first"
        case .policyAssigned(let policy, let clusters):
            return "the policy \(quoted(policy)) is assigned to \(clusters.count == 1 ? "cluster" : "clusters") \(clusters.joined(separator: ", ")): you cannot delete active policies; remove the policy from all clusters before you can delete it"
        case .invalidClusterARN(let arn, let problem):
            return "\(quoted(arn)) is not an Amazon ECS cluster ARN: \(problem.explanation); write arn:<aws, aws-cn or aws-us-gov>:ecs:<region>:<12-digit account>:cluster/<name>"
        case .invalidActor(let actor, let problem):
            switch problem {
            case .tooLong(let length):
                return "the actor \(quoted(actor)) is \(length) characters long: the history keeps at most \(ActorRules.maximumLength)"
            case .disallowedCharacter(let position):
                return "the actor \(quoted(actor)) has a control, line-breaking or formatting character at position \(position): give a name without one"
            }
        case .unknownRevision(let kind, let name, let revision, let life, let lives):
            let which = life == 0 ? "its current life" : "its life since change \(life)"
            guard !lives.isEmpty else {
                return "the \(kind) \(quoted(name)) has no recorded revision \(revision) in \(which) or any other: see its history for the revisions there are"
            }
            let others = lives.map { "since change \($0)" }.joined(separator: ", ")
            return "the \(kind) \(quoted(name)) has no recorded revision \(revision) in \(which); its \(lives.count == 1 ? "life" : "lives") \(others) \(lives.count == 1 ? "has" : "have") one: name that life to restore it"
        case .unknownLife(let kind, let name, let life, let lives):
            let known = lives.isEmpty ? "the history holds no create of it" : "its lives began with the changes " + lives.map(String.init).joined(separator: ", ")
            return "change \(life) did not begin a life of the \(kind) \(quoted(name)): \(known) (the life of each change in its history)"
        case .restoreNeedsRuleset(let policy, let revision, let ruleset):
            return "revision \(revision) of policy \(quoted(policy)) uses the ruleset \(quoted(ruleset)), which no longer exists: create it again first"
        case .unsupportedOnAmazonECS(let feature, let detail):
            return "\(detail): \(feature.explanation)"
        case .invalidRule(let ruleset, let ruleID, let problem):
            switch problem {
            case .malformedID:
                return "the rule ID \(quoted(ruleID)) in ruleset \(quoted(ruleset)) is not a managed rule ID: write TM- followed by 8 digits, like TM-00000001"
            case .duplicate:
                return "the rule \(quoted(ruleID)) appears more than once in ruleset \(quoted(ruleset)): list each rule once"
            }
        case .unknownManagedRule(let ruleset, let ruleID, let closest):
            return "the rule \(quoted(ruleID)) in ruleset \(quoted(ruleset)) is not in the managed-rule catalogue: use an ID it lists"
                + (closest.isEmpty ? "" : "; the closest are \(closest.joined(separator: ", "))")
        case .managedRuleNotFound(let id, let closest):
            return closest.isEmpty
                ? "there is no managed rule \(quoted(id)): the store holds no managed-rule catalogue; import the product's list first"
                : "there is no managed rule \(quoted(id)) in the catalogue; the closest are \(closest.joined(separator: ", "))"
        case .catalogueLacksRulesInUse(let usages):
            let list = usages.map { usage in
                "\(usage.ruleID) (\(usage.rulesets.count == 1 ? "ruleset" : "rulesets") \(usage.rulesets.map(quoted).joined(separator: ", ")))"
            }.joined(separator: ", ")
            let them = usages.count == 1 ? "it" : "them"
            return "the managed-rule list lacks \(usages.count == 1 ? "a rule" : "rules") that rulesets apply, \(list): nothing was imported; remove \(them) from those rulesets first, or import a list that holds \(them)"
        case .invalidCatalogue(let problems):
            let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
            return "the managed-rule list has \(count); fix \(problems.count == 1 ? "it" : "them") and try again:\n"
                + problems.map { "  \($0)" }.joined(separator: "\n")
        case .invalidDescription(let kind, let name, let problem):
            return "the description of \(kind) \(quoted(name)) \(problem.explanation)"
        case .damagedData(let kind, let name, let damage):
            return "the \(kind) \(quoted(name)) holds stored values that break the product's rules (\(damage.map(\.description).joined(separator: "; "))): repair them in the sqlite3 shell, or delete the \(kind) and create it again"
        case .planChanged(let expected, let plan):
            return "the plan is no longer the approved one (\(expected)): the store or the document changed since; nothing was written. The plan is now \(plan.fingerprint):\n"
                + plan.description.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
                + "\nreview it and approve the new fingerprint, or update the document"
        case .invalidDocument(let problems):
            let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
            return "the document has \(count); fix \(problems.count == 1 ? "it" : "them") and try again:\n"
                + problems.map { "  \($0)" }.joined(separator: "\n")
        case .invalidSyncRecord(let kind, let name, let field, let value, let problem):
            return "cannot record the sync of \(kind) \(quoted(name)): its \(field.rawValue) \(quoted(value)) \(problem)"
        case .cannotWriteFile(let path, let reason):
            return "cannot write \(path) (\(reason)): check the folder exists and can be written"
        case .invalidPageSize(let size):
            return "a page holds 1 to \(PageRules.maximumSize) items, not \(size)"
        case .transactionEnded:
            return "a transaction was used after its read or write closure had returned: do all of its work inside the closure"
        case .transactionRolledBack:
            return "the transaction was rolled back after an earlier error; let the write closure throw instead of going on"
        case .reentrantCall:
            return "the store was called from inside one of its own read or write closures: use the closure's transaction instead"
        case .storeClosed(let path):
            return "the store of \(path) was closed: open a new PolicyStore to use the file again"
        case .cancelled:
            return "the task was cancelled: the transaction rolls back"
        case .databaseNotFound(let path):
            return "there is no database at \(path)"
        case .incompatibleDatabase(let path, let problem):
            return "cannot use \(path.isEmpty ? "the database path" : path): \(problem.explanation)"
        case .readOnlyDatabase(let path, let error):
            return "cannot write to \(path) (\(error.message)): check the permissions of the file and of its folder"
        case .diskFull(let path, let error):
            return "no space is left on the disk that holds \(path) (\(error.message)): free some space and try again; nothing was written"
        case .busy(let error):
            return "the database is busy (\(error.message)): another program held it longer than the busy timeout; try again, or raise the timeout"
        case .sqlite(let error):
            return error.description
        }
    }
}

extension NameProblem {
    var explanation: String {
        switch self {
        case .empty:
            return "is empty: give a name of 1 to \(NameRules.maximumLength) letters, digits, '_' or '.'"
        case .tooLong(let length):
            return "is \(length) characters long: the limit is \(NameRules.maximumLength)"
        case .space(let position):
            return "contains a space at position \(position): names cannot contain spaces; use '_' or '.' instead"
        case .disallowedCharacter(let character, let position):
            return "contains \(describe(character)) at position \(position): only ASCII letters, digits, '_' and '.' are allowed"
        }
    }
}

extension DescriptionProblem {
    var explanation: String {
        switch self {
        case .tooLong(let length):
            return "is \(length) characters long: shorten it to at most \(DescriptionRules.maximumLength)"
        case .containsNUL:
            return "contains a NUL character: remove it"
        case .controlCharacter(let position):
            return "contains a control character at position \(position): only tab, line feed and carriage return are allowed"
        case .replacementCharacter(let position):
            return "contains U+FFFD, U+FFFE or U+FFFF at position \(position), which stand for text that was not valid: remove it"
        }
    }
}

extension ClusterARNProblem {
    var explanation: String {
        switch self {
        case .notAnECSClusterARN:
            return "it is not arn:<partition>:ecs:<region>:<account>:cluster/<name>"
        case .unknownPartition(let partition):
            return "the partition \(quoted(partition)) is not aws, aws-cn or aws-us-gov"
        case .malformedRegion:
            return "the region is not like us-east-1, cn-north-1 or us-gov-west-1"
        case .regionOutsidePartition(let region, let partition):
            return "the region \(region) is not in the partition \(partition) (cn-* regions are in aws-cn, us-gov-* in aws-us-gov, the others in aws)"
        case .malformedAccount:
            return "the account is not 12 digits"
        case .malformedClusterName:
            return "the cluster name must be 1 to \(ClusterARNRules.maximumNameLength) ASCII letters, digits, '-' or '_'"
        }
    }
}

extension UnsupportedFeature {
    var explanation: String {
        switch self {
        case .deploymentRules:
            return "Amazon ECS policies do not support Deployment policies (default.rules); remove them"
        case .exceptions:
            return "Amazon ECS policies do not support Continuous policies and their exceptions (default.exceptions); remove them"
        case .namespacedPolicies:
            return "Amazon ECS policies do not support namespaced policy definitions (namespaced); remove them"
        case .rulesetLabels:
            return "labels are only supported on Kubernetes clusters and have no effect on Amazon ECS clusters; remove them"
        }
    }
}

/// A name as it can be shown in a message, whatever it contains: in double quotes, with every
/// control, format (bidi overrides) and line or paragraph separator written as `\u{…}`, so no
/// message can move a terminal's cursor or reorder what it shows. The Vision One sync quotes
/// remote names with it too.
package func quoted(_ text: String) -> String {
    "\"" + escaped(text) + "\""
}

/// `text` with the characters ``quoted(_:)`` escapes written as `\u{…}`, and `"` and `\`
/// behind a backslash, without the quotes: for an id or a server's text in a message.
package func escaped(_ text: String) -> String {
    replacingScalars(in: text) { scalar in
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default:
            return scalar == "\"" || scalar == "\\" ? "\\" + String(scalar) : nil
        }
    }
}

/// `text` with each scalar for which `replacement` gives a text written as that text, and
/// the others as they are: the one walk of every escaping the library writes.
func replacingScalars(in text: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        if let replaced = replacement(scalar) { result += replaced } else { result.unicodeScalars.append(scalar) }
    }
    return result
}

private func describe(_ character: Character) -> String {
    let scalars = character.unicodeScalars
    if scalars.count == 1, let scalar = scalars.first, scalar.isASCII, scalar.properties.isGraphemeBase {
        return "'\(character)'"
    }
    let codes = scalars.map { "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(to: 4) }
    return "the character \(codes.joined(separator: " "))"
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
