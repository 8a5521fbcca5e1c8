import ArgumentParser
import ContainerPolicyStore
import Foundation

/// The one-line reports of the commands that write; every name in them is made safe for a
/// terminal.
enum Report {
    static func created(_ kind: ObjectKind, name: String) -> String {
        "Created \(kind) \(terminalSafe(name))."
    }

    static func duplicated(_ kind: ObjectKind, name: String, copy: String) -> String {
        "Duplicated \(kind) \(terminalSafe(name)) as \(terminalSafe(copy))."
    }

    static func modified(_ kind: ObjectKind, name: String, revision: Int) -> String {
        "Modified \(kind) \(terminalSafe(name)): now at revision \(revision)."
    }

    /// A modify that found the object already as asked: the library wrote nothing.
    static func unchanged(_ kind: ObjectKind, name: String, revision: Int) -> String {
        "No change: \(kind) \(terminalSafe(name)) is already as asked; it stays at revision \(revision)."
    }

    static func deleted(_ kind: ObjectKind, name: String) -> String {
        "Deleted \(kind) \(terminalSafe(name))."
    }

    /// `life` is the change that began an earlier life the revision was taken from.
    static func restored(policy: Policy, from revision: Int, life: Int?) -> String {
        "Restored policy \(terminalSafe(policy.name)) to revision \(revision)\(ofLife(life)): now at revision \(policy.revision)."
    }

    static func alreadyRestored(policy: Policy, to revision: Int, life: Int?) -> String {
        "No change: policy \(terminalSafe(policy.name)) is already as it was at revision \(revision)\(ofLife(life)); it stays at revision \(policy.revision)."
    }

    private static func ofLife(_ life: Int?) -> String {
        life.map { " of its life since change \($0)" } ?? ""
    }

    static func assigned(_ cluster: Cluster) -> String {
        "Assigned policy \(terminalSafe(cluster.policy ?? "-")) to cluster \(terminalSafe(cluster.arn))."
    }

    static func alreadyAssigned(_ cluster: Cluster) -> String {
        "No change: cluster \(terminalSafe(cluster.arn)) already uses policy \(terminalSafe(cluster.policy ?? "-"))."
    }

    static func unassigned(_ cluster: Cluster) -> String {
        "Cluster \(terminalSafe(cluster.arn)) has no policy now."
    }

    static func alreadyUnassigned(_ cluster: Cluster) -> String {
        "No change: cluster \(terminalSafe(cluster.arn)) has no policy already."
    }
}

/// The policy list as the console shows it: each name with its description under it, its
/// other fields (the XDR Telemetry setting) and the rulesets.
struct PolicyTable: ListOutput {
    func printPage(_ page: [Policy], first: Bool) throws(ExitCode) {
        try printTable(
            page, header: first ? ["NAME"] + FieldText.headers(PolicyContent.self) + ["RULESETS"] : nil,
            columns: { [$0.name + damagedMark($0.damage)] + FieldText.cells($0.content) + [listed($0.rulesets)] },
            description: { FieldText.underTheName($0.content) })
    }

    func finish(empty: Bool) throws(ExitCode) {
        if empty { try StandardOutput.line("No policies.") }
    }
}

/// The ruleset list: each name with its description under it, its other fields, and its
/// rules.
struct RulesetTable: ListOutput {
    func printPage(_ page: [Ruleset], first: Bool) throws(ExitCode) {
        try printTable(
            page, header: first ? ["NAME"] + FieldText.headers(RulesetContent.self) + ["RULES"] : nil,
            columns: { [$0.name + damagedMark($0.damage)] + FieldText.cells($0.content) + [listed($0.rules.map(ruleArgument))] },
            description: { FieldText.underTheName($0.content) })
    }

    func finish(empty: Bool) throws(ExitCode) {
        if empty { try StandardOutput.line("No rulesets.") }
    }
}

/// The cluster list: each ARN and its policy.
struct ClusterTable: ListOutput {
    func printPage(_ page: [Cluster], first: Bool) throws(ExitCode) {
        try printTable(page, header: first ? ["ARN", "POLICY"] : nil, columns: { [$0.arn, $0.policy ?? "-"] })
    }

    func finish(empty: Bool) throws(ExitCode) {
        if empty { try StandardOutput.line("No clusters.") }
    }
}

