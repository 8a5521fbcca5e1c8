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
    private let token: BearerToken
    private let transport: HTTPTransport

    /// A client of the server at `baseURL`. Plain `http` is refused but to the loopback
    /// address: the token must not cross a network in clear text.
    public init(baseURL: URL, token: BearerToken, configuration: Configuration = Configuration()) throws(VisionOneError) {
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
            throw VisionOneError(.invalidRequest(reason: "\(quotedName(id)) is not an object id"), path: path)
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
                throw failure(.invalidResponse(reason: "nextLink \(quotedName(String(link.prefix(200)))) points away from \(baseURL.absoluteString); it is not followed, so the token goes nowhere else"), request, answer)
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
                try await pause(configuration.retry.backoff(retry: unknownOutcomes), request, attempts: unknownOutcomes)
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

    // MARK: Sending, with retries

    struct Request: Sendable {
        var method: String
        var url: URL
        var body: Data?
        var headers: [String: String] = [:]
        var kind: RemoteObjectKind?
        var name: String?

        init(method: String, url: URL, body: Data? = nil, kind: RemoteObjectKind?, name: String? = nil) {
            self.method = method
            self.url = url
            self.body = body
            self.kind = kind
            self.name = name
        }

        /// Sending it twice has the effect of sending it once.
        var isIdempotent: Bool { method != "POST" }
    }

    /// Sends a request until it succeeds, it fails in a way retrying cannot mend, or the
    /// retries allowed are spent. Returns a `2xx` answer.
    func execute(_ request: Request) async throws(VisionOneError) -> HTTPAnswer {
        let retry = configuration.retry
        if let body = request.body, body.count > configuration.maximumBodySize {
            throw failure(.payloadTooLarge(bytes: body.count, limit: configuration.maximumBodySize), request, nil, attempts: 0)
        }
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = request.body
        urlRequest.setValue("Bearer " + token.secret, forHTTPHeaderField: "Authorization")
        urlRequest.setValue("application/json", forHTTPHeaderField: "Accept")
        urlRequest.setValue(configuration.userAgent, forHTTPHeaderField: "User-Agent")
        if request.body != nil { urlRequest.setValue("application/json;charset=utf-8", forHTTPHeaderField: "Content-Type") }
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }

        var attempts = 0
        var connectionRetries = 0
        var statusRetries = 0
        while true {
            if Task.isCancelled { throw failure(.cancelled, request, nil, attempts: attempts) }
            attempts += 1
            let answer: HTTPAnswer
            do {
                answer = try await transport.send(urlRequest)
            } catch {
                let transportFailure = TransportFailure(error)
                if transportFailure.kind == .cancelled { throw failure(.cancelled, request, nil, attempts: attempts) }
                let safe = request.isIdempotent || !transportFailure.mayHaveBeenSent
                if safe, connectionRetries < retry.maximumConnectionRetries {
                    connectionRetries += 1
                    try await pause(retry.backoff(retry: connectionRetries), request, attempts: attempts)
                    continue
                }
                throw failure(transportFailure.kind, request, nil, attempts: attempts, mayHaveBeenApplied: !safe)
            }
            switch answer.status {
            case 200..<300:
                return answer
            case 429, 491, 500...599:
                // A 429 was refused before any work; a 5xx or 491 to a POST may come after the
                // object was made, so only the caller, who can look for it by name, may retry.
                let retryable = answer.status == 429 || request.isIdempotent
                let kind: VisionOneError.Kind = answer.status == 429 ? .rateLimited(retryAfter: nil) : .serverError
                guard retryable else { throw failure(kind, request, answer, attempts: attempts, mayHaveBeenApplied: true) }
                guard statusRetries + 1 < retry.maximumAttempts else { throw failure(kind, request, answer, attempts: attempts) }
                statusRetries += 1
                var wait = retry.backoff(retry: statusRetries)
                if let asked = retry.retryAfter(answer.header("retry-after")) {
                    guard asked <= retry.maximumRetryAfter else {
                        throw failure(.rateLimited(retryAfter: asked), request, answer, attempts: attempts)
                    }
                    wait = asked
                }
                try await pause(wait, request, attempts: attempts)
            default:
                throw failure(statusKind(answer), request, answer, attempts: attempts)
            }
        }
    }

    private func pause(_ duration: Duration, _ request: Request, attempts: Int) async throws(VisionOneError) {
        do {
            try await configuration.retry.sleep(duration)
        } catch {
            throw failure(.cancelled, request, nil, attempts: attempts)
        }
    }

    private func statusKind(_ answer: HTTPAnswer) -> VisionOneError.Kind {
        switch answer.status {
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 409: return .nameTaken
        case 413: return .payloadTooLarge(bytes: 0, limit: configuration.maximumBodySize)
        case 400, 422:
            // Which status a duplicate name gets is not documented; a 400 that says so counts.
            let message = (serverMessage(answer) ?? "").lowercased()
            return message.contains("already exist") || message.contains("duplicate") ? .nameTaken : .rejected
        default: return .unexpectedStatus
        }
    }

    private func failure(
        _ kind: VisionOneError.Kind, _ request: Request, _ answer: HTTPAnswer?, attempts: Int = 1, mayHaveBeenApplied: Bool = false
    ) -> VisionOneError {
        var kind = kind
        if case .payloadTooLarge(bytes: 0, let limit) = kind, let body = request.body {
            kind = .payloadTooLarge(bytes: body.count, limit: limit)
        }
        return VisionOneError(
            kind, method: request.method, path: request.url.path, objectKind: request.kind, objectName: request.name,
            status: answer?.status, traceID: answer?.traceID, serverMessage: answer.flatMap(serverMessage),
            attempts: attempts, requestMayHaveBeenApplied: mayHaveBeenApplied)
    }

    /// The message of an error body (`{"error": {"code": ..., "message": ...}}`, or a bare
    /// `message`), cut short and escaped, with the token blanked should a server echo it.
    private func serverMessage(_ answer: HTTPAnswer) -> String? {
        struct Body: Decodable {
            struct Detail: Decodable {
                var code: String?
                var message: String?
            }
            var error: Detail?
            var message: String?
        }
        guard !answer.body.isEmpty else { return nil }
        let text: String
        if let body = try? JSONDecoder().decode(Body.self, from: answer.body) {
            let detail = [body.error?.code, body.error?.message ?? body.message].compactMap { $0 }.joined(separator: ": ")
            guard !detail.isEmpty else { return nil }
            text = detail
        } else if let plain = String(data: answer.body.prefix(2_000), encoding: .utf8) {
            text = plain.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            return nil
        }
        return sanitized(text.replacingOccurrences(of: token.secret, with: "<redacted>"), limit: 300)
    }

    private func sameOrigin(_ url: URL, _ base: URL) -> Bool {
        func port(_ url: URL) -> Int? { url.port ?? (url.scheme?.lowercased() == "https" ? 443 : url.scheme?.lowercased() == "http" ? 80 : nil) }
        return url.scheme?.lowercased() == base.scheme?.lowercased() && url.host?.lowercased() == base.host?.lowercased()
            && port(url) == port(base)
    }
}

/// The path of a field in a decoding error, and what is wrong with it, for a message.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
        let keys = context.codingPath + (key.map { [$0] } ?? [])
        let text = keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        return text.isEmpty ? "the body" : String(text.drop { $0 == "." })
    }
    switch error {
    case .keyNotFound(let key, let context): return "\(path(context, key)) is missing"
    case .valueNotFound(_, let context): return "\(path(context)) is null"
    case .typeMismatch(let type, let context): return "\(path(context)) is not \(type == String.self ? "a string" : "of the documented type")"
    case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
    @unknown default: return "the body does not decode"
    }
}
