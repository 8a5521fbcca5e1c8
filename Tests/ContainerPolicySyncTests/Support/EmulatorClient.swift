import ContainerPolicySync
import Foundation

extension EmulatorServer {
    /// A client of this emulator with the right token; its retries record their waits in
    /// `sleeps` and return at once.
    func client(
        token: String = EmulatorServer.token, sleeps: SleepRecorder = SleepRecorder(),
        configure: (inout VisionOneClient.Configuration) -> Void = { _ in }
    ) throws -> VisionOneClient {
        var configuration = VisionOneClient.Configuration()
        configuration.retry.sleep = { duration in await sleeps.record(duration) }
        configuration.retry.jitter = { 0.5 }
        configuration.requestTimeout = .seconds(10)
        configure(&configuration)
        return try VisionOneClient(baseURL: baseURL, token: try BearerToken(token), configuration: configuration)
    }
}

/// The waits a client's retry policy asked for.
actor SleepRecorder {
    private(set) var durations: [Duration] = []

    func record(_ duration: Duration) {
        durations.append(duration)
    }
}
