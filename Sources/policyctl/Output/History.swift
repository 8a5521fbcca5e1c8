import ContainerPolicyStore

/// `policy history` and `ruleset history`: prints the recorded changes to one object, oldest
/// first. A name with neither changes nor an object is refused as not found; an object with
/// no changes (made before the database kept a history) has an empty history.
func printHistory(
    of kind: ObjectKind, named name: String, json: Bool,
    changes readChanges: () throws -> [Change], exists: () throws -> Bool
) throws {
    let changes = try exitOnRefusal {
        let changes = try readChanges()
        if changes.isEmpty, try !exists() { throw PolicyStoreError.notFound(kind, name: name) }
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
