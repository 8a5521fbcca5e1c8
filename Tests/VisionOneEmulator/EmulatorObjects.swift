import Foundation

/// The emulator's objects: what each endpoint does to them, and their JSON.
extension VisionOneEmulator {
    // MARK: Policies

    static let policyCreateFields: Set<String> = [
        "name", "description", "xdrEnabled", "platform", "default", "namespaced", "runtime", "malwareScan", "secretScan",
        "fileIntegrityMonitoringScan",
    ]

    func createPolicy(_ request: EmulatedRequest) -> EmulatedResponse {
        guard let body = JSON.parse(request.body)?.object else { return Self.failure(400, "InvalidRequest", "the body is not a JSON object") }
        if let unknown = body.keys.sorted().first(where: { !Self.policyCreateFields.contains($0) }) {
            return Self.failure(400, "InvalidParameter", "unknown field \(unknown)")
        }
        guard let name = body["name"]?.string else { return Self.failure(400, "InvalidParameter", "name is required") }
        if let problem = Self.nameProblem(name) { return Self.failure(400, "InvalidParameter", problem) }
        guard policies.values.first(where: { $0.name.lowercased() == name.lowercased() }) == nil else {
            return Self.failure(duplicateNameStatus, "Conflict", "Policy name already exists")
        }
        guard let defaults = body["default"]?.object else { return Self.failure(400, "InvalidParameter", "default is required") }
        guard let description = optionalString(body["description"]) else { return Self.failure(400, "InvalidParameter", "description must be a string") }
        guard let xdr = optionalBool(body["xdrEnabled"]) else { return Self.failure(400, "InvalidParameter", "xdrEnabled must be a boolean") }
        let links: [String]
        switch rulesetLinks(body["runtime"]) {
        case .success(let ids): links = ids
        case .failure(let message): return Self.failure(400, "InvalidParameter", message.text)
        }
        let now = tick()
        let id = nextID("pol")
        var extra: [String: JSON] = [:]
        for key in ["malwareScan", "secretScan", "fileIntegrityMonitoringScan"] { extra[key] = body[key] }
        policies[id] = Policy(
            id: id, name: name, description: description ?? "", xdrEnabled: xdr ?? true, platform: body["platform"]?.string,
            rulesetIDs: links, deploymentRules: defaults["rules"]?.array ?? [], exceptions: defaults["exceptions"]?.array ?? [],
            namespaced: body["namespaced"]?.array ?? [], extra: extra, created: now, updated: now, rulesetsUpdated: now,
            sequence: nextSequence())
        return EmulatedResponse(status: 201, headers: ["location": "http://\(request.host)\(Self.prefix)policies/\(id)"])
    }

    static let policyPatchFields: Set<String> = [
        "description", "xdrEnabled", "default", "namespaced", "runtime", "malwareScan", "secretScan", "fileIntegrityMonitoringScan",
    ]

    func patchPolicy(_ id: String, _ request: EmulatedRequest) -> EmulatedResponse {
        guard var policy = policies[id] else { return notFound() }
        guard let body = JSON.parse(request.body)?.object else { return Self.failure(400, "InvalidRequest", "the body is not a JSON object") }
        if body["name"] != nil { return Self.failure(400, "InvalidParameter", "name cannot be changed") }
        if body["platform"] != nil { return Self.failure(400, "InvalidParameter", "platform cannot be changed") }
        if let unknown = body.keys.sorted().first(where: { !Self.policyPatchFields.contains($0) }) {
            return Self.failure(400, "InvalidParameter", "unknown field \(unknown)")
        }
        guard let description = optionalString(body["description"]) else { return Self.failure(400, "InvalidParameter", "description must be a string") }
        guard let xdr = optionalBool(body["xdrEnabled"]) else { return Self.failure(400, "InvalidParameter", "xdrEnabled must be a boolean") }
        let now = tick()
        if let description { policy.description = description }
        if let xdr { policy.xdrEnabled = xdr }
        if body["runtime"] != nil {
            switch rulesetLinks(body["runtime"]) {
            case .success(let ids):
                if ids != policy.rulesetIDs { policy.rulesetsUpdated = now }
                policy.rulesetIDs = ids
            case .failure(let message):
                return Self.failure(400, "InvalidParameter", message.text)
            }
        }
        if let defaults = body["default"]?.object {
            policy.deploymentRules = defaults["rules"]?.array ?? []
            policy.exceptions = defaults["exceptions"]?.array ?? []
        }
        if let namespaced = body["namespaced"]?.array { policy.namespaced = namespaced }
        policy.updated = now
        policies[id] = policy
        return EmulatedResponse(status: 204)
    }

