import ArgumentParser
import ContainerPolicyStore
import Foundation

/// `policy show --json`: the policy as the library writes it, with the ARNs of the clusters
/// it is assigned to (a listing leaves them out: each policy would cost a query).
struct PolicyDetailsJSON: Encodable {
    let policy: Policy
    let clusters: [String]

    func encode(to encoder: any Encoder) throws {
        try policy.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(clusters, forKey: .clusters)
    }

    private enum Key: String, CodingKey { case clusters }
}

/// A list as `{ "<key>": [ ... ] }` in the library's JSON, written element by element as the
/// pages arrive.
final class JSONList<Item: Encodable>: ListOutput {
    private var writer: ProductJSON.ListWriter

    init(key: String) {
        writer = ProductJSON.ListWriter(key: key)
    }

    func printPage(_ page: [Item], first: Bool) throws(ExitCode) {
        for item in page { try StandardOutput.write(writer.element(item)) }
    }

    func finish(empty: Bool) throws(ExitCode) {
        try StandardOutput.write(writer.end())
    }
}
