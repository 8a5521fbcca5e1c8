import ArgumentParser
import ContainerPolicyStore

/// `policyctl cluster ...`: which policy each Amazon ECS cluster uses.
struct ClusterCommand: PolicyctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Assign policies to Amazon ECS clusters, remove them, list the clusters and show their history.",
        subcommands: [Assign.self, Unassign.self, List.self, History.self])

    static let arnHelp = "The cluster's ARN: arn:aws:ecs:<region>:<12-digit account>:cluster/<name>."

    struct Assign: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Assign a policy to a cluster, replacing the policy it had.",
            discussion: "A cluster is known from the first time a policy is assigned to it.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp(arnHelp))
        var arn: String
        @Option(help: ArgumentHelp("The policy the cluster uses.", valueName: "name"))
        var policy: String

        func run() throws {
            let store = try database.existingStore()
            let (before, cluster) = try exitOnRefusal {
                try store.write { tx in (try tx.cluster(arn: arn), try tx.assignPolicy(named: policy, toCluster: arn)) }
            }
            // The library leaves a cluster that already uses the policy as it was.
            try StandardOutput.line(cluster == before ? Report.alreadyAssigned(cluster) : Report.assigned(cluster))
        }
    }

    struct Unassign: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the policy from a cluster; the cluster stays listed, with no policy.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp(arnHelp))
        var arn: String

        func run() throws {
            let store = try database.existingStore()
            let (before, cluster) = try exitOnRefusal {
                try store.write { tx in (try tx.cluster(arn: arn), try tx.unassignCluster(arn: arn)) }
            }
            try StandardOutput.line(cluster == before ? Report.alreadyUnassigned(cluster) : Report.unassigned(cluster))
        }
    }

    struct List: PolicyctlCommand {
        static let configuration = CommandConfiguration(abstract: "List the clusters by ARN, each with its policy.")

        @OptionGroup var database: DatabaseOption
        @Flag(help: "Print JSON (see Docs/cli.md).")
        var json = false

        func run() throws {
            let store = try database.readingStore()
            let output: any ListOutput<Cluster> = json ? JSONList<Cluster>(key: "clusters") : ClusterTable()
            try printListing(output, name: \.arn) { after, limit in
                try store.perform(.clusters(after: after, limit: limit))
            }
        }
    }

    struct History: PolicyctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show which policies a cluster was given and when they were removed, oldest first, with who did it.",
            discussion: "The same changes appear in the history of each policy concerned.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp(arnHelp))
        var arn: String
        @Flag(help: "Print JSON (see Docs/cli.md); with --follow, one JSON object per line.")
        var json = false
        @OptionGroup var following: FollowOptions

        func run() throws {
            let store = try database.readingStore()
            try printHistory(of: .cluster, named: arn, json: json, following: following, store: store) { after in
                try store.perform(.history(ofCluster: arn, after: after, limit: listPageSize))
            }
        }
    }
}