    func deletePolicy(_ id: String) -> EmulatedResponse {
        guard policies[id] != nil else { return notFound() }
        if clusters.values.contains(where: { $0.policyID == id }) {
            return Self.failure(400, "PolicyInUse", "You cannot delete active policies. You must remove the policy from all clusters before you can delete it.")
        }
        policies[id] = nil
        _ = tick()
        return EmulatedResponse(status: 204)
    }

    struct Message: Error { let text: String }

    func rulesetLinks(_ runtime: JSON?) -> Result<[String], Message> {
        guard let runtime, !runtime.isNull else { return .success([]) }
        guard let object = runtime.object else { return .failure(Message(text: "runtime must be an object")) }
        guard let list = object["rulesets"] else { return .success([]) }
        guard let entries = list.array else { return .failure(Message(text: "runtime.rulesets must be an array")) }
        var ids: [String] = []
        for entry in entries {
            guard let id = entry["id"]?.string else { return .failure(Message(text: "runtime.rulesets[].id is required")) }
            guard rulesets[id] != nil else { return .failure(Message(text: "ruleset \(id) does not exist")) }
            if !ids.contains(id) { ids.append(id) }
        }
        return .success(ids)
    }

    func policyJSON(_ policy: Policy) -> JSON {
        var object: [String: JSON] = [
            "id": .string(policy.id), "name": .string(policy.name), "description": .string(policy.description),
            "xdrEnabled": .bool(policy.xdrEnabled),
            "default": ["rules": .array(policy.deploymentRules), "exceptions": .array(policy.exceptions)],
            "namespaced": .array(policy.namespaced),
            "runtime": ["rulesets": .array(policy.rulesetIDs.map { id in
                ["id": .string(id), "name": rulesets[id].map { .string($0.name) } ?? .null]
            })],
            "createdDateTime": .string(policy.created), "updatedDateTime": .string(policy.updated),
            "rulesetsUpdatedDateTime": .string(policy.rulesetsUpdated),
            "malwareScan": ["mitigation": "log", "schedule": ["enabled": false]],
        ]
        if let platform = policy.platform { object["platform"] = .string(platform) }
        for (key, value) in policy.extra { object[key] = value }
        return .object(object)
    }

    // MARK: Rulesets

    static let rulesetFields: Set<String> = ["name", "description", "labels", "labelMatchingCondition", "rules"]

    func createRuleset(_ request: EmulatedRequest) -> EmulatedResponse {
        guard let body = JSON.parse(request.body)?.object else { return Self.failure(400, "InvalidRequest", "the body is not a JSON object") }
        if let unknown = body.keys.sorted().first(where: { !Self.rulesetFields.contains($0) }) {
            return Self.failure(400, "InvalidParameter", "unknown field \(unknown)")
        }
        guard let name = body["name"]?.string else { return Self.failure(400, "InvalidParameter", "name is required") }
        if let problem = Self.nameProblem(name) { return Self.failure(400, "InvalidParameter", problem) }
        guard rulesets.values.first(where: { $0.name.lowercased() == name.lowercased() }) == nil else {
            return Self.failure(duplicateNameStatus, "Conflict", "Ruleset name already exists")
        }
        guard let description = optionalString(body["description"]) else { return Self.failure(400, "InvalidParameter", "description must be a string") }
        let rules: [JSON]
        switch Self.rules(body["rules"]) {
        case .success(let value): rules = value
        case .failure(let message): return Self.failure(400, "InvalidParameter", message.text)
        }
        let now = tick()
        let id = nextID("rs")
        rulesets[id] = Ruleset(
            id: id, name: name, description: description ?? "", labelMatchingCondition: body["labelMatchingCondition"]?.string ?? "any",
            labels: body["labels"]?.array ?? [], rules: rules, created: now, updated: now, sequence: nextSequence())
        return EmulatedResponse(status: 201, headers: ["location": "http://\(request.host)\(Self.prefix)rulesets/\(id)"])
    }

