import Foundation
import Testing

/// How `policyctl remote` fails: one `error:` line that says what went wrong and what to do,
/// naming the request, the status and the `x-trace-id`, and never the token.
@Suite struct RemoteErrorTests {
    static let policies = "/v3.0/containerSecurity/policies"

    let remote: RemoteWorkspace
    var workspace: Workspace { remote.workspace }

    init() throws {
        remote = try RemoteWorkspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
    }

    func plan(_ server: EmulatorServer, _ options: String...) async throws -> CommandResult {
        try await remote.run(
            ["remote", "plan", "--endpoint", server.baseURL.absoluteString, "--token-file", remote.tokenPath] + options)
    }

    @Test func aWrongTokenIs401AndNeitherTokenIsPrinted() async throws {
        let wrong = "wrong-token-7d41a9"
        try Data(wrong.utf8).write(to: workspace.file("wrong"))
        chmod(workspace.file("wrong").path, 0o600)
        try await withEmulator { server in
            let result = try await remote.run(["remote", "plan", "--endpoint", server.baseURL.absoluteString, "--token-file", "wrong"])
            #expect(result.status == 1 && result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("error: GET \(Self.policies): HTTP 401: Unauthorized: The API key is invalid or missing: the token was refused: check the token file"))
            #expect(result.stderr.contains("[x-trace-id emu-trace-1]"))
            #expect(!result.stderr.contains(wrong))
            #expect(await server.emulator.log.count == 1)
        }
    }

    @Test func theTokenComesFromAFileNeverFromTheCommandLineAndIsNotEchoed() async throws {
        try await withEmulator { server in
            let endpoint = server.baseURL.absoluteString
            let none = try await remote.run(["remote", "plan", "--endpoint", endpoint])
            #expect(none.status == 1)
            #expect(none.stderr == "error: no token: give --token-file FILE, or set $VISION_ONE_TOKEN_FILE to the file's path; the token is never taken on the command line\n")

            // A token typed where the file's path goes is not printed back.
            let typed = try await remote.run(["remote", "plan", "--endpoint", endpoint, "--token-file", EmulatorServer.token])
            #expect(typed.status == 1)
            #expect(typed.stderr == "error: cannot read the token file given to --token-file: there is no such file\n")

            try Data("two words\n".utf8).write(to: workspace.file("spaced"))
            chmod(workspace.file("spaced").path, 0o600)
            let spaced = try await remote.run(["remote", "plan", "--endpoint", endpoint, "--token-file", "spaced"])
            #expect(spaced.stderr.hasPrefix("error: the token file given to --token-file does not hold a usable token: the token cannot be used: it contains a space"))
            #expect(!spaced.stderr.contains("words"))

            chmod(remote.tokenPath, 0o644)
            let readable = try await remote.run(
                ["remote", "plan"], environment: [RemoteWorkspace.tokenVariable: remote.tokenPath, RemoteWorkspace.endpointVariable: endpoint])
            #expect(readable.status == 0)
            #expect(readable.stderr == "warning: the token file $VISION_ONE_TOKEN_FILE names can be read by other users (mode 644): chmod 600 it\n")

            // Or from standard input, piped from a secret store.
            let piped = try workspace.run(["remote", "plan", "--endpoint", endpoint, "--token-file", "-"], input: Data(EmulatorServer.token.utf8))
            #expect(piped.status == 0 && piped.stderr.isEmpty && !piped.stdout.contains(EmulatorServer.token))
            #expect(await server.emulator.log.count == 4)
        }
    }

    @Test func theEndpointIsAURLOrARegion() throws {
        let token = ["--token-file", "token"]
        try Data("t0ken".utf8).write(to: workspace.file("token"))
        let both = try workspace.run(["remote", "plan", "--endpoint", "https://api.xdr.trendmicro.com", "--region", "eu"] + token)
        #expect(both.status == 64 && both.stderr.hasPrefix("Error: give --endpoint or --region, not both\n"))
        let region = try workspace.run(["remote", "plan", "--region", "mars"] + token)
        #expect(region.status == 64 && region.stderr.hasPrefix("Error: The value 'mars' is invalid for '--region <code>': 'mars' is not a Vision One region: use one of au, eu, in, jp, mea, sg, uk, us, usgov\n"), "\(region.stderr)")
        let none = try workspace.run(["remote", "plan"] + token)
        #expect(none.stderr == "error: no endpoint: give --endpoint URL or --region CODE (au, eu, in, jp, mea, sg, uk, us, usgov), or set $VISION_ONE_ENDPOINT\n")
        let plain = try workspace.run(["remote", "plan", "--endpoint", "http://api.xdr.trendmicro.com"] + token)
        #expect(plain.stderr.hasPrefix("error: the request cannot be made: the endpoint must use https (plain http only to 127.0.0.1)"))
        let credentials = try workspace.run(["remote", "plan", "--endpoint", "https://me:s3cret@api.xdr.trendmicro.com"] + token)
        #expect(credentials.stderr.hasPrefix("error: the request cannot be made: the endpoint has a user name or password in it (not shown here)"))
        #expect(!credentials.stderr.contains("s3cret"))
        let timeout = try workspace.run(["remote", "plan", "--region", "us", "--timeout", "0"] + token)
        #expect(timeout.status == 64 && timeout.stderr.hasPrefix("Error: --timeout is 0; give between 1 and 600 seconds\n"))
    }

