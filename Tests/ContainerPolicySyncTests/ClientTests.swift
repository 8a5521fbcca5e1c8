import ContainerPolicyStore
import ContainerPolicySync
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("VisionOneClient against the emulator")
struct ClientTests {
    @Test("lists follow nextLink across every page, in the server's order")
    func paging() async throws {
        try await withEmulator { server in
            for number in 1...130 { await server.emulator.seedRuleset(name: "rs\(number)") }
            let newestFirst = (1...130).reversed().map { "rs\($0)" }

            let client = try server.client()
            #expect(try await client.listRulesets().map(\.name) == newestFirst)
            var gets = await server.emulator.log.filter { $0.method == "GET" }
            #expect(gets.map { $0.query["top"] } == ["100", "100"])
            #expect(gets[0].query["skipToken"] == nil && gets[1].query["skipToken"] != nil)

            await server.emulator.clearLog()
            let small = try server.client { $0.pageSize = 25 }
            #expect(try await small.listRulesets().map(\.name) == newestFirst)
            gets = await server.emulator.log.filter { $0.method == "GET" }
            #expect(gets.count == 6)
            #expect(Set(gets.compactMap { $0.query["skipToken"] }).count == 5)
        }
    }

    @Test("the emulator pages 25 at a time by default and refuses other page sizes")
    func emulatorPageSizes() async throws {
        try await withEmulator { server in
            for number in 1...30 { await server.emulator.seedRuleset(name: "rs\(number)") }
            let (first, _) = try await rawRequest(server, "GET", "/v3.0/containerSecurity/rulesets")
            let page = try #require(JSON.parse(first)?.object)
            #expect(page["items"]?.array?.count == 25)
            #expect(page["totalCount"] == .number(30))
            #expect(page["nextLink"]?.string?.contains("skipToken=") == true)
            let (_, status) = try await rawRequest(server, "GET", "/v3.0/containerSecurity/rulesets?top=10")
            #expect(status == 400)
        }
    }