    func patchRuleset(_ id: String, _ request: EmulatedRequest) -> EmulatedResponse {
        guard var ruleset = rulesets[id] else { return notFound() }
        guard let body = JSON.parse(request.body)?.object else { return Self.failure(400, "InvalidRequest", "the body is not a JSON object") }
        if body["name"] != nil { return Self.failure(400, "InvalidParameter", "name cannot be changed") }
        if let unknown = body.keys.sorted().first(where: { !Self.rulesetFields.contains($0) }) {
            return Self.failure(400, "InvalidParameter", "unknown field \(unknown)")
        }
        guard let description = optionalString(body["description"]) else { return Self.failure(400, "InvalidParameter", "description must be a string") }
        if let description { ruleset.description = description }
        if body["rules"] != nil {
            switch Self.rules(body["rules"]) {
            case .success(let value): ruleset.rules = value
            case .failure(let message): return Self.failure(400, "InvalidParameter", message.text)
            }
        }
        if let labels = body["labels"]?.array { ruleset.labels = labels }
        if let condition = body["labelMatchingCondition"]?.string { ruleset.labelMatchingCondition = condition }
        ruleset.updated = tick()
        rulesets[id] = ruleset
        return EmulatedResponse(status: 204)
    }

    func deleteRuleset(_ id: String) -> EmulatedResponse {
        guard rulesets[id] != nil else { return notFound() }
        let users = policies.values.filter { $0.rulesetIDs.contains(id) }.map(\.name).sorted()
        guard users.isEmpty else {
            return Self.failure(400, "RulesetInUse", "The ruleset is used by policies: \(users.joined(separator: ", "))")
        }
        rulesets[id] = nil
        _ = tick()
        return EmulatedResponse(status: 204)
    }

    static func rules(_ value: JSON?) -> Result<[JSON], Message> {
        guard let value, !value.isNull else { return .success([]) }
        guard let entries = value.array else { return .failure(Message(text: "rules must be an array")) }
        var result: [JSON] = []
        for entry in entries {
            guard var object = entry.object, let id = object["id"]?.string else { return .failure(Message(text: "rules[].id is required")) }
            guard id.range(of: "^TM-[0-9]{8}$", options: .regularExpression) != nil else {
                return .failure(Message(text: "\(id) is not a managed rule id"))
            }
            let mitigation = object["mitigation"]?.string ?? "log"
            guard ["log", "isolate", "terminate"].contains(mitigation) else {
                return .failure(Message(text: "\(mitigation) is not a mitigation"))
            }
            object["mitigation"] = .string(mitigation)
            result.append(.object(object))
        }
        return .success(result)
    }

    func rulesetJSON(_ ruleset: Ruleset) -> JSON {
        [
            "id": .string(ruleset.id), "name": .string(ruleset.name), "description": .string(ruleset.description),
            "labelMatchingCondition": .string(ruleset.labelMatchingCondition), "labels": .array(ruleset.labels),
            "rules": .array(ruleset.rules), "createdDateTime": .string(ruleset.created), "updatedDateTime": .string(ruleset.updated),
        ]
    }

    // MARK: Clusters

    static let clusterPatchFields: Set<String> = ["description", "policyId", "runtimeSecurityEnabled", "vulnerabilityScanEnabled"]

    func patchCluster(_ id: String, _ request: EmulatedRequest) -> EmulatedResponse {
        guard var cluster = clusters[id] else { return notFound() }
        guard let body = JSON.parse(request.body)?.object else { return Self.failure(400, "InvalidRequest", "the body is not a JSON object") }
        if let unknown = body.keys.sorted().first(where: { !Self.clusterPatchFields.contains($0) }) {
            return Self.failure(400, "InvalidParameter", "unknown field \(unknown)")
        }
        if let policyID = body["policyId"] {
            if let text = policyID.string, !text.isEmpty {
                guard policies[text] != nil else { return Self.failure(400, "InvalidParameter", "policy \(text) does not exist") }
                cluster.policyID = text
            } else {
                cluster.policyID = nil
            }
        }
        if let description = body["description"]?.string { cluster.description = description }
        if let value = body["runtimeSecurityEnabled"]?.bool { cluster.runtimeSecurityEnabled = value }
        if let value = body["vulnerabilityScanEnabled"]?.bool { cluster.vulnerabilityScanEnabled = value }
        cluster.updated = tick()
        clusters[id] = cluster
        return EmulatedResponse(status: 204)
    }

    func clusterJSON(_ cluster: Cluster) -> JSON {
        [
            "id": .string(cluster.id), "name": .string(cluster.name), "description": .string(cluster.description),
            "policyId": cluster.policyID.map(JSON.string) ?? .null, "orchestrator": "Amazon ECS",
            "runtimeSecurityEnabled": .bool(cluster.runtimeSecurityEnabled),
            "vulnerabilityScanEnabled": .bool(cluster.vulnerabilityScanEnabled),
            "createdDateTime": .string(cluster.created), "updatedDateTime": .string(cluster.updated),
        ]
    }
}
