/// The driver's command line: `store-stress <command> [--name value]... [--flag]... [positional]...`.
/// Hand-written so the driver depends on nothing but the library.
struct Arguments {
    let command: String
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    /// Options that take no value.
    static let flagNames: Set<String> = ["read-only", "unsafe-duplicate", "dry-run", "no-create"]

    init(_ arguments: [String]) throws(UsageError) {
        guard let command = arguments.first else { throw UsageError("missing command") }
        self.command = command
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2))
                if Self.flagNames.contains(name) {
                    flags.insert(name)
                } else {
                    guard index + 1 < arguments.count else { throw UsageError("--\(name) needs a value") }
                    values[name] = arguments[index + 1]
                    index += 1
                }
            } else {
                positional.append(argument)
            }
            index += 1
        }
    }

    func string(_ name: String) throws(UsageError) -> String {
        guard let value = values[name] else { throw UsageError("--\(name) is required") }
        return value
    }

    func string(_ name: String, default value: String) -> String {
        values[name] ?? value
    }

    func int(_ name: String, default value: Int) throws(UsageError) -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text) else { throw UsageError("--\(name) takes a number, not \(text)") }
        return number
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