    @Test("a page size the API does not accept is refused before any request")
    func pageSizeRefused() async throws {
        try await withEmulator { server in
            #expect {
                _ = try server.client { $0.pageSize = 30 }
            } throws: { error in
                guard case .invalidRequest = (error as? VisionOneError)?.kind else { return false }
                return true
            }
            #expect(await server.emulator.log.isEmpty)
        }
    }

    @Test("a create reads the new id from Location; the server fills ids, timestamps and defaults")
    func createReadsLocation() async throws {
        try await withEmulator { server in
            let client = try server.client()
            let ruleset = try await client.createRuleset(NewRuleset(
                name: "baseline",
                content: RulesetContent(rules: [RuleReference(id: "TM-00000001"), RuleReference(id: "TM-00000002", mitigation: .terminate)])))
            #expect(!ruleset.foundByName)
            let stored = try #require(await server.emulator.ruleset(named: "baseline"))
            #expect(ruleset.id == stored.id)

            let policy = try await client.createPolicy(NewPolicy(name: "web.prod", rulesets: [RemoteRulesetReference(id: ruleset.id)]))
            let fetched = try await client.policy(id: policy.id)
            #expect(fetched.name == "web.prod")
            #expect(fetched.xdrEnabled)
            #expect(fetched.description == "")
            #expect(fetched.rulesetLinks == [RemoteRulesetReference(id: ruleset.id, name: "baseline")])
            #expect(fetched.rulesets == ["baseline"])
            #expect(fetched.createdDateTime != nil && fetched.updatedDateTime != nil)
            #expect(fetched.additionalFields["malwareScan"] != nil)

            let rules = try await client.ruleset(id: ruleset.id)
            #expect(rules.labelMatchingCondition == "any")
            #expect(rules.rules == [RuleReference(id: "TM-00000001", mitigation: .log), RuleReference(id: "TM-00000002", mitigation: .terminate)])

            // The POST carried the empty `default` part the API requires, and no labels.
            let posts = await server.emulator.log.filter { $0.method == "POST" }
            #expect(posts[1].json?["default"] == ["rules": [], "exceptions": []])
            #expect(posts[0].json?["labels"] == nil)
        }
    }

    @Test("a PATCH sends exactly the fields set, and never a name")
    func patchSendsOnlyTheSetFields() async throws {
        try await withEmulator { server in
            let client = try server.client()
            let id = try await client.createPolicy(NewPolicy(name: "web", content: PolicyContent(description: "front"))).id
            try await client.updatePolicy(id: id, PolicyPatch(fields: [.xdrEnabled: .flag(false)]), name: "web")
            let patches = await server.emulator.log.filter { $0.method == "PATCH" }
            #expect(patches.count == 1)
            #expect(patches[0].json == ["xdrEnabled": false])
            #expect(patches[0].status == 204)
            let policy = try await client.policy(id: id)
            #expect(!policy.xdrEnabled && policy.description == "front")
        }
    }

    @Test("the emulator refuses a name in a PATCH with 400")
    func emulatorRefusesRename() async throws {
        try await withEmulator { server in
            let id = await server.emulator.seedPolicy(name: "web")
            let (body, status) = try await rawRequest(
                server, "PATCH", "/v3.0/containerSecurity/policies/\(id)", body: Data(#"{"name":"web2"}"#.utf8))
            #expect(status == 400)
            #expect(String(decoding: body, as: UTF8.self).contains("name cannot be changed"))
            #expect(await server.emulator.policy(named: "web") != nil)
        }
    }

    @Test("a wrong or missing token is 401, with the trace id and never the token in the message")
    func unauthorized() async throws {
        try await withEmulator { server in
            let secret = "not-the-right-token-8c2d"
            let client = try server.client(token: secret)
            await #expect {
                _ = try await client.listPolicies()
            } throws: { error in
                guard let error = error as? VisionOneError else { return false }
                let text = String(describing: error)
                return error.kind == .unauthorized && error.status == 401 && error.traceID?.hasPrefix("emu-trace-") == true
                    && error.attempts == 1 && text.contains("token was refused") && text.contains("x-trace-id emu-trace-")
                    && !text.contains(secret)
            }
            let (_, status) = try await rawRequest(server, "GET", "/v3.0/containerSecurity/policies", token: nil)
            #expect(status == 401)
        }
    }

    @Test("a body over the limit is refused before sending; over the server's, the server answers 413")
    func payloadTooLarge() async throws {
        try await withEmulator { server in
            let rules = (1...25_000).map { RuleReference(id: String(format: "TM-%08d", $0), mitigation: .terminate) }
            let huge = NewRuleset(name: "huge", content: RulesetContent(rules: rules))

            let client = try server.client()
            await #expect {
                _ = try await client.createRuleset(huge)
            } throws: { error in
                guard let error = error as? VisionOneError, case .payloadTooLarge(let bytes, 1_000_000) = error.kind else { return false }
                return bytes > 1_000_000 && error.status == nil && error.attempts == 0 && error.objectName == "huge"
            }
            #expect(await server.emulator.log.isEmpty)

            let lax = try server.client { $0.maximumBodySize = 4_000_000 }
            await #expect {
                _ = try await lax.createRuleset(huge)
            } throws: { error in
                guard let error = error as? VisionOneError, case .payloadTooLarge = error.kind else { return false }
                return error.status == 413
            }
            #expect(await server.emulator.rulesetCount(named: "huge") == 0)
        }
    }

    @Test("a duplicate name is reported as nameTaken, whichever of 409 or 400 the server uses")
    func duplicateName() async throws {
        try await withEmulator { server in
            await server.emulator.seedRuleset(name: "baseline")
            let client = try server.client()
            for status in [409, 400] {
                await server.emulator.setDuplicateNameStatus(status)
                await #expect {
                    _ = try await client.createRuleset(NewRuleset(name: "Baseline"))
                } throws: { error in
                    (error as? VisionOneError)?.kind == .nameTaken && (error as? VisionOneError)?.status == status
                }
            }
            #expect(await server.emulator.rulesetCount(named: "Baseline") == 0)
        }
    }

    @Test("redirects are not followed, so the token goes to the configured host only")
    func redirectsNotFollowed() async throws {
        try await withEmulator { server in
            let elsewhere = server.baseURL.absoluteString + "/elsewhere"
            await server.emulator.inject(.redirect(elsewhere), method: "GET", on: .requests([1]))
            let client = try server.client()
            await #expect {
                _ = try await client.listPolicies()
            } throws: { error in
                (error as? VisionOneError)?.kind == .unexpectedStatus && (error as? VisionOneError)?.status == 307
            }
            #expect(await server.emulator.log.map(\.path) == ["/v3.0/containerSecurity/policies"])
        }
    }

    @Test("a nextLink to another host is not followed")
    func nextLinkElsewhere() async throws {
        try await withEmulator { server in
            for number in 1...30 { await server.emulator.seedRuleset(name: "rs\(number)") }
            await server.emulator.setNextLinkHost("attacker.example:80")
            let client = try server.client { $0.pageSize = 25 }
            await #expect {
                _ = try await client.listRulesets()
            } throws: { error in
                guard let error = error as? VisionOneError, case .invalidResponse(let reason) = error.kind else { return false }
                return reason.contains("points away")
            }
            #expect(await server.emulator.log.count == 1)
        }
    }

    @Test("decoding is strict about the fields used and keeps the others")
    func decoding() async throws {
        try await withEmulator { server in
            let client = try server.client { $0.pageSize = 25 }
            let rules = try await client.listManagedRules()
            #expect(rules.count == 60)
            #expect(Set(rules.map(\.id)).count == 60)
            let first = try await client.managedRule(id: "TM-00000001")
            #expect(first.name == "Managed rule 1")
            let mitre = try #require(first.additionalFields["mitre"], "the MITRE mapping was kept")
            #expect(mitre == .object(["tactics": .array([.string("TA0002")]), "techniques": .array([.string("T1059.001")])]))

            await server.emulator.seedRuleset(name: "odd", rules: [("TM-00000001", "block")])
            await #expect {
                _ = try await client.listRulesets()
            } throws: { error in
                guard let error = error as? VisionOneError, case .invalidResponse(let reason) = error.kind else { return false }
                return reason.contains("items[0].rules[0].mitigation") && reason.contains("\"block\"")
            }
        }
    }

    @Test("Amazon ECS clusters: list, and assign a policy with a PATCH of policyId")
    func clusters() async throws {
        try await withEmulator { server in
            let clusterID = await server.emulator.seedCluster(name: "prod")
            let policyID = await server.emulator.seedPolicy(name: "web")
            let client = try server.client()
            #expect(try await client.listAmazonECSClusters().map(\.id) == [clusterID])
            try await client.updateAmazonECSCluster(id: clusterID, AmazonECSClusterPatch(policyID: policyID))
            let cluster = try await client.amazonECSCluster(id: clusterID)
            #expect(cluster.policyID == policyID)
            #expect(cluster.additionalFields["orchestrator"] == .string("Amazon ECS"))
            let patch = await server.emulator.log.first { $0.method == "PATCH" }
            #expect(patch?.json == ["policyId": .string(policyID)])
            await #expect {
                try await client.deletePolicy(id: policyID, name: "web")
            } throws: { error in
                (error as? VisionOneError)?.kind == .rejected
                    && (error as? VisionOneError)?.serverMessage?.contains("You cannot delete active policies") == true
            }
        }
    }

    @Test("the token is never printed")
    func tokenRedacted() throws {
        let secret = "s3cr3t-token-value"
        let token = try BearerToken(secret + "\n")
        var dumped = ""
        dump(token, to: &dumped)
        for text in [String(describing: token), String(reflecting: token), dumped, "\(token)"] {
            #expect(!text.contains(secret))
        }
        let client = try VisionOneClient(baseURL: URL(string: "https://api.xdr.trendmicro.com")!, token: token)
        var dumpedClient = ""
        dump(client, to: &dumpedClient)
        #expect(!dumpedClient.contains(secret) && !String(describing: client).contains(secret))
        #expect(throws: VisionOneError.self) { try BearerToken("two words") }
        #expect(throws: VisionOneError.self) { try BearerToken("line\r\nX-Injected: 1") }
        #expect(throws: VisionOneError.self) { try BearerToken("  \n") }
    }

    @Test("plain http is refused but to the loopback address")
    func plainHTTPRefused() throws {
        let token = try BearerToken("t")
        #expect(throws: VisionOneError.self) {
            try VisionOneClient(baseURL: URL(string: "http://api.xdr.trendmicro.com")!, token: token)
        }
        let local = try VisionOneClient(baseURL: URL(string: "http://127.0.0.1:8080/v3.0/")!, token: token)
        #expect(local.baseURL.absoluteString == "http://127.0.0.1:8080")
    }
}

/// A request made without the client, for the emulator's own refusals.
func rawRequest(
    _ server: EmulatorServer, _ method: String, _ pathAndQuery: String, body: Data? = nil,
    token: String? = EmulatorServer.token
) async throws -> (Data, Int) {
    var request = URLRequest(url: URL(string: server.baseURL.absoluteString + pathAndQuery)!)
    request.httpMethod = method
    request.httpBody = body
    if let token { request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
    let session = URLSession(configuration: .ephemeral)
    defer { session.finishTasksAndInvalidate() }
    let (data, response) = try await session.data(for: request)
    return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
}
