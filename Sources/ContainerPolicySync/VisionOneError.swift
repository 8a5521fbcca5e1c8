import ContainerPolicyStore

/// Why a call to Vision One failed: what kind of failure (``kind``, the part to switch on),
/// the request (``method``, ``path``), the object when known, the HTTP status and the
/// `x-trace-id` the server answered with, which Trend Micro support asks for. The
/// `description` says what to do. No error carries the token.
///
/// ```swift
/// do {
///     _ = try await client.listPolicies()
/// } catch let error {
///     switch error.kind {
///     case .unauthorized: print("check the token file")
///     case .rateLimited(let retryAfter): print("slow down", retryAfter as Any)
///     default: print("error: \(error)")   // "GET /v3.0/containerSecurity/policies: ..."
///     }
/// }
/// ```
public struct VisionOneError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for a caller to switch on.
    public enum Kind: Sendable, Hashable {
        /// `401`: the token is missing, wrong or expired.
        case unauthorized
        /// `403`: the token's role may not do this.
        case forbidden
        /// `404`: no such object (or endpoint).
        case notFound
        /// The name is taken (the server answered `409`, or `400` saying so).
        case nameTaken
        /// `400` or `422`: the server refused the request; ``VisionOneError/serverMessage`` says why.
        case rejected
        /// The body is over the server's limit: refused before sending (``VisionOneError/status``
        /// nil), or answered `413`.
        case payloadTooLarge(bytes: Int, limit: Int)
        /// `429` after every attempt, or a `Retry-After` longer than the policy waits for.
        case rateLimited(retryAfter: Duration?)
        /// `5xx` or `491` after every attempt (or at once for a `POST`, whose outcome is then
        /// unknown: see ``VisionOneError/requestMayHaveBeenApplied``).
        case serverError
        /// Any other status, redirects included: the client does not follow them, so the token
        /// goes to the configured host only.
        case unexpectedStatus
        /// The connection failed or dropped, after the retries allowed.
        case connectionFailed(reason: String)
        /// No answer within the request timeout.
        case timedOut
        /// The answer is not what the API documents (a body that does not decode, a create
        /// without `Location`); the reason names the field.
        case invalidResponse(reason: String)
        /// The request was not sent: the base URL or a parameter cannot make one.
        case invalidRequest(reason: String)
        /// The token cannot be used (empty, unreadable file, characters a header cannot hold).
        case invalidToken(reason: String)
        /// The task was cancelled.
        case cancelled
    }

    public let kind: Kind
    /// `GET`, `POST`, `PATCH` or `DELETE`; empty when no request was made.
    public let method: String
    /// The request's path, without the query.
    public let path: String
    /// The object's kind and name, when the request was about one.
    public let objectKind: RemoteObjectKind?
    public let objectName: String?
    /// The HTTP status of the last answer, nil when there was none.
    public let status: Int?
    /// The `x-trace-id` response header of the last answer.
    public let traceID: String?
    /// What the server said, from its error body (at most 300 characters, control characters
    /// escaped).
    public let serverMessage: String?
    /// How many times the request was sent.
    public let attempts: Int
    /// True when a `POST` may have created the object although no success came back (the
    /// connection dropped after sending, or a `5xx`): look for it by name before creating it
    /// again, as ``VisionOneClient/createPolicy(_:)`` does.
    public let requestMayHaveBeenApplied: Bool

    public init(
        _ kind: Kind, method: String = "", path: String = "", objectKind: RemoteObjectKind? = nil, objectName: String? = nil,
        status: Int? = nil, traceID: String? = nil, serverMessage: String? = nil, attempts: Int = 0,
        requestMayHaveBeenApplied: Bool = false
    ) {
        self.kind = kind
        self.method = method
        self.path = path
        self.objectKind = objectKind
        self.objectName = objectName
        self.status = status
        self.traceID = traceID
        self.serverMessage = serverMessage
        self.attempts = attempts
        self.requestMayHaveBeenApplied = requestMayHaveBeenApplied
    }

    public var description: String {
        var parts: [String] = []
        if !method.isEmpty { parts.append("\(method) \(path)") }
        if let objectKind, let objectName { parts.append("\(objectKind) \(quoted(objectName))") }
        var text = parts.joined(separator: " for ")
        if !text.isEmpty { text += ": " }
        if let status { text += "HTTP \(status): " }
        if let serverMessage, !serverMessage.isEmpty { text += "\(serverMessage): " }
        text += advice
        if attempts > 1 { text += " (after \(attempts) attempts)" }
        if let traceID { text += " [x-trace-id \(sanitized(traceID, limit: 100))]" }
        return text
    }

    private var advice: String {
        switch kind {
        case .unauthorized:
            return "the token was refused: check the token file, that the token has not expired, and that the endpoint is your region's"
        case .forbidden:
            return "the token's role may not do this: give its API key a role with Container Security permissions"
        case .notFound where ["policies", "rulesets", "managedRules", "amazonEcsClusters"].contains(path.split(separator: "/").last ?? ""):
            return "the endpoint has no Container Security API there: check the endpoint URL (the base URL only, e.g. https://api.xdr.trendmicro.com)"
        case .notFound:
            return "no such object: it may have been deleted in the console; plan again"
        case .nameTaken:
            return "an object with this name already exists in Vision One: plan again, which matches it by name"
        case .rejected:
            return "the server refused the request; fix what it names and try again"
        case .payloadTooLarge(let bytes, let limit):
            return status == nil
                ? "the request body is \(bytes) bytes, over the \(limit)-byte limit, so it was not sent: split the object (fewer rules per ruleset)"
                : "the server refused a \(bytes)-byte body as too large: split the object (fewer rules per ruleset)"
        case .rateLimited(let retryAfter?):
            return "the server asks to wait \(retryAfter.components.seconds) s (Retry-After), longer than the client waits for: try again after that; a push resumes where it stopped"
        case .rateLimited(nil):
            return "the server kept refusing requests as too many (the API allows a number of requests a minute per customer): wait a minute and try again; a push resumes where it stopped"
        case .serverError:
            return requestMayHaveBeenApplied
                ? "the server failed, and may have created the object anyway: plan again before retrying"
                : "the server kept failing: try again later; a push resumes where it stopped"
        case .unexpectedStatus:
            return "the server answered with a status the API does not document here; check the endpoint URL"
        case .connectionFailed(let reason):
            return requestMayHaveBeenApplied
                ? "the connection failed (\(reason)) after the request was sent, so it may have been applied: plan again before retrying"
                : "the connection failed (\(reason)): check the endpoint URL and the network, then try again"
        case .timedOut:
            return "no answer within the request timeout: try again; a push resumes where it stopped"
        case .invalidResponse(let reason):
            return "the answer is not what the API documents (\(reason)): check the endpoint URL; if it is right, report this with the trace id"
        case .invalidRequest(let reason):
            return "the request cannot be made: \(reason)"
        case .invalidToken(let reason):
            return "the token cannot be used: \(reason); put the token alone in a file readable only by you"
        case .cancelled:
            return "cancelled"
        }
    }
}

/// Server text, cut to `limit` characters and escaped, for a message.
func sanitized(_ text: String, limit: Int) -> String {
    let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return escaped(cut)
}