/// `policy show` without `--json`, with the ARNs of the clusters the policy is assigned to.
/// With a catalogue (`ruleNames`), the rules of its rulesets too, each with its name.
enum PolicyDetails {
    static func text(_ policy: Policy, clusters: [String], ruleNames: [String: String]?) -> String {
        let rules = ruleNames.map { names in [("Rules", lines(names.keys.sorted().map { "\($0)  \(names[$0] ?? "")" }))] } ?? []
        return fields([("Policy", [policy.name])] + FieldText.details(policy.content) + [
            ("Rulesets", [listed(policy.rulesets)]),
        ] + rules + [
            ("Clusters", lines(clusters)),
            ("Revision", [String(policy.revision)]),
            ("Created", [Timestamp.text(from: policy.createdAt)]),
            ("Updated", [Timestamp.text(from: policy.updatedAt)]),
            ("Rulesets updated", [Timestamp.text(from: policy.rulesetsUpdatedAt)]),
        ] + damageField(policy.damage))
    }
}

/// `ruleset show` without `--json`; with a catalogue (`ruleNames`), each rule with its name.
enum RulesetDetails {
    static func text(_ ruleset: Ruleset, usedBy policies: [String], ruleNames: [String: String]?) -> String {
        fields([("Ruleset", [ruleset.name])] + FieldText.details(ruleset.content) + [
            ("Rules", lines(namedRules(ruleset.rules, ruleNames))),
            ("Used by", [listed(policies)]),
            ("Revision", [String(ruleset.revision)]),
            ("Created", [Timestamp.text(from: ruleset.createdAt)]),
            ("Updated", [Timestamp.text(from: ruleset.updatedAt)]),
        ] + damageField(ruleset.damage))
    }
}

/// The managed-rule catalogue's list: each ID, its ATT&CK techniques and its name.
struct ManagedRuleTable: ListOutput {
    func printPage(_ page: [ManagedRule], first: Bool) throws(ExitCode) {
        try printTable(
            page, header: first ? ["ID", "TECHNIQUES", "NAME"] : nil,
            columns: { [$0.id, listed($0.techniques), $0.name + damagedMark($0.damage)] })
    }

    func finish(empty: Bool) throws(ExitCode) {
        if empty { try StandardOutput.line("No managed rules: no catalogue was imported (see 'policyctl rules import').") }
    }
}

/// `rules show` without `--json`.
enum ManagedRuleDetails {
    static func text(_ rule: ManagedRule, usedBy rulesets: [String]) -> String {
        fields([
            ("Rule", [rule.id]),
            ("Name", [rule.name]),
            ("Description", textLines(rule.description)),
            ("Techniques", [listed(rule.techniques)]),
            ("Used by", [listed(rulesets)]),
            ("Imported", [rule.importedAt.map(Timestamp.text(from:)) ?? "-"]),
            ("Other fields", [rule.otherFields]),
        ] + damageField(rule.damage))
    }
}

/// A ruleset's rules as the command line writes them, each followed by the catalogue's name
/// for it when there is a catalogue, in a column of their own.
private func namedRules(_ rules: [RuleReference], _ names: [String: String]?) -> [String] {
    let arguments = rules.map(ruleArgument)
    guard let names else { return arguments }
    let width = arguments.map(\.count).max() ?? 0
    return zip(rules, arguments).map { rule, argument in
        padded(argument, to: width + 2) + (names[rule.id] ?? "(not in the managed-rule catalogue)")
    }
}

/// ` (damaged)` after the name of an object that holds stored values breaking the product's
/// rules (`show` lists them): its other columns may not be all that is stored.
private func damagedMark(_ damage: [StoredDamage]) -> String {
    damage.isEmpty ? "" : " (damaged)"
}

/// Stored values that break the product's rules, one per line, when there are any: shown
/// as they are, so the values above them are not taken for what is stored.
private func damageField(_ damage: [StoredDamage]) -> [(String, [String])] {
    damage.isEmpty ? [] : [("Damaged", lines(damage.map(\.description)))]
}

/// `policy history` and `ruleset history` without `--json`: one row per change, oldest first.
/// Every cell is made safe for a terminal, the actor's above all.
func printHistoryTable(_ changes: [Change]) throws {
    let rows = changes.map { change in
        [
            String(change.sequence), Timestamp.text(from: change.changedAt), change.action.rawValue,
            String(change.revision), actorShown(change), changeSummary(change),
        ]
    }
    try printTable(rows, header: ["SEQUENCE", "TIME", "ACTION", "REVISION", "ACTOR", "CHANGES"], columns: { $0 })
}

