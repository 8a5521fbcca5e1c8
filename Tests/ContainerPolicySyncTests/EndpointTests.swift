import ContainerPolicySync
import Foundation
import Synchronization
import Testing

/// Where the client sends requests, and what it tells its caller while it retries.
@Suite("Endpoints, regions and retry notices")
struct EndpointTests {
    @Test("each region has its documented API host, and a client accepts it")
    func regions() throws {
        let hosts = Dictionary(uniqueKeysWithValues: VisionOneRegion.allCases.map { ($0, $0.host) })
        #expect(hosts[.us] == "api.xdr.trendmicro.com")
        #expect(hosts[.jp] == "api.xdr.trendmicro.co.jp")
        #expect(hosts[.eu] == "api.eu.xdr.trendmicro.com")
        #expect(hosts[.usgov] == "api.usgov.xdr.trendmicro.com")
        #expect(Set(hosts.values).count == VisionOneRegion.allCases.count)
        let token = try BearerToken("t")
        for region in VisionOneRegion.allCases {
            #expect(try VisionOneClient(baseURL: region.baseURL, token: token).baseURL.absoluteString == "https://" + region.host)
        }
    }

    @Test("an endpoint with credentials, a query or a fragment is refused, and credentials are not shown")
    func endpointsRefused() throws {
        let token = try BearerToken("t")
        let withPassword = #expect(throws: VisionOneError.self) {
            try VisionOneClient(baseURL: URL(string: "https://me:s3cret@api.xdr.trendmicro.com")!, token: token)
        }
        #expect(withPassword.map { !String(describing: $0).contains("s3cret") } == true)
        let withQuery = #expect(throws: VisionOneError.self) {
            try VisionOneClient(baseURL: URL(string: "https://api.xdr.trendmicro.com/?key=s3cret")!, token: token)
        }
        #expect(withQuery.map { !String(describing: $0).contains("s3cret") } == true)
        #expect(throws: VisionOneError.self) {
            try VisionOneClient(baseURL: URL(string: "https://api.xdr.trendmicro.com/#v3")!, token: token)
        }
    }

    @Test("willRetry is told of each wait, with the failure that caused it")
    func retryNotices() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.status(429, retryAfter: "3"), method: "GET", on: .requests([1]))
            await server.emulator.inject(.status(500, retryAfter: nil), method: "GET", on: .requests([2]))
            let notices = Mutex<[String]>([])
            let client = try server.client {
                $0.retry.willRetry = { cause, wait in
                    notices.withLock { $0.append("\(cause.status ?? 0) \(cause.attempts) \(wait)") }
                }
            }
            #expect(try await client.listPolicies().isEmpty)
            // The 500's wait is the second retry's backoff: 2 x 500 ms, three quarters of it.
            #expect(notices.withLock { $0 } == ["429 1 3.0 seconds", "500 2 0.75 seconds"])
        }
    }

    @Test("a 2xx answer that does not decode is said to be so, with no server message")
    func undecodableSuccess() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.body(200, "not json"), method: "GET", on: .always)
            let client = try server.client()
            let error = await #expect(throws: VisionOneError.self) { _ = try await client.listRulesets() }
            #expect(error?.kind == .invalidResponse(reason: "the body: The given data was not valid JSON."))
            #expect(error?.serverMessage == nil && error?.status == 200)
        }
    }
}
