import Foundation

/// A request as the emulator sees it.
struct EmulatedRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    /// Names lowercased.
    var headers: [String: String]
    var body: Data
    /// `host:port` the client addressed, for absolute `nextLink`s and `Location`s.
    var host: String
}

struct EmulatedResponse: Sendable {
    var status: Int
    var headers: [String: String] = [:]
    var body: Data = Data()
}

/// A request the emulator received, and what came of it.
struct RecordedRequest: Sendable {
    let index: Int
    let method: String
    let path: String
    let query: [String: String]
    let body: Data
    let hadValidToken: Bool
    /// The status answered; nil when the connection was dropped instead.
    var status: Int?
    var fault: FaultAction?

    var json: JSON? { JSON.parse(body) }
}

/// What a scripted fault does to a request.
enum FaultAction: Sendable, Hashable {
    /// Answer with this status (and `Retry-After`, when given) without handling the request.
    case status(Int, retryAfter: String?)
    /// Close the connection without reading on or answering; nothing is handled.
    case dropBeforeHandling
    /// Handle the request (a create is made), then close the connection without answering.
    case dropAfterHandling
    /// Answer `307` pointing at this URL.
    case redirect(String)
}

/// Which of the requests a fault matches it acts on, counting the matching requests from 1.
enum FaultSchedule: Sendable, Hashable {
    case requests(Set<Int>)
    /// Cycles through the pattern: `[true, true, false]` acts on 2 requests of every 3.
    case cycle([Bool])
    case always
}

struct FaultRule: Sendable {
    var method: String?
    var path: String?
    var schedule: FaultSchedule
    var action: FaultAction
    var seen = 0
}

