/// One thing wrong with a document, at a JSON path such as `policies[3].name`.
public struct DocumentProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where in the document: `policies[3].runtime.rulesets[0].name`, or `$` for the whole.
    public let path: String
    /// What is wrong and what to do.
    public let message: String
    /// Set when the problem is a part of the product that Amazon ECS policies do not have.
    public let unsupportedFeature: UnsupportedFeature?

    /// A problem at `path`.
    public init(path: String, message: String, unsupportedFeature: UnsupportedFeature? = nil) {
        self.path = path
        self.message = message
        self.unsupportedFeature = unsupportedFeature
    }

    public var description: String { "\(path): \(message)" }
}
