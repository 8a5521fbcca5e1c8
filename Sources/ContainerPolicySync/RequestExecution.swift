import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// How the client sends a request: retries and backoff, and what each failure is called.
extension VisionOneClient {
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
                    let cause = failure(transportFailure.kind, request, nil, attempts: attempts)
                    try await pause(retry.backoff(retry: connectionRetries), after: cause, request)
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
                try await pause(wait, after: failure(kind, request, answer, attempts: attempts), request)
            default:
                throw failure(statusKind(answer), request, answer, attempts: attempts)
            }
        }
    }

    /// Waits before the next attempt, having told ``RetryPolicy/willRetry`` why.
    func pause(_ duration: Duration, after cause: VisionOneError, _ request: Request) async throws(VisionOneError) {
        let attempts = cause.attempts
        configuration.retry.willRetry(cause, duration)
        do {
            try await configuration.retry.sleep(duration)
        } catch {
            throw failure(.cancelled, request, nil, attempts: attempts)
        }
    }

    func statusKind(_ answer: HTTPAnswer) -> VisionOneError.Kind {
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

    func failure(
        _ kind: VisionOneError.Kind, _ request: Request, _ answer: HTTPAnswer?, attempts: Int = 1, mayHaveBeenApplied: Bool = false
    ) -> VisionOneError {
        var kind = kind
        if case .payloadTooLarge(bytes: 0, let limit) = kind, let body = request.body {
            kind = .payloadTooLarge(bytes: body.count, limit: limit)
        }
        return VisionOneError(
            kind, method: request.method, path: request.url.path, objectKind: request.kind, objectName: request.name,
            status: answer?.status, traceID: answer?.traceID,
            // A 2xx body that does not decode is no message from the server.
            serverMessage: answer.flatMap { (200..<300).contains($0.status) ? nil : serverMessage($0) },
            attempts: attempts, requestMayHaveBeenApplied: mayHaveBeenApplied)
    }

    /// The message of an error body (`{"error": {"code": ..., "message": ...}}`, or a bare
    /// `message`), cut short and escaped, with the token blanked should a server echo it.
    func serverMessage(_ answer: HTTPAnswer) -> String? {
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

    func sameOrigin(_ url: URL, _ base: URL) -> Bool {
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
