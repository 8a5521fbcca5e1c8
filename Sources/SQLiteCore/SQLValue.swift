import CSQLite

/// A value bound to a statement parameter. Every value reaches SQLite through a binding,
/// never through the SQL text.
package enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    package init(stringLiteral value: String) { self = .text(value) }
    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(nilLiteral: ()) { self = .null }

    package init(_ value: String) { self = .text(value) }
    package init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    package init(_ value: Int) { self = .integer(Int64(value)) }
    package init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    package init(_ value: Bool) { self = .integer(value ? 1 : 0) }
}
