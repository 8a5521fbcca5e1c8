import ContainerPolicyStore

/// A refusal as the driver reports it on a line: the `PolicyStoreError` case, the SQLite code
/// when there is one, and the message a person would read.
struct ErrorReport: Codable, Hashable, Sendable {
    /// The case name, e.g. `readOnlyDatabase`, or `incompatibleDatabase.notADatabase`.
    var kind: String
    /// The extended SQLite result code, for the cases that carry one.
    var code: Int32?
    var message: String

    init(kind: String, code: Int32?, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    init(_ error: any Error) {
        message = String(describing: error)
        guard let error = error as? PolicyStoreError else {
            kind = "untyped:\(type(of: error))"
            return
        }
        kind = Self.caseName(error)
        switch error {
        case .sqlite(let underlying), .busy(let underlying), .readOnlyDatabase(_, let underlying):
            code = underlying.code.rawValue
        default:
            code = nil
        }
    }

    /// The enum case's name, read by reflection so that a case added to the library later
    /// still gets its own name here.
    static func caseName(_ error: PolicyStoreError) -> String {
        let label = Mirror(reflecting: error).children.first?.label ?? String(describing: error)
        if case .incompatibleDatabase(_, let problem) = error {
            let detail = Mirror(reflecting: problem).children.first?.label ?? String(describing: problem)
            return label + "." + detail
        }
        return label
    }
}
