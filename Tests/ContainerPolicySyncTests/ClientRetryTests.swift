import ContainerPolicyStore
import ContainerPolicySync
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("VisionOneClient's retries against the emulator")
struct ClientRetryTests {
    @Test("429 is retried, waiting as long as Retry-After says when the server sends it")
    func retryAfterHonoured() async throws {
        try await withEmulator { server in
            await server.emulator.seedPolicy(name: "web")
            await server.emulator.inject(.status(429, retryAfter: "7"), method: "GET", on: .requests([1, 2]))
            await server.emulator.inject(.status(429, retryAfter: nil), method: "GET", on: .requests([3]))
            let sleeps = SleepRecorder()
            let client = try server.client(sleeps: sleeps) { $0.retry.baseDelay = .milliseconds(400) }
            #expect(try await client.listPolicies().map(\.name) == ["web"])
            // Two waits of 7 s as asked, then a backoff of 3 x 400 ms (the third retry) with the
            // jitter fixed at the middle: 0.75 of it.
            #expect(await sleeps.durations == [.seconds(7), .seconds(7), .milliseconds(1_200)])
            #expect(await server.emulator.log.map(\.status) == [429, 429, 429, 200])
        }
    }

    @Test("a Retry-After longer than the policy allows fails at once, saying how long")
    func retryAfterTooLong() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.status(429, retryAfter: "3600"), on: .always)
            let client = try server.client()
            await #expect {
                _ = try await client.listRulesets()
            } throws: { error in
                guard let error = error as? VisionOneError else { return false }
                return error.kind == .rateLimited(retryAfter: .seconds(3600)) && String(describing: error).contains("3600 s")
            }
            #expect(await server.emulator.log.count == 1)
        }
    }

    @Test("5xx and 491 are retried with bounded backoff, and give up after the attempts allowed")
    func serverErrorsRetried() async throws {
        try await withEmulator { server in
            await server.emulator.seedRuleset(name: "baseline")
            await server.emulator.inject(.status(500, retryAfter: nil), method: "GET", on: .requests([1]))
            await server.emulator.inject(.status(491, retryAfter: nil), method: "GET", on: .requests([2]))
            let client = try server.client()
            #expect(try await client.listRulesets().count == 1)
            #expect(await server.emulator.log.map(\.status) == [500, 491, 200])

            await server.emulator.clearLog()
            await server.emulator.inject(.status(503, retryAfter: nil), on: .always)
            let sleeps = SleepRecorder()
            let limited = try server.client(sleeps: sleeps) { $0.retry.maximumAttempts = 4 }
            await #expect {
                _ = try await limited.listRulesets()
            } throws: { error in
                guard let error = error as? VisionOneError else { return false }
                return error.kind == .serverError && error.status == 503 && error.attempts == 4 && !error.requestMayHaveBeenApplied
            }
            #expect(await server.emulator.log.count == 4)
            let waits = await sleeps.durations.suffix(3)
            #expect(Array(waits) == [.milliseconds(375), .milliseconds(750), .milliseconds(1_500)])
        }
    }

    @Test("a 5xx to a POST is not sent again blindly: the object is looked for by name first")
    func serverErrorOnCreate() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.status(500, retryAfter: nil), method: "POST", on: .requests([1]))
            let client = try server.client()
            let created = try await client.createRuleset(NewRuleset(name: "baseline"))
            #expect(!created.foundByName)
            #expect(await server.emulator.rulesetCount(named: "baseline") == 1)
            let methods = await server.emulator.log.map(\.method)
            #expect(methods == ["POST", "GET", "POST"])
        }
    }

    @Test("a connection dropped after a POST was handled: found by name, not created twice")
    func droppedAfterCreate() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.dropAfterHandling, method: "POST", on: .requests([1]))
            let client = try server.client()
            let created = try await client.createPolicy(NewPolicy(name: "web"))
            #expect(created.foundByName)
            #expect(created.id == (await server.emulator.policy(named: "web"))?.id)
            #expect(await server.emulator.policyCount(named: "web") == 1)
            #expect(await server.emulator.log.filter { $0.method == "POST" }.count == 1)
        }
    }

    @Test("a POST after other requests is not resent by the transport when its connection drops")
    func warmConnectionPostNotResent() async throws {
        try await withEmulator { server in
            // On a reused connection that closes unanswered, libcurl may resend the request,
            // and URLSession then waits for the whole timeout: writes need a connection of
            // their own.
            let client = try server.client { $0.requestTimeout = .seconds(5) }
            _ = try await client.listPolicies()
            _ = try await client.listRulesets()
            await server.emulator.inject(.dropAfterHandling, method: "POST", on: .requests([1]))
            let started = ContinuousClock.now
            let created = try await client.createPolicy(NewPolicy(name: "web"))
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(created.foundByName)
            #expect(await server.emulator.log.filter { $0.method == "POST" }.count == 1)
            #expect(await server.emulator.policyCount(named: "web") == 1)
        }
    }

    @Test("a connection dropped before a POST was handled: posted again after looking, once")
    func droppedBeforeCreate() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.dropBeforeHandling, method: "POST", on: .requests([1, 2]))
            let client = try server.client()
            let created = try await client.createRuleset(NewRuleset(name: "baseline"))
            #expect(!created.foundByName)
            #expect(await server.emulator.rulesetCount(named: "baseline") == 1)
            #expect(await server.emulator.log.filter { $0.method == "POST" }.count == 3)
        }
    }

    @Test("dropped connections are retried for GET, PATCH and DELETE, a bounded number of times")
    func droppedIdempotentRequests() async throws {
        try await withEmulator { server in
            let id = await server.emulator.seedPolicy(name: "web")
            await server.emulator.inject(.dropBeforeHandling, method: "GET", on: .requests([1, 2]))
            await server.emulator.inject(.dropAfterHandling, method: "PATCH", on: .requests([1]))
            await server.emulator.inject(.dropAfterHandling, method: "DELETE", on: .requests([1]))
            let client = try server.client()
            #expect(try await client.listPolicies().count == 1)
            try await client.updatePolicy(id: id, PolicyPatch(fields: [.description: .text("edited")]), name: "web")
            #expect(await server.emulator.policy(named: "web")?.description == "edited")
            // The first DELETE was handled but its answer lost: the retry finds it gone.
            #expect(try await client.deletePolicy(id: id, name: "web") == .alreadyGone)
            #expect(await server.emulator.policyCount(named: "web") == 0)

            await server.emulator.inject(.dropBeforeHandling, method: "GET", on: .always)
            let limited = try server.client { $0.retry.maximumConnectionRetries = 2 }
            await #expect {
                _ = try await limited.listRulesets()
            } throws: { error in
                guard let error = error as? VisionOneError, case .connectionFailed = error.kind else { return false }
                return error.attempts >= 3 && !error.requestMayHaveBeenApplied
            }
        }
    }

    @Test("a failed create whose outcome stays unknown says so, after a bounded number of tries")
    func createGivesUp() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.dropBeforeHandling, method: "POST", on: .always)
            let client = try server.client { $0.retry.maximumAttempts = 3 }
            await #expect {
                _ = try await client.createPolicy(NewPolicy(name: "web"))
            } throws: { error in
                guard let error = error as? VisionOneError, case .connectionFailed(let reason) = error.kind else { return false }
                return error.requestMayHaveBeenApplied && error.objectName == "web" && String(describing: error).contains("plan again")
                    && (reason.contains("closed the connection") || reason.contains("dropped"))
            }
            #expect(await server.emulator.log.filter { $0.method == "POST" }.count == 3)
            #expect(await server.emulator.policyCount(named: "web") == 0)
        }
    }
}
