import ContainerPolicyStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of the Container Security part of the Trend Vision One API v3: policies,
/// rulesets, managed rules and Amazon ECS clusters.
///
/// Lists follow `nextLink` across every page. `429`, `491` and `5xx` answers are retried with
/// bounded backoff (``RetryPolicy``); a dropped connection is retried for `GET`, `PATCH` and
/// `DELETE` only. A `POST` is never blindly sent twice: after an answer that leaves its outcome
/// unknown, ``createPolicy(_:)`` and ``createRuleset(_:)`` look for the object by name first.
/// Bodies over ``Configuration/maximumBodySize`` are refused before sending.
///
/// ```swift
/// let client = try VisionOneClient(
///     baseURL: URL(string: "https://api.xdr.trendmicro.com")!,
///     token: try BearerToken(contentsOfFile: tokenPath))
/// let baseline = try await client.createRuleset(NewRuleset(
///     name: "baseline", content: RulesetContent(rules: [RuleReference(id: "TM-00000001", mitigation: .terminate)])))
/// try await client.updatePolicy(id: webID, PolicyPatch(rulesets: [RemoteRulesetReference(id: baseline.id)]), name: "web.prod")
/// ```
public struct VisionOneClient: Sendable {
    /// How the client talks to the server.
    public struct Configuration: Sendable {
        public var retry: RetryPolicy
        /// The longest a request may take. The server gives up after 60 s (`504`).
        public var requestTimeout: Duration
        /// `top` for lists: 25, 50 or 100.
        public var pageSize: Int
        /// The largest request body sent. The API refuses bodies over 1 MB with `413`; whether
        /// it means 10^6 or 2^20 bytes is not documented, so the default is the smaller.
        public var maximumBodySize: Int
        /// The `platform` sent when creating a policy. The value for Amazon ECS is not
        /// documented publicly: nil sends none, and leaves the choice to the server.
        public var policyPlatform: String?
        /// The most pages one list follows, against a server whose `nextLink` never ends.
        public var maximumPages: Int
        /// Sent as `User-Agent`.
        public var userAgent: String

        public init(
            retry: RetryPolicy = RetryPolicy(),
            requestTimeout: Duration = .seconds(60),
            pageSize: Int = 100,
            maximumBodySize: Int = 1_000_000,
            policyPlatform: String? = nil,
            maximumPages: Int = 10_000,
            userAgent: String = "ContainerPolicySync/1"
        ) {
            self.retry = retry
            self.requestTimeout = requestTimeout
            self.pageSize = pageSize
            self.maximumBodySize = maximumBodySize
            self.policyPlatform = policyPlatform
            self.maximumPages = maximumPages
            self.userAgent = userAgent
        }
    }

    /// What a create did.
    public struct Creation: Sendable, Hashable {
        /// The new object's id, from the `Location` header.
        public let id: String
        /// True when an attempt's outcome was unknown (a dropped connection, a `5xx`) and the
        /// object was then found by name instead of being created again.
        public let foundByName: Bool
    }

    /// What a delete did.
    public enum Deletion: Sendable, Hashable {
        case deleted
        /// The server answered `404`: the object was already gone (deleted in the console, or
        /// by an earlier attempt whose answer was lost).
        case alreadyGone
    }

    /// The server, e.g. `https://api.xdr.trendmicro.com` (a trailing `/v3.0` is accepted).
    public let baseURL: URL
    public let configuration: Configuration
    /// Both used only by the sending in RequestExecution.swift.
    let token: BearerToken
    let transport: HTTPTransport

