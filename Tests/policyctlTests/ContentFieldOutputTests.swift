import ContainerPolicyStore
@testable import policyctl
import Testing

/// `show` and `list` print every scalar field of a policy's and a ruleset's content, so that
/// a field added to a content type appears with no edit to policyctl (issue 13): each field
/// is changed on its own through the library, and both outputs must show the change.
@Suite struct ContentFieldOutputTests {
    /// Another value of the same kind.
    static func changed(_ value: FieldValue) -> FieldValue {
        switch value {
        case .text(let text): .text(text + " changed")
        case .flag(let flag): .flag(!flag)
        }
    }

    /// A `show` without the lines any change moves on.
    static func withoutRevision(_ show: String) -> String {
        show.replacing(/(Revision|Updated) .*\n/, with: "")
    }

    @Test(arguments: PolicyContent.Field.allCases)
    func policyOutputShowsTheField(_ field: PolicyContent.Field) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let show = try workspace.succeed("policy", "show", "web")
        let list = try workspace.succeed("policy", "list")
        try workspace.withStore { store in
            let value = Self.changed(try #require(try store.perform(.fetch(Policy.self, named: "web"))).content[field])
            try store.perform(.modify(Policy.self, named: "web") { $0[field] = value })
        }

        let changedShow = try workspace.succeed("policy", "show", "web")
        #expect(changedShow.split(separator: "\n").contains { $0.hasPrefix(FieldText.label(field) + "  ") })
        #expect(Self.withoutRevision(changedShow) != Self.withoutRevision(show))
        #expect(try workspace.succeed("policy", "list") != list)
    }

    @Test(arguments: RulesetContent.Field.allCases)
    func rulesetOutputShowsTheField(_ field: RulesetContent.Field) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let show = try workspace.succeed("ruleset", "show", "base")
        let list = try workspace.succeed("ruleset", "list")
        try workspace.withStore { store in
            let value = Self.changed(try #require(try store.perform(.fetch(Ruleset.self, named: "base"))).content[field])
            try store.perform(.modify(Ruleset.self, named: "base") { $0[field] = value })
        }

        let changedShow = try workspace.succeed("ruleset", "show", "base")
        #expect(changedShow.split(separator: "\n").contains { $0.hasPrefix(FieldText.label(field) + "  ") })
        #expect(Self.withoutRevision(changedShow) != Self.withoutRevision(show))
        #expect(try workspace.succeed("ruleset", "list") != list)
    }
}
