import Foundation
import Synchronization

/// A database file as this process uses it: one writer connection, and for a WAL file a
/// small pool of read-only connections, so that reads never wait for the writer. Every
/// opener of the same file (the same device and inode) in this process shares one
/// `SharedDatabase`, so the process has one writer per file and its writes queue in order
/// instead of competing for SQLite's lock.
package final class SharedDatabase: Sendable {
    /// The connection that writes; nil when the file was opened for reading only.
    package let writer: ConnectionPool?
    /// Read-only connections of a WAL file; nil when reads go through the writer (a private
    /// in-memory database, or a file with a rollback journal, where a reader would block
    /// the writer's commit anyway).
    package let readers: ConnectionPool?
    /// Tells waiting readers of commits, this process's and other processes'.
    package let commits: CommitWatch
    private let key: Key?
    /// Whether the writer runs with `PRAGMA synchronous = FULL`: once one opener asked for
    /// it, every opener gets it, so that none gets less durability than it asked for.
    private let synchronousIsFull: Mutex<Bool>
    /// The threads running a caller's closure now, to refuse a call into the same database
    /// from inside one, which would wait for itself.
    private let callerThreads = Mutex<Set<UInt>>([])

    /// The pool that serves reads.
    package var readPool: ConnectionPool {
        // One of the two always exists: see the initializers.
        readers ?? writer!
    }

    private init(
        key: Key?, writer: ConnectionPool?, readers: ConnectionPool?, commits: CommitWatch, synchronousIsFull: Bool
    ) {
        self.key = key
        self.writer = writer
        self.readers = readers
        self.commits = commits
        self.synchronousIsFull = Mutex(synchronousIsFull)
    }

    // MARK: Opening and closing

    private struct Key: Hashable {
        let device: UInt64
        let inode: UInt64
        let readOnly: Bool
    }

    private struct Entry {
        let database: SharedDatabase
        var openers: Int
    }

    /// Every open file of the process. Opening holds the lock, so two openers of one file
    /// cannot both make a writer; opening is rare next to the work done on an open file.
    private static let openFiles = Mutex<[Key: Entry]>([:])

    /// The shared database of the file at `path`, opened (and prepared by `prepare`, on its
    /// first connection) unless this process has it open already. Each call must be matched
    /// by one `release()`.
    ///
    /// - Parameters:
    ///   - readerCount: how many read-only connections a WAL file may have at once.
    ///   - synchronousIsFull: whether `prepare` sets `PRAGMA synchronous = FULL`. An opener
    ///     of a file open already that needs FULL gets it: see ``makeSynchronousFull()``.
    ///   - isWAL: reads the journal mode of the prepared first connection.
    ///   - commitPollInterval: how often ``commits`` asks SQLite for other connections'
    ///     commits while a reader waits for one.
    package static func open(
        path: String, options: ConnectionOptions, readerCount: Int, synchronousIsFull: Bool, commitPollInterval: Duration,
        prepare: (Connection) throws -> Void, isWAL: (Connection) throws -> Bool
    ) throws -> SharedDatabase {
        try openFiles.withLock { (openFiles: inout [Key: Entry]) throws -> SharedDatabase in
            if let key = Self.key(path, readOnly: options.readOnly), var entry = openFiles[key] {
                entry.openers += 1
                openFiles[key] = entry
                return entry.database
            }
            let first = try Connection(.file(path: path), options: options)
            let database: SharedDatabase
            do {
                try prepare(first)
                // The file exists now: it is known by its device and inode from here on.
                let key = Self.key(path, readOnly: options.readOnly)
                var readerOptions = options
                readerOptions.readOnly = true
                let openReader = { try Connection(.file(path: path), options: readerOptions) }
                let label = "SQLiteCore " + path
                let commits = CommitWatch(interval: commitPollInterval, label: label + " (commits)", openConnection: openReader)
                if options.readOnly {
                    let readers = ConnectionPool(
                        capacity: readerCount, label: label + " (readers)", first: first, makeConnection: openReader)
                    database = SharedDatabase(
                        key: key, writer: nil, readers: readers, commits: commits, synchronousIsFull: synchronousIsFull)
                } else {
                    let writer = ConnectionPool(capacity: 1, label: label + " (writer)", first: first) {
                        preconditionFailure("the writer pool holds its one connection from the start")
                    }
                    let readers = try isWAL(first)
                        ? ConnectionPool(capacity: readerCount, label: label + " (readers)", makeConnection: openReader)
                        : nil
                    database = SharedDatabase(
                        key: key, writer: writer, readers: readers, commits: commits, synchronousIsFull: synchronousIsFull)
                }
                if let key { openFiles[key] = Entry(database: database, openers: 1) }
            } catch {
                first.close()
                throw error
            }
            return database
        }
    }

    /// A private in-memory database with one connection, shared with no one.
    package static func inMemory(options: ConnectionOptions, prepare: (Connection) throws -> Void) throws -> SharedDatabase {
        let connection = try Connection(.memory, options: options)
        do {
            try prepare(connection)
        } catch {
            connection.close()
            throw error
        }
        let writer = ConnectionPool(capacity: 1, label: "SQLiteCore :memory:", first: connection) {
            preconditionFailure("an in-memory database has one connection")
        }
        let commits = CommitWatch(interval: .zero, label: "SQLiteCore :memory: (commits)", openConnection: nil)
        return SharedDatabase(key: nil, writer: writer, readers: nil, commits: commits, synchronousIsFull: false)
    }

    /// Ends one opener's use. The last one closes the connections once the work already
    /// started or queued is done, and waits for that unless it is itself such work.
    package func release() {
        let isLast = Self.openFiles.withLock { openFiles in
            guard let key, var entry = openFiles[key] else { return true }
            entry.openers -= 1
            if entry.openers > 0 {
                openFiles[key] = entry
                return false
            }
            openFiles[key] = nil
            return true
        }
        guard isLast else { return }
        let waiting = !isCallerThread
        // The watch's connection and the readers first: the connection that closes last
        // checkpoints the WAL and removes it, which only the writer can do.
        commits.close()
        readers?.close(waiting: waiting)
        writer?.close(waiting: waiting)
    }

    private static func key(_ path: String, readOnly: Bool) -> Key? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Key(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), readOnly: readOnly)
    }

    /// Sets the writer's `PRAGMA synchronous` to FULL unless it is already: an opener of a
    /// file open already that asks for FULL gets it, and so do the others. Only then does it
    /// wait, behind the writes queued before it.
    package func makeSynchronousFull() throws {
        guard let writer, !synchronousIsFull.withLock({ $0 }) else { return }
        try asCaller {
            try writer.withConnection { connection in
                try synchronousIsFull.withLock { isFull in
                    guard !isFull else { return }
                    try connection.execute("PRAGMA synchronous = FULL")
                    isFull = true
                }
            }
        }
    }

    // MARK: Callers

    /// Runs `body` as a caller of this database on the current thread; throws
    /// ``ReentrantDatabaseCall`` when the thread is already running one of its closures.
    package func asCaller<T>(_ body: () throws -> T) throws -> T {
        let thread = currentThreadID()
        let entered = callerThreads.withLock { $0.insert(thread).inserted }
        guard entered else { throw ReentrantDatabaseCall() }
        defer { _ = callerThreads.withLock { $0.remove(thread) } }
        return try body()
    }

    /// Whether the current thread is running a closure of this database.
    package var isCallerThread: Bool {
        let thread = currentThreadID()
        return callerThreads.withLock { $0.contains(thread) }
    }
}

/// A call into a database from inside one of its own closures, on the same thread.
package struct ReentrantDatabaseCall: Error {}

private func currentThreadID() -> UInt {
    #if canImport(Darwin)
    UInt(bitPattern: pthread_self())
    #else
    UInt(pthread_self())
    #endif
}
