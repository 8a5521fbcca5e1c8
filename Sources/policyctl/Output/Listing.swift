import ContainerPolicyStore

/// How many objects a listing asks the library for at a time.
let listPageSize = 100

/// Reads a listing through the library's paged API (`after:limit:`), so that a listing of
/// any length is never held in memory whole: calls `body` with each page, in name order,
/// until `body` returns false or the pages run out.
func forEachPage<Item>(
    name: (Item) -> String,
    nextPage: (_ after: String?, _ limit: Int) throws -> [Item],
    _ body: ([Item]) throws -> Bool
) rethrows {
    var after: String?
    while true {
        let page = try nextPage(after, listPageSize)
        guard try body(page), page.count == listPageSize, let last = page.last else { return }
        after = name(last)
    }
}

/// Where a list command prints, one page at a time.
protocol ListOutput<Item> {
    associatedtype Item
    /// Prints one page; `first` is true for the first page, which may be empty.
    func printPage(_ page: [Item], first: Bool) throws
    /// Ends the listing; `empty` is true when there was nothing to list.
    func finish(empty: Bool) throws
}

/// Prints a whole listing, page by page; a refusal ends the command with exit code 1.
func printListing<Item>(
    _ output: some ListOutput<Item>,
    name: (Item) -> String,
    nextPage: (_ after: String?, _ limit: Int) throws -> [Item]
) throws {
    var first = true
    var empty = true
    try forEachPage(name: name, nextPage: { after, limit in
        try exitOnRefusal { try nextPage(after, limit) }
    }) { page in
        try output.printPage(page, first: first)
        first = false
        empty = empty && page.isEmpty
        return true
    }
    try output.finish(empty: empty)
}
