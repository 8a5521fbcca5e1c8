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
    /// Handle the request, then answer nothing until ``VisionOneEmulator/release()``: a
    /// server still working while its client is killed.
    case holdAfterHandling
    /// Answer `307` pointing at this URL.
    case redirect(String)
    /// Answer this status with this body, as it is, without handling the request (a body
    /// that is not the JSON the API documents).
    case body(Int, String)
    /// Handle the request, then answer after this long: a server slower than the client's
    /// timeout.
    case delayAnswer(Duration)
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

    var policies: [String: Policy] = [:]
    var rulesets: [String: Ruleset] = [:]
    var clusters: [String: Cluster] = [:]
    private(set) var managedRules: [JSON] = []
    private(set) var log: [RecordedRequest] = []
    private var faults: [FaultRule] = []
    private var clock = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    private var sequence = 0
    private var traces = 0
    /// Requests held by ``FaultAction/holdAfterHandling``, and whether they may end.
    private(set) var heldRequests = 0
    private(set) var isReleased = false

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

    func hold() { heldRequests += 1 }

    /// Lets held requests end (their connections close without an answer).
    func release() { isReleased = true }

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
    func seedRuleset(
        name: String, description: String = "", rules: [(String, String)] = [], labels: [JSON] = [], ruleFields: [String: JSON] = [:]
    ) -> String {
        let now = tick()
        let id = nextID("rs")
        rulesets[id] = Ruleset(
            id: id, name: name, description: description, labelMatchingCondition: "any", labels: labels,
            rules: rules.map { .object(["id": .string($0.0), "mitigation": .string($0.1)].merging(ruleFields) { first, _ in first }) },
            created: now, updated: now, sequence: nextSequence())
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
            let (code, message) = Self.errorText(status)
            return EmulatedResponse(status: status, headers: headers, body: Self.error(code, message))
        case .body(let status, let text):
            return EmulatedResponse(status: status, headers: headers, body: Data(text.utf8))
        case .redirect(let location):
            headers["location"] = location
            return EmulatedResponse(status: 307, headers: headers)
        case .dropBeforeHandling, .dropAfterHandling, .holdAfterHandling, .delayAnswer:
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

    // MARK: Helpers

    /// Each change moves the clock a second, so every timestamp is distinct.
    func tick() -> String {
        clock += 1
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: clock)
    }

    func nextSequence() -> Int {
        sequence += 1
        return sequence
    }

    func nextID(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.lowercased())"
    }
}