/// A page of the history of every object (`policyctl history`): the table of one object's
/// history with the kind and the name of each change's object; the header only on the first
/// page.
func printStoreHistoryPage(_ changes: [Change], first: Bool) throws {
    let rows = changes.map { change in
        [
            String(change.sequence), Timestamp.text(from: change.changedAt), change.kind.rawValue, change.name,
            change.action.rawValue, String(change.revision), actorShown(change), changeSummary(change),
        ]
    }
    try printTable(
        rows, header: first ? ["SEQUENCE", "TIME", "KIND", "NAME", "ACTION", "REVISION", "ACTOR", "CHANGES"] : nil,
        columns: { $0 })
}

/// One change on a line of its own, as `history --follow` prints them as they come: the
/// history table's values, two spaces apart, with the revision and the actor labelled (a
/// line has no header); for a cluster, the policy instead of the revision and the summary.
func historyLine(_ change: Change) -> String {
    let which = [String(change.sequence), Timestamp.text(from: change.changedAt), change.kind.rawValue + " " + change.name]
    // A cluster has no revision, and what changed is the policy it was given or lost.
    let what =
        change.kind == .cluster && change.damage.isEmpty
        ? ["policy " + (change.policy ?? "-"), "by " + actorShown(change)]
        : ["revision \(change.revision)", "by " + actorShown(change), changeSummary(change)]
    return (which + [change.action.rawValue] + what).map(terminalSafe).joined(separator: "  ")
}

/// `-` for an unknown actor: a change made outside the library, or with `--actor ''`.
private func actorShown(_ change: Change) -> String {
    change.actor.isEmpty ? "-" : change.actor
}

/// What a change did, in the library's words for a change (those of the import plan too);
/// `-` for a delete, whose action says it all.
private func changeSummary(_ change: Change) -> String {
    // A row another program damaged is shown as damaged, not read as something it is not.
    guard change.damage.isEmpty else { return "damaged: " + change.damage.map(\.description).joined(separator: "; ") }
    if change.kind == .cluster { return "policy \(change.policy ?? "-"), cluster \(change.name)" }
    let restored = change.restoredRevision.map { "revision \($0)" }
    guard let changes = change.changes, !changes.isEmpty else { return restored ?? "-" }
    return [restored, changes.description].compactMap { $0 }.joined(separator: ": ")
}

/// Names joined with commas, or `-` for none.
private func listed(_ names: [String]) -> String {
    names.isEmpty ? "-" : names.joined(separator: ", ")
}

/// Values one per line, for those too long to share one; `-` for none.
private func lines(_ values: [String]) -> [String] {
    values.isEmpty ? ["-"] : values
}

/// Rows of left-aligned columns, each followed by its description (when there is one)
/// indented on the line below. Columns are as wide as their widest value in this page.
///
/// Every cell and description is made safe for a terminal; a description's line feeds are
/// shown as `\n`, so that each row is one line in column 0, with at most one indented line
/// under it, and nothing a value holds can pass for a row.
private func printTable<Row>(
    _ rows: [Row], header: [String]?, columns: (Row) -> [String], description: (Row) -> String = { _ in "" }
) throws(ExitCode) {
    guard !rows.isEmpty else { return }
    let cells = rows.map { columns($0).map(terminalSafe) }
    var widths = Array(repeating: 0, count: cells[0].count)
    for line in cells + [header ?? []] {
        for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    func render(_ line: [String]) -> String {
        line.enumerated().map { index, cell in
            index == line.count - 1 ? cell : padded(cell, to: widths[index] + 2)
        }.joined()
    }
    var text = ""
    if let header { text += render(header) + "\n" }
    for (row, line) in zip(rows, cells) {
        text += render(line) + "\n"
        let description = description(row)
        if !description.isEmpty { text += "  " + terminalSafe(description) + "\n" }
    }
    try StandardOutput.write(text)
}

/// Label/value lines with the values in one column; the lines of a multi-line value keep
/// that column, indented, so that none of them can pass for a label. Each line is made safe
/// for a terminal.
private func fields(_ pairs: [(label: String, lines: [String])]) -> String {
    let width = pairs.map(\.label.count).max() ?? 0
    let margin = String(repeating: " ", count: width + 2)
    return pairs.map { pair in
        padded(pair.label, to: width + 2) + pair.lines.map(terminalSafe).joined(separator: "\n" + margin)
    }.joined(separator: "\n")
}

private func padded(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}
