import SQLiteCore

// The SQLite core's types that reach callers, as payloads of `PolicyStoreError` and in the
// results of checks. They are the library's public API; the core itself is not.

/// An error reported by SQLite, with its extended result code, message and statement.
public typealias SQLiteError = SQLiteCore.SQLiteError
/// A SQLite result code, primary or extended.
public typealias ResultCode = SQLiteCore.ResultCode
/// Why a file was refused as a policy database; the file is left as it was.
public typealias DatabaseProblem = SQLiteCore.DatabaseProblem
/// One way a file's schema differs from the one the library's migrations make.
public typealias SchemaDifference = SQLiteCore.SchemaDifference
