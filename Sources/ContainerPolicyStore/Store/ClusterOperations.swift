import SQLiteCore

/// The statements on `clusters`.
enum ClusterSQL {
    static let select = "SELECT c.arn, p.name, c.assigned_at FROM clusters AS c LEFT JOIN policies AS p ON p.id = c.policy_id"
    static let byARN = NamedSQL("a cluster by ARN", select + " WHERE c.arn = ?")
    static let page = NamedSQL("a page of clusters", select + " WHERE c.arn > ? ORDER BY c.arn LIMIT ?")
    static let every = NamedSQL("every cluster", select + " ORDER BY c.arn", readsWholeTable: true)
    static let ofPolicy = NamedSQL("the clusters of a policy", "SELECT arn FROM clusters WHERE policy_id = ? ORDER BY arn")
    static let assign = NamedSQL(
        "assign a policy", "UPDATE clusters SET policy_id = ?, assigned_at = " + SQLCatalogue.currentTimestamp + " WHERE arn = ?")
    static let add = NamedSQL(
        "add a cluster", "INSERT INTO clusters (arn, policy_id, assigned_at) VALUES (?, ?, " + SQLCatalogue.currentTimestamp + ")")
    static let unassign = NamedSQL(
        "unassign a cluster", "UPDATE clusters SET policy_id = NULL, assigned_at = NULL WHERE arn = ? AND policy_id IS NOT NULL")

    static let all = [byARN, page, every, ofPolicy, assign, add, unassign]
}

extension StoreTransaction {
    static func decodeCluster(_ row: Row) -> Cluster {
        var damage: [StoredDamage] = []
        let assignedAt = row.isNull(2) ? nil : row.timestamp(2, location: "clusters.assigned_at", damage: &damage)
        return Cluster(arn: row.text(0), policy: row.optionalText(1), assignedAt: assignedAt, damage: damage)
    }

    /// The cluster with this ARN, or nil when it was never assigned a policy.
    public func cluster(arn: String) throws(PolicyStoreError) -> Cluster? {
        try readOperation { try connection.queryFirst(ClusterSQL.byARN.sql, [SQLValue(arn)], Self.decodeCluster) }
    }

    /// A page of clusters sorted by ARN, after `after`.
    public func clusters(after: String? = nil, limit: Int = 100) throws(PolicyStoreError) -> [Cluster] {
        try readOperation {
            try Self.checkPageSize(limit)
            return try connection.query(ClusterSQL.page.sql, [SQLValue(after ?? ""), SQLValue(limit)], Self.decodeCluster)
        }
    }

    /// Every cluster, sorted by ARN.
    func allClusters() throws -> [Cluster] {
        try connection.query(ClusterSQL.every.sql, [], Self.decodeCluster)
    }

    /// The ARNs of the clusters the policy is assigned to, sorted.
    public func clusters(usingPolicy name: String) throws(PolicyStoreError) -> [String] {
        try readOperation { try clusterARNs(policyID: try existing(Policy.self, named: name).id) }
    }

    func clusterARNs(policyID: Int) throws -> [String] {
        try connection.query(ClusterSQL.ofPolicy.sql, [SQLValue(policyID)]) { $0.text(0) }
    }

    /// Assigns a policy to a cluster, replacing the policy it had. The cluster is added the
    /// first time a policy is assigned to it. The history records an `assign` (after an
    /// `unassign` of the policy replaced), in the cluster's history and the policy's.
    ///
    /// ```swift
    /// try tx.assignPolicy(named: "web.prod", toCluster: "arn:aws:ecs:us-east-1:123456789012:cluster/web")
    /// ```
    @discardableResult
    public func assignPolicy(named name: String, toCluster arn: String) throws(PolicyStoreError) -> Cluster {
        try writeOperation {
            if let problem = ClusterARNRules.problem(in: arn) { throw PolicyStoreError.invalidClusterARN(arn, problem) }
            let policy = try existing(Policy.self, named: name)
            if let existing = try cluster(arn: arn) {
                guard existing.policy != policy.name else { return existing }
                try connection.run(ClusterSQL.assign.sql, [SQLValue(policy.id), SQLValue(arn)])
                if let replaced = existing.policy { try recordCluster(existing.arn, .unassign, policy: replaced) }
            } else {
                try connection.run(ClusterSQL.add.sql, [SQLValue(arn), SQLValue(policy.id)])
            }
            try recordCluster(arn, .assign, policy: policy.name)
            return try existingCluster(arn)
        }
    }

    /// Removes the policy from a cluster; the cluster stays known, with no policy. The
    /// history records an `unassign` when it had one.
    @discardableResult
    public func unassignCluster(arn: String) throws(PolicyStoreError) -> Cluster {
        try writeOperation {
            let existing = try existingCluster(arn)
            guard let policy = existing.policy else { return existing }
            try connection.run(ClusterSQL.unassign.sql, [SQLValue(arn)])
            try recordCluster(existing.arn, .unassign, policy: policy)
            return try existingCluster(arn)
        }
    }

    private func recordCluster(_ arn: String, _ action: Change.Action, policy: String) throws {
        try record(.cluster, name: arn, action: action, revision: 0, before: nil, after: nil, policy: policy)
    }

    private func existingCluster(_ arn: String) throws -> Cluster {
        guard let cluster = try cluster(arn: arn) else { throw PolicyStoreError.notFound(.cluster, name: arn) }
        return cluster
    }
}

extension StoreOperation {
    /// ``StoreTransaction/assignPolicy(named:toCluster:)``: assigns a policy to an Amazon ECS
    /// cluster, replacing the policy it had.
    ///
    /// ```swift
    /// try store.perform(.assignPolicy(named: "web.prod", toCluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/web"))
    /// ```
    public static func assignPolicy(named name: String, toCluster arn: String) -> StoreOperation<Cluster> {
        StoreOperation<Cluster>(.write) { tx throws(PolicyStoreError) in try tx.assignPolicy(named: name, toCluster: arn) }
    }

    /// ``StoreTransaction/unassignCluster(arn:)``: removes the policy from a cluster.
    public static func unassignCluster(arn: String) -> StoreOperation<Cluster> {
        StoreOperation<Cluster>(.write) { tx throws(PolicyStoreError) in try tx.unassignCluster(arn: arn) }
    }

    /// ``StoreTransaction/cluster(arn:)``: the cluster with this ARN, or nil.
    public static func cluster(arn: String) -> StoreOperation<Cluster?> {
        StoreOperation<Cluster?>(.singleStatement) { tx throws(PolicyStoreError) in try tx.cluster(arn: arn) }
    }

    /// ``StoreTransaction/clusters(after:limit:)``: a page of clusters sorted by ARN.
    public static func clusters(after: String? = nil, limit: Int = 100) -> StoreOperation<[Cluster]> {
        StoreOperation<[Cluster]>(.singleStatement) { tx throws(PolicyStoreError) in try tx.clusters(after: after, limit: limit) }
    }

    /// ``StoreTransaction/clusters(usingPolicy:)``: the ARNs of the clusters a policy is
    /// assigned to.
    public static func clusters(usingPolicy name: String) -> StoreOperation<[String]> {
        StoreOperation<[String]>(.read) { tx throws(PolicyStoreError) in try tx.clusters(usingPolicy: name) }
    }
}
