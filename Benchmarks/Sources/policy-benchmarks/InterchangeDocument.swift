/// The interchange document as `Codable` types: how the lean raw store and GRDB read it
/// (JSONDecoder), and how GRDB writes it (JSONEncoder). Fields a user would not need for
/// these stores (the Kubernetes-only parts the library refuses) are simply not declared.
struct InterchangeDocument: Codable {
    struct Ruleset: Codable {
        var name: String
        var description: String
        var rules: [Rule]
    }

    struct Rule: Codable {
        var id: String
        var mitigation: String
    }

    struct Policy: Codable {
        var name: String
        var description: String
        var xdrEnabled: Bool
        var runtime: Runtime
    }

    struct Runtime: Codable {
        var rulesets: [Reference]
    }

    struct Reference: Codable {
        var name: String
    }

    var rulesets: [Ruleset]
    var policies: [Policy]
}
