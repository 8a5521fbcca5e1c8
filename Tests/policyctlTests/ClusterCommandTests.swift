import ContainerPolicyStore
import Foundation
import Testing

@Suite struct ClusterCommandTests {
    static let webCluster = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
    static let apiCluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/api_1"

    @Test func assignListAndUnassign() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("policy", "create", "api")
        #expect(try workspace.succeed("cluster", "assign", Self.webCluster, "--policy", "WEB")
            == "Assigned policy web to cluster \(Self.webCluster).\n")
        try workspace.succeed("cluster", "assign", Self.apiCluster, "--policy", "web")
        // Assigning another policy replaces the one the cluster had.
        try workspace.succeed("cluster", "assign", Self.apiCluster, "--policy", "api")

        #expect(try workspace.succeed("cluster", "list") == """
            ARN                                               POLICY
            arn:aws:ecs:eu-west-1:123456789012:cluster/api_1  api
            arn:aws:ecs:us-east-1:123456789012:cluster/web    web

            """)

        #expect(try workspace.succeed("cluster", "unassign", Self.apiCluster) == "Cluster \(Self.apiCluster) has no policy now.\n")
        let clusters = try workspace.json(ClusterList.self, "cluster", "list", "--json").clusters
        #expect(clusters.map(\.arn) == [Self.apiCluster, Self.webCluster])
        #expect(clusters[0] == ClusterRecord(arn: Self.apiCluster, policy: nil, assignedDateTime: nil))
        #expect(clusters[1].policy == "web")
        let stored = try workspace.sqlite3("policies.sqlite", "SELECT assigned_at FROM clusters WHERE arn = '\(Self.webCluster)'")
        #expect(stored == "\(try #require(clusters[1].assignedDateTime))\n")
        #expect(try workspace.succeed("cluster", "list").hasSuffix("\(Self.apiCluster)  -\n\(Self.webCluster)    web\n"))
    }

    @Test func listJSONHasTheDocumentedShapeWithNullsForNoPolicy() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("cluster", "assign", Self.webCluster, "--policy", "web")
        try workspace.succeed("cluster", "assign", Self.apiCluster, "--policy", "web")
        try workspace.succeed("cluster", "unassign", Self.apiCluster)
        #expect(try workspace.jsonKeys("cluster", "list", "--json") == ["clusters"])
        let output = try workspace.succeed("cluster", "list", "--json")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [[String: Any]]])
        let clusters = try #require(list["clusters"])
        #expect(clusters.allSatisfy { Set($0.keys) == ClusterRecord.keys })
        #expect(clusters[0]["policy"] is NSNull && clusters[0]["assignedDateTime"] is NSNull)
        #expect(isSchemaTimestamp(try #require(clusters[1]["assignedDateTime"] as? String)))
    }

    @Test func listOfNoClusters() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        #expect(try workspace.succeed("cluster", "list") == "No clusters.\n")
        #expect(try workspace.succeed("cluster", "list", "--json") == "{\n  \"clusters\": []\n}\n")
    }

    @Test func listPagesThroughEveryCluster() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        let arns = (0..<230).map { "arn:aws:ecs:us-east-1:123456789012:cluster/c" + String(1_000 + $0).dropFirst() }
        try workspace.withStore { store in
            try store.write { tx in
                for arn in arns.shuffled() { try tx.assignPolicy(named: "web", toCluster: arn) }
            }
        }
        #expect(try workspace.json(ClusterList.self, "cluster", "list", "--json").clusters.map(\.arn) == arns)
        let rows = try workspace.succeed("cluster", "list").split(separator: "\n").dropFirst()
        #expect(rows.map { String($0.prefix(while: { $0 != " " })) } == arns)
    }

    @Test func policyShowListsItsClusters() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("cluster", "assign", Self.webCluster, "--policy", "web")
        try workspace.succeed("cluster", "assign", Self.apiCluster, "--policy", "web")

        let policy = try workspace.json(PolicyDocument.self, "policy", "show", "web", "--json")
        #expect(policy.clusters == [Self.apiCluster, Self.webCluster])
        let lines = try workspace.succeed("policy", "show", "web").split(separator: "\n").map(String.init)
        #expect(lines[3...5] == [
            "Rulesets          base",
            "Clusters          \(Self.apiCluster)",
            "                  \(Self.webCluster)",
        ])
        // A listing does not look the clusters up.
        #expect(try workspace.json(PolicyList.self, "policy", "list", "--json").policies[0].clusters == nil)
    }

    @Test func deletingAnAssignedPolicyIsRefusedNamingTheClustersUntilTheyAreUnassigned() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabase()
        try workspace.succeed("cluster", "assign", Self.webCluster, "--policy", "web")
        let before = try workspace.snapshot()

        let result = try workspace.run("policy", "delete", "web")

        #expect(result.status == 1)
        #expect(result.stderr == errorLine(.policyAssigned(policy: "web", clusters: [Self.webCluster])))
        #expect(result.stderr.contains(Self.webCluster))
        #expect(result.stdout.isEmpty)
        #expect(try workspace.snapshot() == before)

        try workspace.succeed("cluster", "unassign", Self.webCluster)
        #expect(try workspace.succeed("policy", "delete", "web") == "Deleted policy web.\n")
        #expect(try workspace.succeed("cluster", "list") == """
            ARN                                             POLICY
            \(Self.webCluster)  -

            """)
    }
}