/// The Container Security part of the Vision One API v3, in memory: the documented endpoints
/// and shapes, paging with `top` and `nextLink`, server-filled ids, timestamps and defaults,
/// and the refusals (`400` for a name in a PATCH, `401`, `413`, duplicate names). Scripted
/// faults answer `429`/`5xx` or drop connections for chosen requests.
actor VisionOneEmulator {
    struct Policy: Sendable {
        var id: String
        var name: String
        var description: String
        var xdrEnabled: Bool
        var platform: String?
        var rulesetIDs: [String]
        var deploymentRules: [JSON] = []
        var exceptions: [JSON] = []
        var namespaced: [JSON] = []
        var extra: [String: JSON] = [:]
        var created: String
        var updated: String
        var rulesetsUpdated: String
        var sequence: Int
    }

    struct Ruleset: Sendable {
        var id: String
        var name: String
        var description: String
        var labelMatchingCondition: String
        var labels: [JSON]
        /// `{id, mitigation, ...}` objects, mitigation filled.
        var rules: [JSON]
        var created: String
        var updated: String
        var sequence: Int
    }

    struct Cluster: Sendable {
        var id: String
        var name: String
        var description: String
        var policyID: String?
        var runtimeSecurityEnabled: Bool
        var vulnerabilityScanEnabled: Bool
        var created: String
        var updated: String
        var sequence: Int
    }

    static let prefix = "/v3.0/containerSecurity/"
    static let maximumBody = 1_048_576

    let token: String
    /// The status for a create whose name is taken; the real one is not documented.
    private(set) var duplicateNameStatus = 409
    /// When set, `nextLink`s point at this host instead of the one addressed.
    private(set) var nextLinkHost: String?

    private(set) var policies: [String: Policy] = [:]
    private(set) var rulesets: [String: Ruleset] = [:]
    private(set) var clusters: [String: Cluster] = [:]
    private(set) var managedRules: [JSON] = []
    private(set) var log: [RecordedRequest] = []
    private var faults: [FaultRule] = []
    private var clock = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    private var sequence = 0
    private var traces = 0

    init(token: String) {
        self.token = token
        managedRules = (1...60).map { number in
            let id = String(format: "TM-%08d", number)
            return [
                "id": .string(id), "name": .string("Managed rule \(number)"), "description": .string("Detects behaviour \(number)"),
                "mitre": ["tactics": ["TA0002"], "techniques": [.string("T1059.\(String(format: "%03d", number))")]],
            ]
        }
    }

    // MARK: Test controls

    func setDuplicateNameStatus(_ status: Int) { duplicateNameStatus = status }

    func setNextLinkHost(_ host: String?) { nextLinkHost = host }

    func inject(_ action: FaultAction, method: String? = nil, path: String? = nil, on schedule: FaultSchedule) {
        faults.append(FaultRule(method: method, path: path, schedule: schedule, action: action))
    }

    func clearFaults() { faults = [] }

    func clearLog() { log = [] }

    /// Puts a policy in place as if made in the console, bypassing the API's checks (a name
    /// the rules refuse, Kubernetes parts).
    @discardableResult
    func seedPolicy(
        name: String, description: String = "", xdrEnabled: Bool = true, rulesetIDs: [String] = [],
        deploymentRules: [JSON] = [], namespaced: [JSON] = []
    ) -> String {
        let now = tick()
        let id = nextID("pol")
        policies[id] = Policy(
            id: id, name: name, description: description, xdrEnabled: xdrEnabled, platform: nil, rulesetIDs: rulesetIDs,
            deploymentRules: deploymentRules, namespaced: namespaced, created: now, updated: now, rulesetsUpdated: now,
            sequence: nextSequence())
        return id
    }

    @discardableResult
    func seedRuleset(name: String, description: String = "", rules: [(String, String)] = [], labels: [JSON] = []) -> String {
        let now = tick()
        let id = nextID("rs")
        rulesets[id] = Ruleset(
            id: id, name: name, description: description, labelMatchingCondition: "any", labels: labels,
            rules: rules.map { ["id": .string($0.0), "mitigation": .string($0.1)] }, created: now, updated: now,
            sequence: nextSequence())
        return id
    }

    @discardableResult
    func seedCluster(name: String, policyID: String? = nil) -> String {
        let now = tick()
        let id = nextID("ecs")
        clusters[id] = Cluster(
            id: id, name: name, description: "", policyID: policyID, runtimeSecurityEnabled: true,
            vulnerabilityScanEnabled: false, created: now, updated: now, sequence: nextSequence())
        return id
    }

    /// An edit made in the console: the description changes and the timestamp moves.
    func editInConsole(policyNamed name: String, description: String) {
        guard let id = policies.values.first(where: { $0.name == name })?.id else { return }
        policies[id]?.description = description
        policies[id]?.updated = tick()
    }

    func editInConsole(rulesetNamed name: String, description: String) {
        guard let id = rulesets.values.first(where: { $0.name == name })?.id else { return }
        rulesets[id]?.description = description
        rulesets[id]?.updated = tick()
    }

    func policy(named name: String) -> Policy? { policies.values.first { $0.name == name } }
    func ruleset(named name: String) -> Ruleset? { rulesets.values.first { $0.name == name } }
    func policyCount(named name: String) -> Int { policies.values.filter { $0.name == name }.count }
    func rulesetCount(named name: String) -> Int { rulesets.values.filter { $0.name == name }.count }

    // MARK: Serving

    /// Decides the fault for a request, logging it. Called once per request, before `handle`.
    func admit(_ request: EmulatedRequest) -> (index: Int, fault: FaultAction?) {
        // Every rule counts the requests it matches, whether or not an earlier rule acts on
        // one: "the third GET" means the third GET. The first rule that acts wins.
        var chosen: FaultAction?
        for position in faults.indices {
            let rule = faults[position]
            if let method = rule.method, method != request.method { continue }
            if let path = rule.path, !request.path.hasPrefix(path) { continue }
            faults[position].seen += 1
            let count = faults[position].seen
            let acts: Bool
            switch rule.schedule {
            case .always: acts = true
            case .requests(let numbers): acts = numbers.contains(count)
            case .cycle(let pattern): acts = !pattern.isEmpty && pattern[(count - 1) % pattern.count]
            }
            if acts, chosen == nil { chosen = rule.action }
        }
        let index = log.count
        log.append(RecordedRequest(
            index: index, method: request.method, path: request.path, query: request.query, body: request.body,
            hadValidToken: request.headers["authorization"] == "Bearer " + token, status: nil, fault: chosen))
        return (index, chosen)
    }

    func answered(_ index: Int, status: Int) {
        log[index].status = status
    }

    /// The answer to a request, with its side effects on the state.
    func handle(_ request: EmulatedRequest) -> EmulatedResponse {
        var response = route(request)
        traces += 1
        response.headers["x-trace-id"] = "emu-trace-\(traces)"
        if !response.body.isEmpty { response.headers["content-type"] = "application/json" }
        return response
    }

    func faultResponse(_ action: FaultAction) -> EmulatedResponse {
        traces += 1
        var headers = ["x-trace-id": "emu-trace-\(traces)", "content-type": "application/json"]
        switch action {
        case .status(let status, let retryAfter):
            if let retryAfter { headers["retry-after"] = retryAfter }
            let code = status == 429 ? "TooManyRequests" : "InternalServerError"
            return EmulatedResponse(status: status, headers: headers, body: Self.error(code, status == 429 ? "Too Many API requests" : "Internal error"))
        case .redirect(let location):
            headers["location"] = location
            return EmulatedResponse(status: 307, headers: headers)
        case .dropBeforeHandling, .dropAfterHandling:
            return EmulatedResponse(status: 500, headers: headers)
        }
    }

    private func route(_ request: EmulatedRequest) -> EmulatedResponse {
        guard request.headers["authorization"] == "Bearer " + token else {
            return Self.failure(401, "Unauthorized", "The API key is invalid or missing")
        }
        guard request.body.count <= Self.maximumBody else {
            return Self.failure(413, "RequestEntityTooLarge", "The request body exceeds 1 MB")
        }
        guard request.path.hasPrefix(Self.prefix) else { return Self.failure(404, "NotFound", "No such endpoint") }
        let parts = request.path.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 1 || parts.count == 2, parts.allSatisfy({ !$0.isEmpty }) else {
            return Self.failure(404, "NotFound", "No such endpoint")
        }
        let id = parts.count == 2 ? parts[1].removingPercentEncoding ?? parts[1] : nil
        switch (parts[0], request.method, id) {
        case ("policies", "GET", nil): return list(request, items: sortedPolicies().map(policyJSON))
        case ("policies", "POST", nil): return createPolicy(request)
        case ("policies", "GET", let id?): return policies[id].map { Self.ok(policyJSON($0)) } ?? notFound()
        case ("policies", "PATCH", let id?): return patchPolicy(id, request)
        case ("policies", "DELETE", let id?): return deletePolicy(id)
        case ("rulesets", "GET", nil): return list(request, items: sortedRulesets().map(rulesetJSON))
        case ("rulesets", "POST", nil): return createRuleset(request)
        case ("rulesets", "GET", let id?): return rulesets[id].map { Self.ok(rulesetJSON($0)) } ?? notFound()
        case ("rulesets", "PATCH", let id?): return patchRuleset(id, request)
        case ("rulesets", "DELETE", let id?): return deleteRuleset(id)
        case ("managedRules", "GET", nil): return list(request, items: managedRules.reversed())
        case ("managedRules", "GET", let id?): return managedRules.first { $0["id"]?.string == id }.map(Self.ok) ?? notFound()
        case ("amazonEcsClusters", "GET", nil): return list(request, items: clusters.values.sorted(by: newestFirst).map(clusterJSON))
        case ("amazonEcsClusters", "GET", let id?): return clusters[id].map { Self.ok(clusterJSON($0)) } ?? notFound()
        case ("amazonEcsClusters", "PATCH", let id?): return patchCluster(id, request)
        default: return Self.failure(405, "MethodNotAllowed", "\(request.method) is not allowed here")
        }
    }

    // MARK: Lists

    private func list(_ request: EmulatedRequest, items: [JSON]) -> EmulatedResponse {
        let top: Int
        if let text = request.query["top"] {
            guard let value = Int(text), [25, 50, 100].contains(value) else {
                return Self.failure(400, "InvalidParameter", "top must be 25, 50 or 100")
            }
            top = value
        } else {
            top = 25
        }
        var offset = 0
        if let token = request.query["skipToken"] {
            guard let data = Data(base64Encoded: token) ?? Data(base64Encoded: token.removingPercentEncoding ?? ""), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix("offset:"), let value = Int(text.dropFirst(7)), value >= 0
            else {
                return Self.failure(400, "InvalidParameter", "skipToken is not valid")
            }
            offset = value
        }
        let page = Array(items.dropFirst(offset).prefix(top))
        var body: [String: JSON] = [
            "items": .array(page), "totalCount": .number(Double(items.count)), "count": .number(Double(page.count)),
        ]
        if offset + top < items.count {
            let token = Data("offset:\(offset + top)".utf8).base64EncodedString()
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            body["nextLink"] = .string("http://\(nextLinkHost ?? request.host)\(request.path)?top=\(top)&skipToken=\(token)")
        }
        return Self.ok(.object(body))
    }

    private func newestFirst<T>(_ left: T, _ right: T) -> Bool where T: Sequenced {
        (left.created, left.sequence) > (right.created, right.sequence)
    }

    private func sortedPolicies() -> [Policy] { policies.values.sorted(by: newestFirst) }
    private func sortedRulesets() -> [Ruleset] { rulesets.values.sorted(by: newestFirst) }

    // MARK: Policies

    private static let policyCreateFields: Set<String> = [
        "name", "description", "xdrEnabled", "platform", "default", "namespaced", "runtime", "malwareScan", "secretScan",
        "fileIntegrityMonitoringScan",
    ]

    private func createPolicy(_ request: EmulatedRequest) -> EmulatedResponse {
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

    private static let policyPatchFields: Set<String> = [
        "description", "xdrEnabled", "default", "namespaced", "runtime", "malwareScan", "secretScan", "fileIntegrityMonitoringScan",
    ]

    private func patchPolicy(_ id: String, _ request: EmulatedRequest) -> EmulatedResponse {
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

    private func deletePolicy(_ id: String) -> EmulatedResponse {
        guard policies[id] != nil else { return notFound() }
        if clusters.values.contains(where: { $0.policyID == id }) {
            return Self.failure(400, "PolicyInUse", "You cannot delete active policies. You must remove the policy from all clusters before you can delete it.")
        }
        policies[id] = nil
        _ = tick()
        return EmulatedResponse(status: 204)
    }

    private struct Message: Error { let text: String }

    private func rulesetLinks(_ runtime: JSON?) -> Result<[String], Message> {
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

    private func policyJSON(_ policy: Policy) -> JSON {
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

    private static let rulesetFields: Set<String> = ["name", "description", "labels", "labelMatchingCondition", "rules"]

    private func createRuleset(_ request: EmulatedRequest) -> EmulatedResponse {
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

    private func patchRuleset(_ id: String, _ request: EmulatedRequest) -> EmulatedResponse {
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

    private func deleteRuleset(_ id: String) -> EmulatedResponse {
        guard rulesets[id] != nil else { return notFound() }
        let users = policies.values.filter { $0.rulesetIDs.contains(id) }.map(\.name).sorted()
        guard users.isEmpty else {
            return Self.failure(400, "RulesetInUse", "The ruleset is used by policies: \(users.joined(separator: ", "))")
        }
        rulesets[id] = nil
        _ = tick()
        return EmulatedResponse(status: 204)
    }

    private static func rules(_ value: JSON?) -> Result<[JSON], Message> {
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

    private func rulesetJSON(_ ruleset: Ruleset) -> JSON {
        [
            "id": .string(ruleset.id), "name": .string(ruleset.name), "description": .string(ruleset.description),
            "labelMatchingCondition": .string(ruleset.labelMatchingCondition), "labels": .array(ruleset.labels),
            "rules": .array(ruleset.rules), "createdDateTime": .string(ruleset.created), "updatedDateTime": .string(ruleset.updated),
        ]
    }

    // MARK: Clusters

    private static let clusterPatchFields: Set<String> = ["description", "policyId", "runtimeSecurityEnabled", "vulnerabilityScanEnabled"]

    private func patchCluster(_ id: String, _ request: EmulatedRequest) -> EmulatedResponse {
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

    private func clusterJSON(_ cluster: Cluster) -> JSON {
        [
            "id": .string(cluster.id), "name": .string(cluster.name), "description": .string(cluster.description),
            "policyId": cluster.policyID.map(JSON.string) ?? .null, "orchestrator": "Amazon ECS",
            "runtimeSecurityEnabled": .bool(cluster.runtimeSecurityEnabled),
            "vulnerabilityScanEnabled": .bool(cluster.vulnerabilityScanEnabled),
            "createdDateTime": .string(cluster.created), "updatedDateTime": .string(cluster.updated),
        ]
    }

    // MARK: Helpers

    /// Each change moves the clock a second, so every timestamp is distinct.
    private func tick() -> String {
        clock += 1
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: clock)
    }

    private func nextSequence() -> Int {
        sequence += 1
        return sequence
    }

    private func nextID(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.lowercased())"
    }

    /// Nil for absent or null, `.some(nil)` for a value of the wrong type.
    private func optionalString(_ value: JSON?) -> String?? {
        guard let value, !value.isNull else { return .some(nil) }
        if let text = value.string { return .some(text) }
        return nil
    }

    private func optionalBool(_ value: JSON?) -> Bool?? {
        guard let value, !value.isNull else { return .some(nil) }
        if let flag = value.bool { return .some(flag) }
        return nil
    }

    private static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.count <= 64 else { return "name must be 1 to 64 characters" }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == ".") }) else {
            return "name may contain only letters, digits, '_' and '.'"
        }
        return nil
    }

    private func notFound() -> EmulatedResponse { Self.failure(404, "NotFound", "The object does not exist") }

    private static func ok(_ json: JSON) -> EmulatedResponse { EmulatedResponse(status: 200, body: json.data) }

    static func failure(_ status: Int, _ code: String, _ message: String) -> EmulatedResponse {
        EmulatedResponse(status: status, body: error(code, message))
    }

    static func error(_ code: String, _ message: String) -> Data {
        JSON.object(["error": ["code": .string(code), "message": .string(message)]]).data
    }
}

protocol Sequenced {
    var created: String { get }
    var sequence: Int { get }
}

extension VisionOneEmulator.Policy: Sequenced {}
extension VisionOneEmulator.Ruleset: Sequenced {}
extension VisionOneEmulator.Cluster: Sequenced {}
