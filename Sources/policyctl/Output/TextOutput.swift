import ContainerPolicyStore

/// The one-line reports of the commands that write.
enum Report {
    static func created(_ kind: ObjectKind, name: String) -> String {
        "Created \(kind) \(name)."
    }

    static func duplicated(_ kind: ObjectKind, name: String, copy: String) -> String {
        "Duplicated \(kind) \(name) as \(copy)."
    }

    static func modified(_ kind: ObjectKind, name: String, revision: Int) -> String {
        "Modified \(kind) \(name): now at revision \(revision)."
    }

    static func deleted(_ kind: ObjectKind, name: String) -> String {
        "Deleted \(kind) \(name)."
    }
}

/// The policy list as the console shows it: each name with its description under it, the
/// XDR Telemetry setting and the rulesets.
struct PolicyTable: ListOutput {
    func printPage(_ page: [Policy], first: Bool) {
        printTable(
            page, header: first ? ["NAME", "XDR", "RULESETS"] : nil,
            columns: { [$0.name, XDRSetting($0.xdrEnabled).rawValue, listed($0.rulesets)] },
            description: \.description)
    }

    func finish(empty: Bool) {
        if empty { print("No policies.") }
    }
}

/// The ruleset list: each name with its description under it, and its rules.
struct RulesetTable: ListOutput {
    func printPage(_ page: [Ruleset], first: Bool) {
        printTable(
            page, header: first ? ["NAME", "RULES"] : nil,
            columns: { [$0.name, listed($0.rules.map(ruleArgument))] },
            description: \.description)
    }

    func finish(empty: Bool) {
        if empty { print("No rulesets.") }
    }
}

/// `policy show` without `--json`.
enum PolicyDetails {
    static func text(_ policy: Policy) -> String {
        fields([
            ("Policy", policy.name),
            ("Description", policy.description),
            ("XDR Telemetry", XDRSetting(policy.xdrEnabled).rawValue),
            ("Rulesets", listed(policy.rulesets)),
            ("Revision", String(policy.revision)),
            ("Created", utcTimestamp(policy.createdAt)),
            ("Updated", utcTimestamp(policy.updatedAt)),
            ("Rulesets updated", utcTimestamp(policy.rulesetsUpdatedAt)),
        ])
    }
}

/// `ruleset show` without `--json`.
enum RulesetDetails {
    static func text(_ ruleset: Ruleset, usedBy policies: [String]) -> String {
        fields([
            ("Ruleset", ruleset.name),
            ("Description", ruleset.description),
            ("Rules", ruleset.rules.isEmpty ? listed([]) : ruleset.rules.map(ruleArgument).joined(separator: "\n")),
            ("Used by", listed(policies)),
            ("Revision", String(ruleset.revision)),
            ("Created", utcTimestamp(ruleset.createdAt)),
            ("Updated", utcTimestamp(ruleset.updatedAt)),
        ])
    }
}

/// Names joined with commas, or `-` for none.
private func listed(_ names: [String]) -> String {
    names.isEmpty ? "-" : names.joined(separator: ", ")
}

/// Rows of left-aligned columns, each followed by its description (when there is one)
/// indented on the lines below. Columns are as wide as their widest value in this page.
private func printTable<Row>(
    _ rows: [Row], header: [String]?, columns: (Row) -> [String], description: (Row) -> String
) {
    guard !rows.isEmpty else { return }
    let cells = rows.map(columns)
    var widths = Array(repeating: 0, count: cells[0].count)
    for line in cells + [header ?? []] {
        for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    func render(_ line: [String]) -> String {
        line.enumerated().map { index, cell in
            index == line.count - 1 ? cell : padded(cell, to: widths[index] + 2)
        }.joined()
    }
    if let header { print(render(header)) }
    for (row, line) in zip(rows, cells) {
        print(render(line))
        let text = description(row)
        if !text.isEmpty { print(indented(text, by: 2, first: true)) }
    }
}

/// Label/value lines with the values in one column; a multi-line value keeps that column.
private func fields(_ pairs: [(label: String, value: String)]) -> String {
    let width = pairs.map(\.label.count).max() ?? 0
    return pairs.map { pair in
        padded(pair.label, to: width + 2) + indented(pair.value, by: width + 2, first: false)
    }.joined(separator: "\n")
}

/// Indents every line of `text` (but the first when `first` is false) by `count` spaces.
private func indented(_ text: String, by count: Int, first: Bool) -> String {
    let margin = String(repeating: " ", count: count)
    return text.split(separator: "\n", omittingEmptySubsequences: false)
        .enumerated()
        .map { index, line in index == 0 && !first ? String(line) : margin + line }
        .joined(separator: "\n")
}

private func padded(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}
