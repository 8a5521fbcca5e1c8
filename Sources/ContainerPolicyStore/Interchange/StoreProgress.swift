/// How far a long import or export has come: `done` of `total` objects (an import counts the
/// steps of its plan, an export the rulesets and policies it writes).
///
/// ```swift
/// try tx.importDocument(document) { progress in print("\(progress.done) of \(progress.total)") }
/// ```
public struct StoreProgress: Sendable, Hashable {
    public let done: Int
    public let total: Int

    public init(done: Int, total: Int) {
        self.done = done
        self.total = total
    }
}
