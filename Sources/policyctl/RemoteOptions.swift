import ArgumentParser
import ContainerPolicyStore
import ContainerPolicySync
import Foundation

/// The Vision One tenant of `remote`: its endpoint (`--endpoint URL` or `--region CODE`, else
/// `$VISION_ONE_ENDPOINT`), the file its API token is read from (`--token-file FILE`, else
/// `$VISION_ONE_TOKEN_FILE`), and how long to wait for an answer. The token is never taken on
/// the command line, where other users of the machine can read it, and never printed.
struct RemoteOptions: ParsableArguments {
    static let endpointVariable = "VISION_ONE_ENDPOINT"
    static let tokenFileVariable = "VISION_ONE_TOKEN_FILE"
    /// A token is a few hundred bytes; a file far larger is not a token file.
    static let tokenFileLimit = 1 << 20
    static let regions = VisionOneRegion.allCases.map(\.rawValue).joined(separator: ", ")

    @Option(
        name: .customLong("endpoint"),
        help: ArgumentHelp(
            "The tenant's API base URL, e.g. https://api.eu.xdr.trendmicro.com (default: $\(endpointVariable)).", valueName: "url"))
    var endpoint: String?

    @Option(
        name: .customLong("region"),
        help: ArgumentHelp("Instead of --endpoint: the tenant's region, one of \(regions).", valueName: "code"),
        transform: parseRegion)
    var region: VisionOneRegion?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("The file that holds the API token, or - for standard input (default: $\(tokenFileVariable)).", valueName: "file"),
        completion: .file())
    var tokenFile: String?

    @Option(
        name: .customLong("timeout"),
        help: ArgumentHelp("Seconds to wait for each answer before giving up on it; the server's own limit is 60.", valueName: "seconds"))
    var timeout = 60

    func validate() throws {
        if endpoint != nil, region != nil {
            throw ValidationError("give --endpoint or --region, not both")
        }
        guard (1...600).contains(timeout) else {
            throw ValidationError("--timeout is \(timeout); give between 1 and 600 seconds")
        }
    }

    /// A client of the endpoint with the token of the token file; `policyPlatform` is sent
    /// when it creates a policy.
    func client(policyPlatform: String? = nil) throws(ExitCode) -> VisionOneClient {
        let url = try endpointURL()
        let token = try readToken()
        var configuration = VisionOneClient.Configuration(requestTimeout: .seconds(timeout), policyPlatform: policyPlatform)
        configuration.retry.willRetry = noteRetry
        return try exitOnRefusal { try VisionOneClient(baseURL: url, token: token, configuration: configuration) }
    }

    private func endpointURL() throws(ExitCode) -> URL {
        if let region { return region.baseURL }
        guard let text = endpoint ?? environment(Self.endpointVariable) else {
            throw refuse("""
                no endpoint: give --endpoint URL or --region CODE (\(Self.regions)), or set $\(Self.endpointVariable)
                """)
        }
        guard let url = URL(string: text), url.scheme != nil, url.host != nil else {
            // Not shown when it may hold credentials (user:password@host, ?key=...).
            let shown = text.contains(where: { "@?#".contains($0) }) ? "" : " \(quotedName(text))"
            throw refuse("""
                the endpoint\(shown) is not a URL: write https://api.<region>.xdr.trendmicro.com (your region's), or give --region CODE
                """)
        }
        return url
    }

    /// The token, from the token file. Errors name the file by where it was given, not by its
    /// path: a token typed in place of the path must not be printed back.
    private func readToken() throws(ExitCode) -> BearerToken {
        let source: String
        let path: String
        if let tokenFile {
            (source, path) = ("the token file given to --token-file", tokenFile)
        } else if let fromEnvironment = environment(Self.tokenFileVariable) {
            (source, path) = ("the token file $\(Self.tokenFileVariable) names", fromEnvironment)
        } else {
            throw refuse("""
                no token: give --token-file FILE, or set $\(Self.tokenFileVariable) to the file's path; the token is never \
                taken on the command line
                """)
        }
        let data = try InputFile.read(path, limit: Self.tokenFileLimit, document: "token file", shownAs: source)
        warnIfOthersCanRead(path, source: source)
        return try exitOnRefusal {
            do {
                return try BearerToken(String(decoding: data, as: UTF8.self))
            } catch {
                throw CommandRefusal(description: "\(source) does not hold a usable token: \(error)")
            }
        }
    }

    /// A token file others may read is a token others may use: said, not refused, as the
    /// file may be a mounted secret whose mode the user does not choose.
    private func warnIfOthersCanRead(_ path: String, source: String) {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_mode & 0o077 != 0 else { return }
        StandardError.line(
            "warning: \(source) can be read by other users (mode \(String(status.st_mode & 0o777, radix: 8))): chmod 600 it")
    }

    private func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A `--region` value: a region's code, in any letter case.
@Sendable
func parseRegion(_ argument: String) throws -> VisionOneRegion {
    guard let region = VisionOneRegion(rawValue: argument.lowercased()) else {
        throw ValidationError("'\(argument)' is not a Vision One region: use one of \(RemoteOptions.regions)")
    }
    return region
}

/// Says on stderr why a command seems to hang: a wait of a second or more before a retry.
/// Shorter ones pass unremarked.
@Sendable
func noteRetry(_ cause: VisionOneError, _ wait: Duration) {
    guard wait >= .seconds(1) else { return }
    let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
    let what: String
    switch (cause.status, cause.kind) {
    case (let status?, _): what = "HTTP \(status)"
    case (nil, .timedOut): what = "no answer in time"
    case (nil, .connectionFailed(let reason)): what = reason
    default: what = "no answer"
    }
    StandardError.line(terminalSafe(
        "note: \(cause.method) \(cause.path): \(what) (attempt \(cause.attempts)); trying again in \(String(format: "%.1f", seconds)) s"))
}
