import Foundation

/// A Vision One API token. It is sent in the `Authorization` header and nowhere else: its
/// `description`, `debugDescription` and mirror say `<redacted>`, and no ``VisionOneError``
/// carries it, so printing, logging or `dump`ing a client cannot show it.
///
/// ```swift
/// let token = try BearerToken(contentsOfFile: "/run/secrets/vision-one-token")
/// print(token)   // BearerToken(<redacted>)
/// ```
public struct BearerToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Read by the client only, to build the header.
    let secret: String

    /// A token from text, without surrounding whitespace. An empty token, or one with a
    /// control character or a space inside (it would break the header, or smuggle another
    /// one in), is refused.
    public init(_ text: String) throws(VisionOneError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw VisionOneError(.invalidToken(reason: "it is empty"))
        }
        guard trimmed.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw VisionOneError(.invalidToken(reason: "it contains a space, a control character or a non-ASCII character"))
        }
        secret = trimmed
    }

    /// Reads a token from a file (trailing newline and all), so it never has to be on a
    /// command line, where other users of the machine can see it.
    public init(contentsOfFile path: String) throws(VisionOneError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VisionOneError(.invalidToken(reason: "the file \(path) cannot be read (\(error.localizedDescription))"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw VisionOneError(.invalidToken(reason: "the file \(path) is not UTF-8 text"))
        }
        try self.init(text)
    }

    public var description: String { "BearerToken(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
