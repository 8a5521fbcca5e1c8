import SQLiteCore

extension PolicyStoreError {
    /// The store's error for anything its layers below throw: the one place where SQLite's
    /// result codes and the migrator's findings become cases a caller can act on.
    init(_ error: any Error, path: String) {
        switch error {
        case let error as PolicyStoreError:
            self = error
        case let problem as DatabaseProblem:
            self = .incompatibleDatabase(path: path, problem)
        case is ReentrantDatabaseCall:
            self = .reentrantCall
        case is ConnectionPoolClosed:
            self = .storeClosed(path: path)
        case is CancellationError:
            self = .cancelled
        case let error as SQLiteError:
            switch error.code.primary {
            case .busy, .locked: self = .busy(error)
            case .readOnly: self = .readOnlyDatabase(path: path, error)
            case .notADatabase: self = .incompatibleDatabase(path: path, .notADatabase)
            case .corrupt: self = .incompatibleDatabase(path: path, .damaged)
            case .full: self = .diskFull(path: path, error)
            // Only a cancelled task interrupts a statement of the store.
            case .interrupt: self = .cancelled
            // SQLite cannot grow the shared-memory file of a WAL database: its disk is full.
            case .ioError where error.code == .ioErrorShmSize: self = .diskFull(path: path, error)
            default: self = .sqlite(error)
            }
        default:
            // Not reached: the layers below throw only the errors above.
            self = .sqlite(SQLiteError(code: .error, message: String(describing: error)))
        }
    }
}

/// An error thrown by a caller's own code (a closure, an export's writer), carried through
/// the store unchanged.
struct CallerError: Error {
    let error: any Error
}
