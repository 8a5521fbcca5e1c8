import ArgumentParser
import ContainerPolicyStore

/// A kind of object as policyctl's commands handle it: what `delete`, `list` and `history`
/// need, so that one command serves policies and rulesets.
protocol ListedObject: StoredObject, Encodable {
    /// `policies`, `rulesets`.
    static var plural: String { get }
    /// What `delete` says beyond "Delete a policy".
    static var deletion: String { get }
    /// What `duplicate` copies, and how.
    static var duplication: String { get }
    /// What a listing shows of each.
    static var listedFields: String { get }
    static func table() -> any ListOutput<Self>
    static func history(of name: String, after: Int) -> StoreOperation<[Change]>
}

extension ListedObject {
    static var kind: ObjectKind { Content.kind }
}

extension Policy: ListedObject {
    static var plural: String { "policies" }
    static var deletion: String { "; its rulesets stay. Refused while a cluster uses it." }
    static var duplication: String { "its description, XDR setting and rulesets (linked, not copied)" }
    static var listedFields: String { "description, XDR setting and rulesets" }
    static func table() -> any ListOutput<Policy> { PolicyTable() }
    static func history(of name: String, after: Int) -> StoreOperation<[Change]> { .history(ofPolicy: name, after: after, limit: listPageSize) }
}

extension Ruleset: ListedObject {
    static var plural: String { "rulesets" }
    static var deletion: String { "; refused while a policy uses it." }
    static var duplication: String { "its description and rules" }
    static var listedFields: String { "description and rules" }
    static func table() -> any ListOutput<Ruleset> { RulesetTable() }
    static func history(of name: String, after: Int) -> StoreOperation<[Change]> { .history(ofRuleset: name, after: after, limit: listPageSize) }
}

/// `policy duplicate`, `ruleset duplicate`.
struct DuplicateCommand<Object: ListedObject>: PolicyctlCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "duplicate", abstract: "Copy a \(Object.kind): \(Object.duplication).")
    }

    @OptionGroup var database: DatabaseOption
    @Argument(help: ArgumentHelp("The \(Object.kind) to copy."))
    var name: String
    @Option(
        name: .customLong("as"),
        help: ArgumentHelp("The copy's name (default: the name with '\(Object.storage.copySuffix)' appended).", valueName: "name"))
    var newName: String?

    func run() throws {
        let store = try database.existingStore()
        let copy = try exitOnRefusal { try store.perform(.duplicate(Object.self, named: name, as: newName)) }
        try StandardOutput.line(Report.duplicated(Object.kind, name: name, copy: copy.name))
    }
}

/// `policy delete`, `ruleset delete`.
struct DeleteCommand<Object: ListedObject>: PolicyctlCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "delete", abstract: "Delete a \(Object.kind)\(Object.deletion)")
    }

    @OptionGroup var database: DatabaseOption
    @Argument(help: ArgumentHelp("The \(Object.kind) to delete."))
    var name: String

    func run() throws {
        let store = try database.existingStore()
        try exitOnRefusal { try store.perform(.delete(Object.self, named: name)) }
        try StandardOutput.line(Report.deleted(Object.kind, name: name))
    }
}

/// `policy list`, `ruleset list`: the library's pages, as a table or as JSON.
struct ListCommand<Object: ListedObject>: PolicyctlCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "list", abstract: "List the \(Object.plural) by name, each with its \(Object.listedFields).")
    }

    @OptionGroup var database: DatabaseOption
    @Flag(help: "Print JSON (see Docs/cli.md).")
    var json = false

    func run() throws {
        let store = try database.readingStore()
        let output: any ListOutput<Object> = json ? JSONList<Object>(key: Object.plural) : Object.table()
        try printListing(output, name: \.name) { after, limit in try store.perform(.list(Object.self, after: after, limit: limit)) }
    }
}

/// `policy history`, `ruleset history`; `--follow` goes on with the changes to come.
struct HistoryCommand<Object: ListedObject>: PolicyctlCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "history",
            abstract: "Show every recorded change to a \(Object.kind), oldest first, with who made it.",
            discussion: historyHelp(earlier: Object.plural))
    }

    @OptionGroup var database: DatabaseOption
    @Argument(help: ArgumentHelp("The \(Object.kind)."))
    var name: String
    @Flag(help: "Print JSON (see Docs/cli.md); with --follow, one JSON object per line.")
    var json = false
    @OptionGroup var following: FollowOptions

    func run() throws {
        let store = try database.readingStore()
        try printHistory(of: Object.kind, named: name, json: json, following: following, store: store) { after in
            try store.perform(Object.history(of: name, after: after))
        }
    }
}
