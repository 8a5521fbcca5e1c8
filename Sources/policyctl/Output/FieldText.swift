import ContainerPolicyStore

/// How the text output shows the scalar fields of a policy's or a ruleset's content: every
/// case of its `Field`, in that order, so that a field added to the content appears in
/// `show` and `list` with no edit to policyctl. The labels here are the only place
/// policyctl names a field; a field without one is shown by its API name.
enum FieldText {
    /// `show`'s label of each field, by the field's API name.
    private static let labels = ["description": "Description", "xdrEnabled": "XDR Telemetry"]
    /// `list`'s column header of each field, by the field's API name; else the name in
    /// capitals.
    private static let headers = ["xdrEnabled": "XDR"]
    /// The field a list shows on its own line under the name rather than in a column.
    private static let shownUnderTheName = "description"

    static func label(_ field: some RawRepresentable<String>) -> String {
        labels[field.rawValue] ?? field.rawValue
    }

    /// `show`'s lines of every field: a text with each of its lines in the value column, a
    /// switch as `on` or `off`.
    static func details<Content: ObjectContent>(_ content: Content) -> [(label: String, lines: [String])] {
        Content.Field.allCases.map { field in
            switch content[field] {
            case .text(let text): (label(field), textLines(text))
            case let value: (label(field), [value.description])
            }
        }
    }

    /// The headers of a list's columns for the fields.
    static func headers<Content: ObjectContent>(_: Content.Type) -> [String] {
        columnFields(Content.self).map { headers[$0.rawValue] ?? $0.rawValue.uppercased() }
    }

    /// A list's cells for the fields of one object.
    static func cells<Content: ObjectContent>(_ content: Content) -> [String] {
        columnFields(Content.self).map { content[$0].description }
    }

    /// What a list shows under the name: the description, when the content has one.
    static func underTheName<Content: ObjectContent>(_ content: Content) -> String {
        Content.Field(rawValue: shownUnderTheName).map { content[$0].description } ?? ""
    }

    private static func columnFields<Content: ObjectContent>(_: Content.Type) -> [Content.Field] {
        Content.Field.allCases.filter { $0.rawValue != shownUnderTheName }
    }
}

/// A text value in `show`: its own lines, each in the value column.
func textLines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}