    @Test func anAnswerThatIsNotTheDocumentedJSONIsSaidSo() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.body(200, #"{"items": [{"id": "p1"}"#), method: "GET", path: Self.policies, on: .always)
            let truncated = try await plan(server)
            #expect(truncated.status == 1)
            #expect(truncated.stderr.hasPrefix("error: GET \(Self.policies): HTTP 200: the answer is not what the API documents (the body: The given data was not valid JSON.): check the endpoint URL; if it is right, report this with the trace id [x-trace-id emu-trace-"), "\(truncated.stderr)")

            await server.emulator.clearFaults()
            await server.emulator.inject(.body(200, #"{"items": [{"id": "p1"}]}"#), method: "GET", path: Self.policies, on: .always)
            let missing = try await plan(server)
            #expect(missing.stderr.contains("(items[0].name is missing)"), "\(missing.stderr)")

            // A proxy's page where the API should be: the endpoint is wrong.
            await server.emulator.clearFaults()
            await server.emulator.inject(.body(404, "<html>Not Found</html>\n"), method: "GET", path: Self.policies, on: .always)
            let elsewhere = try await plan(server)
            #expect(elsewhere.stderr.hasPrefix("error: GET \(Self.policies): HTTP 404: <html>Not Found</html>: the endpoint has no Container Security API there: check the endpoint URL (the base URL only, e.g. https://api.xdr.trendmicro.com) [x-trace-id "), "\(elsewhere.stderr)")
        }
    }

    @Test func a429IsRetriedAsRetryAfterSaysAndAWaitTooLongIsAnError() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.status(429, retryAfter: "1"), method: "GET", path: Self.policies, on: .requests([1]))
            let waited = try await plan(server)
            #expect(waited.status == 0)
            #expect(waited.stderr == "note: GET \(Self.policies): HTTP 429 (attempt 1); trying again in 1.0 s\n")

            await server.emulator.clearFaults()
            await server.emulator.inject(.status(429, retryAfter: "600"), method: "GET", path: Self.policies, on: .always)
            let tooLong = try await plan(server)
            #expect(tooLong.status == 1)
            #expect(tooLong.stderr.hasPrefix("error: GET \(Self.policies): HTTP 429: TooManyRequests: Too Many API requests: the server asks to wait 600 s (Retry-After), longer than the client waits for: try again after that; a push resumes where it stopped [x-trace-id "), "\(tooLong.stderr)")

            await server.emulator.clearFaults()
            await server.emulator.inject(.status(503, retryAfter: "0"), method: "GET", path: Self.policies, on: .always)
            let failing = try await plan(server)
            #expect(failing.stderr.hasPrefix("error: GET \(Self.policies): HTTP 503: InternalServerError: Internal error: the server kept failing: try again later; a push resumes where it stopped (after 6 attempts) [x-trace-id "), "\(failing.stderr)")
        }
    }

    @Test func aSlowAnswerTimesOutAndIsRetriedAndACreateThatTimedOutIsFoundNotMadeAgain() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.delayAnswer(.seconds(5)), method: "GET", path: Self.policies, on: .requests([1]))
            await server.emulator.inject(.delayAnswer(.seconds(5)), method: "POST", path: "/v3.0/containerSecurity/rulesets", on: .requests([1]))
            let push = try await remote.run(
                ["remote", "push", "--endpoint", server.baseURL.absoluteString, "--token-file", remote.tokenPath, "--timeout", "1"])
            #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
            #expect(lines(push.stdout).contains { $0.hasPrefix("[1/3] + create ruleset base: found already created, id rs-") })
            #expect(await server.emulator.rulesetCount(named: "base") == 1)
            #expect(await server.emulator.log.filter { $0.method == "GET" && $0.path == Self.policies }.count >= 2)
        }
    }

    @Test func noAnswerInTimeIsAnErrorThatSaysHowToWaitLonger() async throws {
        try await withEmulator { server in
            await server.emulator.inject(.delayAnswer(.seconds(30)), method: "GET", path: Self.policies, on: .always)
            let result = try await plan(server, "--timeout", "1")
            #expect(result.status == 1)
            #expect(lines(result.stderr).last == "error: GET \(Self.policies): no answer within the request timeout: try again; a push resumes where it stopped (after 4 attempts); --timeout SECONDS waits longer")
            #expect(lines(result.stderr).dropLast().allSatisfy { $0.hasPrefix("note: GET \(Self.policies): no answer in time (attempt ") })
        }
    }
}
