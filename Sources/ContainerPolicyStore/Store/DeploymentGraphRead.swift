extension StoreTransaction {
    /// Which clusters run which policy, and the rulesets and rules those bring, read in this
    /// transaction, so the picture is of one state of the store. With `ofPolicy`, only that
    /// policy (found ignoring letter case), its clusters and its rulesets; a policy that does
    /// not exist is refused with ``PolicyStoreError/notFound(_:name:)``. Without it, every
    /// cluster (also those with no policy), policy and ruleset (also those no policy links).
    ///
    /// ```swift
    /// let graph = try store.read { tx in try tx.deploymentGraph(ofPolicy: "web.prod") }
    /// print(graph.clusters.map(\.arn), graph.rulesets.map(\.name))
    /// ```
    public func deploymentGraph(ofPolicy name: String? = nil) throws(PolicyStoreError) -> DeploymentGraph {
        try readOperation {
            guard let name else {
                return DeploymentGraph(clusters: try allClusters(), policies: try allPolicies(), rulesets: try allRulesets())
            }
            let policy = try existing(Policy.self, named: name)
            // Loops, not map: a closure cannot capture the borrowed, non-copyable transaction.
            var clusters: [Cluster] = []
            for arn in try clusterARNs(policyID: policy.id) {
                if let cluster = try cluster(arn: arn) { clusters.append(cluster) }
            }
            var rulesets: [Ruleset] = []
            for ruleset in policy.rulesets { rulesets.append(try existing(Ruleset.self, named: ruleset)) }
            return DeploymentGraph(clusters: clusters, policies: [policy], rulesets: rulesets)
        }
    }
}

extension StoreOperation {
    /// ``StoreTransaction/deploymentGraph(ofPolicy:)``: the clusters, policies, rulesets and
    /// their links, read in one snapshot; draw it with
    /// ``DeploymentGraph/rendered(as:showingRules:)``.
    ///
    /// ```swift
    /// let mermaid = try store.perform(.deploymentGraph()).rendered(as: .mermaid)
    /// ```
    public static func deploymentGraph(ofPolicy name: String? = nil) -> StoreOperation<DeploymentGraph> {
        StoreOperation<DeploymentGraph>(.read) { tx throws(PolicyStoreError) in try tx.deploymentGraph(ofPolicy: name) }
    }
}
