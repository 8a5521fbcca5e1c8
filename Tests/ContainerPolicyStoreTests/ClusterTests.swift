import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore

@Suite struct ClusterTests {
    let directory: TemporaryDirectory
    let store: PolicyStore
    let path: String
    let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web-prod_1"
    let other = "arn:aws:ecs:eu-central-1:210987654321:cluster/api"

    init() throws {
        directory = try TemporaryDirectory()
        (store, path) = try makeStore(in: directory)
        try store.perform(.createPolicy(named: "web"))
        try store.perform(.createPolicy(named: "api"))
    }

    @Test func assignReplaceUnassignAndList() throws {
        let assigned = try store.perform(.assignPolicy(named: "web", toCluster: arn))
        #expect(assigned.policy == "web" && assigned.assignedAt != nil)
        try store.perform(.assignPolicy(named: "api", toCluster: other))
        #expect(try store.perform(.assignPolicy(named: "API", toCluster: arn)).policy == "api")
        #expect(try store.perform(.clusters(usingPolicy: "api")) == [other, arn].sorted())
        #expect(try store.perform(.clusters(usingPolicy: "web")).isEmpty)
        let unassigned = try store.perform(.unassignCluster(arn: arn))
        #expect(unassigned.policy == nil && unassigned.assignedAt == nil)
        #expect(try store.perform(.clusters()).map(\.arn) == [other, arn].sorted())
        #expect(throws: PolicyStoreError.notFound(.cluster, name: "arn:aws:ecs:us-east-1:123456789012:cluster/nope")) {
            try store.perform(.unassignCluster(arn: "arn:aws:ecs:us-east-1:123456789012:cluster/nope"))
        }
        #expect(throws: PolicyStoreError.notFound(.policy, name: "nope")) { try store.perform(.assignPolicy(named: "nope", toCluster: arn)) }
    }

    @Test func aMalformedARNIsRefusedAndNothingIsWritten() throws {
        let before = try snapshot(store)
        let cases: [(String, ClusterARNProblem)] = [
            ("arn:aws:ec2:us-east-1:123456789012:cluster/web", .notAnECSClusterARN),
            ("arn:aws:ecs:US-east-1:123456789012:cluster/web", .malformedRegion),
            ("arn:aws:ecs:us-east-1:12345678901:cluster/web", .malformedAccount),
            ("arn:aws:ecs:us-east-1:123456789012:service/web", .notAnECSClusterARN),
            ("arn:aws:ecs:us-east-1:123456789012:cluster/", .malformedClusterName),
            ("arn:aws:ecs:us-east-1:123456789012:cluster/web prod", .malformedClusterName),
            ("arn:aws:ecs:us-east-1:123456789012:cluster/" + String(repeating: "c", count: 256), .malformedClusterName),
            ("arn:aws:ecs:us--1:123456789012:cluster/web", .malformedRegion),
            ("arn:aws:ecs:us-e4st-1:123456789012:cluster/web", .malformedRegion),
            ("arn:aws:ecs:us-east-123:123456789012:cluster/web", .malformedRegion),
            ("arn:aws:ecs:us-east-1:123456789012:cluster/wéb", .malformedClusterName),
            ("arn:aws-eu:ecs:eu-west-1:123456789012:cluster/web", .unknownPartition("aws-eu")),
            ("arn:aws:ecs:cn-north-1:123456789012:cluster/web", .regionOutsidePartition(region: "cn-north-1", partition: "aws")),
            ("arn:aws-cn:ecs:us-east-1:123456789012:cluster/web", .regionOutsidePartition(region: "us-east-1", partition: "aws-cn")),
            ("arn:aws:ecs:us-gov-west-1:123456789012:cluster/web", .regionOutsidePartition(region: "us-gov-west-1", partition: "aws")),
        ]
        for (bad, problem) in cases {
            let error = #expect(throws: PolicyStoreError.invalidClusterARN(bad, problem)) { try store.perform(.assignPolicy(named: "web", toCluster: bad)) }
            #expect(error?.description.contains("write arn:<aws, aws-cn or aws-us-gov>:ecs:<region>:<12-digit account>:cluster/<name>") == true)
        }
        #expect(try snapshot(store) == before)
    }

    @Test func clustersOfEveryPartitionAreAccepted() throws {
        let arns = [
            "arn:aws:ecs:ap-southeast-2:123456789012:cluster/web",
            "arn:aws:ecs:il-central-1:123456789012:cluster/web",
            "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/web",
            "arn:aws-cn:ecs:cn-northwest-1:123456789012:cluster/web",
            "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/web",
            "arn:aws-us-gov:ecs:us-gov-east-1:123456789012:cluster/web",
        ]
        for arn in arns { try store.perform(.assignPolicy(named: "web", toCluster: arn)) }
        #expect(try store.perform(.clusters(usingPolicy: "web")) == arns.sorted())
        // The shell sees the parts of each ARN as columns.
        let parts = try sqliteShell(path, "SELECT partition, region, account, cluster_name FROM clusters WHERE arn = '\(arns[4])';")
        #expect(parts.output == "aws-us-gov|us-gov-west-1|123456789012|web\n")
        try expectHealthy(store)
    }

    @Test func deletingAnAssignedPolicyIsRefusedFromTheAPI() throws {
        try store.perform(.assignPolicy(named: "web", toCluster: arn))
        try store.perform(.assignPolicy(named: "web", toCluster: other))
        let before = try snapshot(store)
        let error = #expect(throws: PolicyStoreError.policyAssigned(policy: "web", clusters: [other, arn].sorted())) {
            try store.perform(.delete(Policy.self, named: "web"))
        }
        #expect(error?.description.contains("remove the policy from all clusters before you can delete it") == true)
        #expect(try snapshot(store) == before)
        try store.perform(.unassignCluster(arn: arn))
        try store.perform(.unassignCluster(arn: other))
        try store.perform(.delete(Policy.self, named: "web"))
        try expectHealthy(store)
    }

    @Test func deletingAnAssignedPolicyIsRefusedFromTheShell() throws {
        try store.perform(.assignPolicy(named: "web", toCluster: arn))
        let before = try snapshot(store)
        for foreignKeys in ["OFF", "ON"] {
            let result = try sqliteShell(path, "PRAGMA foreign_keys = \(foreignKeys); DELETE FROM policies WHERE name = 'web';")
            #expect(result.status != 0 && result.errorOutput.contains("remove the policy from all clusters"))
        }
        for statement in [
            "INSERT INTO clusters (arn) VALUES ('arn:aws:ecs:us-east-1:123456789012:cluster/a b');",
            "INSERT INTO clusters (arn, policy_id) VALUES ('\(other)', 999);",
            "UPDATE clusters SET arn = '\(other)';",
            "UPDATE clusters SET policy_id = 999;",
        ] {
            #expect(try sqliteShell(path, statement).status != 0, "\(statement)")
        }
        #expect(try snapshot(store) == before)
    }

    @Test func pruningAnAssignedPolicyIsRefusedWithTheReason() throws {
        try store.perform(.assignPolicy(named: "web", toCluster: arn))
        let error = #expect(throws: PolicyStoreError.self) {
            try store.perform(.importDocument(PolicyDocument(policies: [.init(name: "api")]), prune: true, dryRun: true))
        }
        let problems = try #require(error?.documentProblems)
        #expect(problems.map(\.message) == [
            "pruning would delete the policy \"web\", which is assigned to \(arn); keep it in the document, or remove it from those clusters first",
        ])
    }

    @Test func swiftAndSQLAgreeOnGeneratedARNs() throws {
        var random = NameVerdictPropertyTests.SeededGenerator(state: 42)
        let pieces = [
            "arn:aws:ecs:", "arn:aws-cn:ecs:", "arn:aws-us-gov:ecs:", "arn:aws-x:ecs:", "us-east-1", "eu-central-1",
            "us-gov-west-1", "cn-north-1", "cn-northwest-1", "ap-1", "us--1", "USx-1", "us-east-", "us-e4st-1", "us-east-12",
            "us-east-123", ":",
            "123456789012", "12345678901", "1234567890123", "cluster/", "service/", "web", "web-1_B", " ", "é", "\u{0}",
            "/", "a:b", String(repeating: "n", count: 250), String(repeating: "n", count: 6), "-",
        ]
        var arns = (0..<3_000).map { _ in
            (0..<Int.random(in: 1...9, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
        }
        // Valid ARNs with at most one part swapped for a doubtful one.
        arns += (0..<2_000).map { _ in
            var parts = ["arn:aws:ecs:", "us-east-1", ":", "123456789012", ":cluster/", "web-1_B"]
            let doubtful: [[String]] = [
                ["arn:aws:ecs", "arn:aws-cn:ecs:", "arn:aws-us-gov:ecs:", "ARN:aws:ecs:", "arn:aws:ecs:ecs:"],
                ["x-1", "us-e_st-1", "eu-west-3", "us-gov-west-1", "u1-east-1", "cn-north-1", "us-east-12", "us-east-", "us--east-1"],
                [";", "::"], ["12345678901x", "1234567890"], [":cluster", ":cluster//", ":Cluster/"],
                ["", "a.b", String(repeating: "n", count: 255), String(repeating: "n", count: 256), "é", "a/b"],
            ]
            if Bool.random(using: &random) {
                let index = Int.random(in: 0..<parts.count, using: &random)
                parts[index] = doubtful[index].randomElement(using: &random)!
            }
            return parts.joined()
        }
        var accepted = 0
        try store.withConnection { connection in
            for arn in arns {
                let swiftVerdict = ClusterARNRules.problem(in: arn) == nil
                let sqlVerdict: Bool
                do {
                    try connection.transaction(.immediate) {
                        try connection.run("INSERT INTO clusters (arn) VALUES (?)", [SQLValue(arn)])
                        try connection.run("DELETE FROM clusters")
                    }
                    sqlVerdict = true
                } catch let error as SQLiteError where error.code == .constraintCheck {
                    sqlVerdict = false
                }
                #expect(swiftVerdict == sqlVerdict, "\(quoted(arn)): Swift \(swiftVerdict), SQL \(sqlVerdict)")
                if swiftVerdict { accepted += 1 }
            }
        }
        #expect(accepted > 300 && accepted < arns.count - 300, "accepted \(accepted) of \(arns.count)")
    }

    @Test func aClusterHistoryRecordsEveryAssignAndUnassign() throws {
        try store.perform(.assignPolicy(named: "web", toCluster: arn))
        try store.perform(.assignPolicy(named: "web", toCluster: arn))  // unchanged: not recorded
        try store.perform(.assignPolicy(named: "api", toCluster: arn))
        try store.perform(.unassignCluster(arn: arn))
        let history = try store.perform(.history(ofCluster: arn))
        #expect(history.map(\.action) == [.assign, .unassign, .assign, .unassign])
        #expect(history.map(\.policy) == ["web", "web", "api", "api"])
        #expect(history.allSatisfy { $0.kind == .cluster && $0.name == arn })
        // The policies' histories show their clusters beside their own changes.
        #expect(try store.perform(.history(ofPolicy: "web")).map(\.action) == [.create, .assign, .unassign])
        #expect(try store.perform(.history(ofPolicy: "api")).map(\.action) == [.create, .assign, .unassign])
        #expect(throws: PolicyStoreError.notFound(.cluster, name: other)) { try store.perform(.history(ofCluster: other)) }
    }

    /// The shell's writes to `clusters` are recorded by the schema's triggers, with the
    /// policy's name and an empty actor.
    @Test func aClusterChangedInTheShellIsRecorded() throws {
        try store.perform(.assignPolicy(named: "web", toCluster: arn))
        let shell = try sqliteShell(path, """
            UPDATE clusters SET policy_id = (SELECT id FROM policies WHERE name = 'api'), assigned_at = \(SQLCatalogue.currentTimestamp) WHERE arn = '\(arn)';
            INSERT INTO clusters (arn, policy_id, assigned_at) VALUES ('\(other)', (SELECT id FROM policies WHERE name = 'web'), \(SQLCatalogue.currentTimestamp));
            DELETE FROM clusters WHERE arn = '\(other)';
            """)
        #expect(shell.succeeded, "\(shell.errorOutput)")
        let history = try store.perform(.history(ofCluster: arn))
        #expect(history.map(\.action) == [.assign, .unassign, .assign])
        #expect(history.map(\.policy) == ["web", "web", "api"])
        #expect(history.dropFirst().allSatisfy { $0.actor == "" })
        #expect(try store.perform(.history(ofCluster: other)).map(\.action) == [.assign, .unassign])
        try expectHealthy(store)
    }
}
