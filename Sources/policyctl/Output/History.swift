import ContainerPolicyStore

/// `policy history`, `ruleset history` and `cluster history`: prints the recorded changes to
/// one object, oldest first, read page by page from `--from` on, or follows them (`--follow`).
/// The library refuses a name with neither changes nor an object as not found (on the first
/// page, which is read for that when the output starts later); an object with no changes
/// (made before the database kept a history) has an empty history.
func printHistory(
    of kind: ObjectKind, named name: String, json: Bool, following: FollowOptions, store: PolicyStore,
    page: (_ after: Int) throws -> [Change]
) throws {
    let start = try following.start(store)
    if following.follow {
        try exitOnRefusal { _ = try page(0) }
        return try followHistory(store, after: start, json: json) { $0.belongs(to: kind, named: name) }
    }
    let changes = try exitOnRefusal {
        var next = try page(start)
        if next.isEmpty, start > 0 { _ = try page(0) }
        var changes = next
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
