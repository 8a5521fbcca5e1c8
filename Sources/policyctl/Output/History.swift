import ContainerPolicyStore

/// `policy history` and `ruleset history`: prints the recorded changes to one object, oldest
/// first (from `--from` on), or follows them (`--follow`). A name with neither changes nor an
/// object is refused as not found; an object with no changes (made before the database kept a
/// history) has an empty history.
func printHistory(
    of kind: ObjectKind, named name: String, json: Bool, following: FollowOptions, store: PolicyStore,
    changes readChanges: () throws -> [Change], exists: () throws -> Bool
) throws {
    let start = try following.start(store)
    if following.follow {
        // The object, else its history, must exist: the history may be long.
        try exitOnRefusal {
            if try !exists(), try readChanges().isEmpty { throw PolicyStoreError.notFound(kind, name: name) }
        }
        return try followHistory(store, after: start, json: json) { $0.belongs(to: kind, named: name) }
    }
    let changes = try exitOnRefusal {
        let changes = try readChanges()
        if changes.isEmpty, try !exists() { throw PolicyStoreError.notFound(kind, name: name) }
        return changes.filter { $0.sequence > start }
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
