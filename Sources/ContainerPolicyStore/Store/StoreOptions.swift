/// How a ``PolicyStore`` opens its database.
///
/// ```swift
/// var options = StoreOptions()
/// options.busyTimeout = .seconds(10)
/// options.createIfMissing = false
/// let store = try PolicyStore(path: "policies.sqlite", options: options)
/// ```
public struct StoreOptions: Sendable, Hashable {
    /// How long a write waits for another process's write to finish before it fails with
    /// ``PolicyStoreError/busy(_:)``. Default 5 seconds. (Writes of one process wait for each
    /// other in the store's own queue, in order, with no timeout.)
    public var busyTimeout: Duration = .seconds(5)
    /// Open for reading only: nothing is created, migrated or written.
    public var readOnly = false
    /// Create the file (mode 0600) when it does not exist. When false, a missing file is
    /// ``PolicyStoreError/databaseNotFound(path:)``.
    public var createIfMissing = true
    /// The journal mode of a new file (or one the store migrates). It is kept in the file, so
    /// other programs use it too, and an existing file keeps the one it has.
    public var journalMode: JournalMode = .wal
    /// How hard SQLite works to make each commit durable.
    public var synchronous: Synchronous = .full
    /// How many read-only connections a WAL file may use at once, so that that many reads
    /// run side by side, and none waits for a write. Default 4.
    public var maximumReaderCount = 4
    /// Who makes the changes, recorded with each one in the history (`changes.actor`).
    /// Empty means unknown, as for a change made from the shell.
    public var actor = ""
    /// How often a waiting change feed (``PolicyStore/changes(after:)``) asks SQLite whether
    /// another connection or process committed (`PRAGMA data_version`, a read of the WAL
    /// index). Default 20 ms: a change from another process is delivered about 10 ms after its
    /// commit on average, at about 0.35% of a core while a feed waits (Docs/performance.md);
    /// this process's own changes are delivered at once. The first store opened on a file sets
    /// it, for every store of that file in the process.
    public var changePollInterval: Duration = .milliseconds(20)

    public init() {}

    /// SQLite's journal modes that the store supports.
    public enum JournalMode: String, Sendable, Hashable {
        /// Write-ahead log: readers do not block the writer, nor the writer readers.
        case wal = "WAL"
        /// The classic rollback journal, deleted after each commit (`DELETE`).
        case rollback = "DELETE"
    }

    /// `PRAGMA synchronous` levels.
    public enum Synchronous: String, Sendable, Hashable {
        /// A committed write survives a power cut. The default.
        case full = "FULL"
        /// In WAL mode, still never corrupt, but the last commits before a power cut (not a
        /// process crash) may be rolled back. Faster commits.
        case normal = "NORMAL"
    }
}
