import ContainerPolicyStore

/// `policy history`, `ruleset history` and `cluster history`: prints the recorded changes to
/// one object, oldest first, read page by page. The library refuses a name with neither
/// changes nor an object as not found; an object with no changes (made before the database
/// kept a history) has an empty history.
func printHistory(of kind: ObjectKind, named name: String, json: Bool, page: (_ after: Int) throws -> [Change]) throws {
    let changes = try exitOnRefusal {
        var changes: [Change] = []
        var next = try page(0)
        changes += next
        while next.count == listPageSize, let last = next.last {
            next = try page(last.sequence)
            changes += next
        }
        return changes
    }
    if json {
        try StandardOutput.write(ProductJSON.data(["changes": changes]))
    } else if changes.isEmpty {
        try StandardOutput.line("No recorded changes to \(kind) \(terminalSafe(name)).")
    } else {
        try printHistoryTable(changes)
    }
}

/// The discussion in the help of `policy history` and `ruleset history`.
func historyHelp(earlier plural: String) -> String {
    """
    Includes the changes to earlier \(plural) of that name that were deleted. An ACTOR of - \
    is unknown: a change made outside the library (in the sqlite3 shell, say) or with \
    --actor ''.
    """
}
