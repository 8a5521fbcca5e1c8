import SQLiteCore

/// One SQL statement of the store, named once, in the file of its table's operations. The
/// statements of every table are listed in ``SQLCatalogue/all``, which the query-plan test
/// runs through.
struct NamedSQL: Sendable {
    let name: String
    let sql: String
    /// True for the statements meant to read a whole table (an export, a count, a check):
    /// every other must search an index.
    let readsWholeTable: Bool

    init(_ name: String, _ sql: String, readsWholeTable: Bool = false) {
        self.name = name
        self.sql = sql
        self.readsWholeTable = readsWholeTable
    }
}

enum SQLCatalogue {
    static let all: [NamedSQL] =
        PolicySQL.all + RulesetSQL.all + ClusterSQL.all + HistorySQL.all + ManagedRuleSQL.all + SyncStateSQL.all + TransactionSQL.all
        + CheckSQL.all
    /// The moment a statement runs, in the schema's timestamp format.
    static let currentTimestamp = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
}

/// What every transaction of the store runs around the caller's work: the writer's
/// `write_context` row, which tells the history's triggers who writes and that the library
/// records its own changes, and the read-only switch of a read on the writer.
enum TransactionSQL {
    static let setWriteContext = NamedSQL(
        "tell the history's triggers who writes", "INSERT OR REPLACE INTO write_context (id, actor, recorded_by_library) VALUES (1, ?, 1)")
    static let clearWriteContext = NamedSQL("clear who writes", "DELETE FROM write_context")
    static let beginQueryOnly = NamedSQL("make a read on the writer read-only", "PRAGMA query_only = ON")
    static let endQueryOnly = NamedSQL("let the writer write again", "PRAGMA query_only = OFF")
    static let journalMode = NamedSQL("the journal mode", "PRAGMA journal_mode")

    static let all = [setWriteContext, clearWriteContext, beginQueryOnly, endQueryOnly, journalMode]
}

/// What `check` reads besides the tables' own statements.
enum CheckSQL {
    static let integrity = NamedSQL("SQLite's integrity check", "PRAGMA integrity_check", readsWholeTable: true)
    static let foreignKeys = NamedSQL("rows whose foreign key points at nothing", "PRAGMA foreign_key_check", readsWholeTable: true)
    static let leftoverWriteContext = NamedSQL("a write_context row left outside a write", "SELECT actor FROM write_context")

    static let all = [integrity, foreignKeys, leftoverWriteContext]
}

/// The column of a content field: its product name in snake case (`xdrEnabled` is
/// `xdr_enabled`), so a new field needs no SQL of its own in the store.
func storedColumn<Field: RawRepresentable>(_ field: Field) -> String where Field.RawValue == String {
    var column = ""
    for character in field.rawValue {
        if character.isUppercase {
            column += "_" + character.lowercased()
        } else {
            column.append(character)
        }
    }
    return column
}

extension ObjectContent {
    /// The content's field columns, in declaration order, each with `prefix`.
    static func columns(prefix: String = "") -> String {
        Field.allCases.map { prefix + storedColumn($0) }.joined(separator: ", ")
    }

    /// `column = ?` for each field column.
    static var assignments: String {
        Field.allCases.map { storedColumn($0) + " = ?" }.joined(separator: ", ")
    }

    /// One `?` per field.
    static var placeholders: String {
        Field.allCases.map { _ in "?" }.joined(separator: ", ")
    }

    /// The values of the field columns, in declaration order.
    var fieldValues: [SQLValue] {
        Field.allCases.map { field in
            switch self[field] {
            case .text(let text): return .text(text)
            case .flag(let flag): return .integer(flag ? 1 : 0)
            }
        }
    }

    /// Reads the field columns of `row`, from `column` on; a switch that is not 0 or 1 is
    /// read as on and added to `damage`.
    mutating func readFields(_ row: Row, from column: Int32, table: String, damage: inout [StoredDamage]) {
        for (offset, field) in Field.allCases.enumerated() {
            let index = column + Int32(offset)
            switch self[field] {
            case .text:
                self[field] = .text(row.text(index))
            case .flag:
                let value = row.int(index)
                if value != 0, value != 1 {
                    damage.append(StoredDamage(
                        location: "\(table).\(storedColumn(field))", value: String(value), problem: "is not 0 (off) or 1 (on)"))
                }
                self[field] = .flag(value != 0)
            }
        }
    }

    /// The first field whose value cannot be stored, as a problem.
    func fieldProblem() -> (field: Field, problem: String)? {
        for field in Field.allCases {
            if let problem = Self.problem(of: self[field], for: field) { return (field, problem) }
        }
        return nil
    }
}
