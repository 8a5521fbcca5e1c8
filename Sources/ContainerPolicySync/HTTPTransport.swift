import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One answer from the server.
struct HTTPAnswer: Sendable {
    let status: Int
    /// Header names lowercased.
    let headers: [String: String]
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
    var traceID: String? { header("x-trace-id") }
}

/// URLSession, used so that no request is ever sent twice without the client deciding it.
///
/// libcurl, under URLSession on Linux, silently sends a request again when a connection it
/// reused closes before answering, whatever the method: a `POST` could create an object twice,
/// and after resending a request with a body URLSession waits for the whole timeout instead of
/// reporting (seen with libcurl 7.88 and Swift 6.3.1; Docs/vision-one.md tells how). Resends
/// happen on reused connections only, so requests with a body (`POST`, `PATCH`) go on a
/// single-use session, a connection of their own, and fail at once when it drops; the others
/// share one session and its connections, where a silent resend is harmless. The test
/// `warmConnectionPostNotResent` fails if this is undone.
final class HTTPTransport: Sendable {
    private let shared: URLSession
    private let configuration: URLSessionConfiguration

    init(timeout: Duration) {
        let configuration = URLSessionConfiguration.ephemeral
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.configuration = configuration
        shared = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
    }

    deinit {
        shared.invalidateAndCancel()
    }

    /// Sends `request` once. Throws what URLSession throws.
    func send(_ request: URLRequest) async throws -> HTTPAnswer {
        let ownConnection = request.httpBody != nil
        let session = ownConnection
            ? URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
            : shared
        defer { if ownConnection { session.finishTasksAndInvalidate() } }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return HTTPAnswer(status: http.statusCode, headers: headers, body: data)
    }
}

/// Redirects are answered as they are instead of followed: following one would send the
/// token to wherever the `Location` points.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// What a failed send means for retrying it.
struct TransportFailure {
    let kind: VisionOneError.Kind
    /// False when the request certainly never reached the server (no connection was made),
    /// so that even a `POST` may be sent again.
    let mayHaveBeenSent: Bool

    init(_ error: any Error) {
        guard let urlError = error as? URLError else {
            if error is CancellationError {
                kind = .cancelled
            } else {
                kind = .connectionFailed(reason: String(describing: type(of: error)))
            }
            mayHaveBeenSent = true
            return
        }
        switch urlError.code {
        case .cancelled:
            kind = .cancelled
            mayHaveBeenSent = true
        case .timedOut:
            kind = .timedOut
            mayHaveBeenSent = true
        case .cannotFindHost, .cannotConnectToHost, .dnsLookupFailed, .notConnectedToInternet,
             .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            kind = .connectionFailed(reason: Self.reason(urlError.code))
            mayHaveBeenSent = false
        default:
            kind = .connectionFailed(reason: Self.reason(urlError.code))
            mayHaveBeenSent = true
        }
    }

    private static func reason(_ code: URLError.Code) -> String {
        switch code {
        case .cannotFindHost, .dnsLookupFailed: return "the host name does not resolve"
        case .cannotConnectToHost: return "nothing accepts connections at that address"
        case .notConnectedToInternet: return "no network"
        case .networkConnectionLost: return "the connection dropped"
        case .badServerResponse, .cannotParseResponse, .zeroByteResource: return "the server closed the connection without a valid answer"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return "the TLS handshake failed"
        default: return "URLError \(code.rawValue)"
        }
    }
}