    /// A client of the server at `baseURL`. Plain `http` is refused but to the loopback
    /// address: the token must not cross a network in clear text.
    public init(baseURL: URL, token: BearerToken, configuration: Configuration = Configuration()) throws(VisionOneError) {
        // Checked first, and the URL not shown: a password or a query in it may be the token.
        guard baseURL.user == nil, baseURL.password == nil else {
            throw VisionOneError(.invalidRequest(reason: "the endpoint has a user name or password in it (not shown here); give the token in the token file, and the endpoint as https://api.<region>.xdr.trendmicro.com"))
        }
        guard baseURL.query == nil, baseURL.fragment == nil else {
            throw VisionOneError(.invalidRequest(reason: "the endpoint has a query or fragment (not shown here, as it may hold a key); give the base URL only, e.g. https://api.xdr.trendmicro.com"))
        }
        guard let scheme = baseURL.scheme?.lowercased(), let host = baseURL.host, !host.isEmpty else {
            throw VisionOneError(.invalidRequest(reason: "the endpoint \(baseURL.absoluteString) is not an absolute URL; write https://api.<region>.xdr.trendmicro.com"))
        }
        let loopback = ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased())
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw VisionOneError(.invalidRequest(reason: "the endpoint must use https (plain http only to 127.0.0.1), so that the token is not sent in clear text"))
        }
        guard [25, 50, 100].contains(configuration.pageSize) else {
            throw VisionOneError(.invalidRequest(reason: "the page size is \(configuration.pageSize); the API accepts 25, 50 or 100"))
        }
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v3.0") { base.removeLast(5) }
        guard let normalized = URL(string: base) else {
            throw VisionOneError(.invalidRequest(reason: "the endpoint \(baseURL.absoluteString) is not a URL"))
        }
        self.baseURL = normalized
        self.token = token
        self.configuration = configuration
        transport = HTTPTransport(timeout: configuration.requestTimeout)
    }

    // MARK: Lists

    /// Every policy, across all pages. `filter` goes in the `TMV1-Filter` header, e.g.
    /// `contains(name,'web')`.
    public func listPolicies(filter: String? = nil) async throws(VisionOneError) -> [RemotePolicy] {
        try await list(Self.policiesPath, kind: .policy, filter: filter)
    }

    /// Every ruleset, across all pages.
    public func listRulesets(filter: String? = nil) async throws(VisionOneError) -> [RemoteRuleset] {
        try await list(Self.rulesetsPath, kind: .ruleset, filter: filter)
    }

    /// Every managed rule, across all pages.
    public func listManagedRules(filter: String? = nil) async throws(VisionOneError) -> [RemoteManagedRule] {
        try await list(Self.managedRulesPath, kind: .managedRule, filter: filter)
    }

    /// Every Amazon ECS cluster, across all pages.
    public func listAmazonECSClusters(filter: String? = nil) async throws(VisionOneError) -> [RemoteECSCluster] {
        try await list(Self.clustersPath, kind: .amazonECSCluster, filter: filter)
    }

    /// Every policy and ruleset (and, when `clusters`, every Amazon ECS cluster): what a plan
    /// or a pull compares with the store.
    public func state(clusters: Bool = false) async throws(VisionOneError) -> RemoteState {
        RemoteState(
            policies: try await listPolicies(), rulesets: try await listRulesets(),
            clusters: clusters ? try await listAmazonECSClusters() : [])
    }

    // MARK: One object

    public func policy(id: String) async throws(VisionOneError) -> RemotePolicy {
        try await get(Self.policiesPath, id: id, kind: .policy)
    }

    public func ruleset(id: String) async throws(VisionOneError) -> RemoteRuleset {
        try await get(Self.rulesetsPath, id: id, kind: .ruleset)
    }

    public func managedRule(id: String) async throws(VisionOneError) -> RemoteManagedRule {
        try await get(Self.managedRulesPath, id: id, kind: .managedRule)
    }

    public func amazonECSCluster(id: String) async throws(VisionOneError) -> RemoteECSCluster {
        try await get(Self.clustersPath, id: id, kind: .amazonECSCluster)
    }

    /// The policy with this name, ignoring ASCII letter case, or nil. Reads every page: the
    /// filter syntax for an exact name is not documented.
    public func policy(named name: String) async throws(VisionOneError) -> RemotePolicy? {
        try await listPolicies().first { NameRules.key($0.name) == NameRules.key(name) }
    }

    /// The ruleset with this name, ignoring ASCII letter case, or nil.
    public func ruleset(named name: String) async throws(VisionOneError) -> RemoteRuleset? {
        try await listRulesets().first { NameRules.key($0.name) == NameRules.key(name) }
    }

    // MARK: Create

    /// Creates a policy and returns its id, read from `Location`. When an attempt's outcome is
    /// unknown, the policy is looked for by name before another `POST`, so it is created at
    /// most once.
    public func createPolicy(_ policy: NewPolicy) async throws(VisionOneError) -> Creation {
        let body = try encode(PolicyCreateBody(policy: policy, platform: configuration.policyPlatform), kind: .policy, name: policy.name)
        return try await create(Self.policiesPath, body: body, kind: .policy, name: policy.name) { () async throws(VisionOneError) in
            try await self.policy(named: policy.name)?.id
        }
    }

    /// Creates a ruleset and returns its id; like ``createPolicy(_:)``, at most once.
    public func createRuleset(_ ruleset: NewRuleset) async throws(VisionOneError) -> Creation {
        let body = try encode(ruleset, kind: .ruleset, name: ruleset.name)
        return try await create(Self.rulesetsPath, body: body, kind: .ruleset, name: ruleset.name) { () async throws(VisionOneError) in
            try await self.ruleset(named: ruleset.name)?.id
        }
    }

    // MARK: Update

    /// Sends exactly the fields set in `patch`. `name` is only for messages.
    public func updatePolicy(id: String, _ patch: PolicyPatch, name: String? = nil) async throws(VisionOneError) {
        let body = try encode(patch, kind: .policy, name: name)
        _ = try await execute(.init(method: "PATCH", url: try url(Self.policiesPath, id: id), body: body, kind: .policy, name: name))
    }

    /// Sends exactly the fields set in `patch`. `name` is only for messages.
    public func updateRuleset(id: String, _ patch: RulesetPatch, name: String? = nil) async throws(VisionOneError) {
        let body = try encode(patch, kind: .ruleset, name: name)
        _ = try await execute(.init(method: "PATCH", url: try url(Self.rulesetsPath, id: id), body: body, kind: .ruleset, name: name))
    }

    /// Assigns a policy to a cluster, among other settings.
    public func updateAmazonECSCluster(id: String, _ patch: AmazonECSClusterPatch) async throws(VisionOneError) {
        let body = try encode(patch, kind: .amazonECSCluster, name: nil)
        _ = try await execute(.init(method: "PATCH", url: try url(Self.clustersPath, id: id), body: body, kind: .amazonECSCluster, name: nil))
    }

    // MARK: Delete

    /// Deletes a policy. The server refuses one assigned to a cluster.
    @discardableResult
    public func deletePolicy(id: String, name: String? = nil) async throws(VisionOneError) -> Deletion {
        try await delete(Self.policiesPath, id: id, kind: .policy, name: name)
    }

    @discardableResult
    public func deleteRuleset(id: String, name: String? = nil) async throws(VisionOneError) -> Deletion {
        try await delete(Self.rulesetsPath, id: id, kind: .ruleset, name: name)
    }

    // MARK: Paths

    static let policiesPath = "/v3.0/containerSecurity/policies"
    static let rulesetsPath = "/v3.0/containerSecurity/rulesets"
    static let managedRulesPath = "/v3.0/containerSecurity/managedRules"
    static let clustersPath = "/v3.0/containerSecurity/amazonEcsClusters"

    /// An id as one path segment: anything but unreserved characters is percent-encoded, so
    /// an id cannot point at another path.
    private func url(_ path: String, id: String) throws(VisionOneError) -> URL {
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(0x80)))
        unreserved.insert(charactersIn: "-._~")
        guard !id.isEmpty, let segment = id.addingPercentEncoding(withAllowedCharacters: unreserved),
              let url = URL(string: baseURL.absoluteString + path + "/" + segment)
        else {
            throw VisionOneError(.invalidRequest(reason: "\(quoted(id)) is not an object id"), path: path)
        }
        return url
    }

    private func url(_ path: String, query: String? = nil) throws(VisionOneError) -> URL {
        guard let url = URL(string: baseURL.absoluteString + path + (query.map { "?" + $0 } ?? "")) else {
            throw VisionOneError(.invalidRequest(reason: "cannot make a URL of \(path)"), path: path)
        }
        return url
    }

    // MARK: Operations

    private struct Page<Item: Decodable>: Decodable {
        var items: [Item]
        var nextLink: String?
    }

    private func list<Item: Decodable>(_ path: String, kind: RemoteObjectKind, filter: String?) async throws(VisionOneError) -> [Item] {
        var next = try url(path, query: "top=\(configuration.pageSize)")
        var seen: Set<String> = []
        var items: [Item] = []
        for _ in 0..<configuration.maximumPages {
            var request = Request(method: "GET", url: next, kind: kind)
            if let filter { request.headers["TMV1-Filter"] = filter }
            let answer = try await execute(request)
            let page: Page<Item> = try decode(answer, request: request)
            items += page.items
            guard let link = page.nextLink, !link.isEmpty else { return items }
            guard let linked = URL(string: link, relativeTo: next)?.absoluteURL, sameOrigin(linked, baseURL) else {
                throw failure(.invalidResponse(reason: "nextLink \(quoted(String(link.prefix(200)))) points away from \(baseURL.absoluteString); it is not followed, so the token goes nowhere else"), request, answer)
            }
            guard seen.insert(linked.absoluteString).inserted else {
                throw failure(.invalidResponse(reason: "nextLink repeats a page already read"), request, answer)
            }
            next = linked
        }
        throw VisionOneError(
            .invalidResponse(reason: "the list has more than \(configuration.maximumPages) pages"), method: "GET", path: path, objectKind: kind)
    }

    private func get<Item: Decodable>(_ path: String, id: String, kind: RemoteObjectKind) async throws(VisionOneError) -> Item {
        let request = Request(method: "GET", url: try url(path, id: id), kind: kind)
        return try decode(try await execute(request), request: request)
    }

    private func create(
        _ path: String, body: Data, kind: RemoteObjectKind, name: String,
        findByName: () async throws(VisionOneError) -> String?
    ) async throws(VisionOneError) -> Creation {
        let request = Request(method: "POST", url: try url(path), body: body, kind: kind, name: name)
        var unknownOutcomes = 0
        while true {
            do throws(VisionOneError) {
                let answer = try await execute(request)
                return Creation(id: try createdID(answer, request: request), foundByName: false)
            } catch where error.requestMayHaveBeenApplied || (error.kind == .nameTaken && unknownOutcomes > 0) {
                // The object may exist although no success came back: find it before posting
                // again, so that it is never created twice.
                if let id = try await findByName() { return Creation(id: id, foundByName: true) }
                unknownOutcomes += 1
                guard error.kind != .nameTaken, unknownOutcomes < configuration.retry.maximumAttempts else { throw error }
                try await pause(configuration.retry.backoff(retry: unknownOutcomes), after: error, request)
            }
        }
    }

    /// The new object's id: the last path segment of `Location` (the API's way), else an
    /// `id` in the body.
    private func createdID(_ answer: HTTPAnswer, request: Request) throws(VisionOneError) -> String {
        if let location = answer.header("location"), let url = URL(string: location), !url.lastPathComponent.isEmpty,
           url.lastPathComponent != "/" {
            return url.lastPathComponent
        }
        struct Identified: Decodable { var id: String }
        if let identified = try? JSONDecoder().decode(Identified.self, from: answer.body), !identified.id.isEmpty {
            return identified.id
        }
        throw failure(.invalidResponse(reason: "the create answered \(answer.status) without a Location header naming the new object"), request, answer)
    }

    private func delete(_ path: String, id: String, kind: RemoteObjectKind, name: String?) async throws(VisionOneError) -> Deletion {
        do throws(VisionOneError) {
            _ = try await execute(Request(method: "DELETE", url: try url(path, id: id), kind: kind, name: name))
            return .deleted
        } catch where error.kind == .notFound {
            return .alreadyGone
        }
    }

    private func encode(_ value: some Encodable, kind: RemoteObjectKind, name: String?) throws(VisionOneError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw VisionOneError(.invalidRequest(reason: "the body cannot be encoded (\(error))"), objectKind: kind, objectName: name)
        }
    }

    private func decode<Value: Decodable>(_ answer: HTTPAnswer, request: Request) throws(VisionOneError) -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: answer.body)
        } catch let error as DecodingError {
            throw failure(.invalidResponse(reason: describe(error)), request, answer)
        } catch {
            throw failure(.invalidResponse(reason: "the body is not JSON"), request, answer)
        }
    }
}
