import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The request context of the emulator's server: the channel, so that a fault can close the
/// connection without answering.
struct EmulatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The emulator served over HTTP by Hummingbird on 127.0.0.1, on a port the system picks.
final class EmulatorServer: Sendable {
    static let token = "emulator-token-5b1f0c"

    let emulator: VisionOneEmulator
    let baseURL: URL
    private let task: Task<Void, any Error>

    private init(emulator: VisionOneEmulator, baseURL: URL, task: Task<Void, any Error>) {
        self.emulator = emulator
        self.baseURL = baseURL
        self.task = task
    }

    static func start() async throws -> EmulatorServer {
        let emulator = VisionOneEmulator(token: token)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "vision-one-emulator")
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder<EmulatorContext> { request, context in
                try await serve(request, context: context, emulator: emulator)
            },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let task = Task {
            try await withTaskExecutorPreference(EmulatorExecutor.shared) { try await app.runService(gracefulShutdownSignals: []) }
        }
        var port = 0
        for await value in ports { port = value }
        guard port > 0, let url = URL(string: "http://127.0.0.1:\(port)") else {
            task.cancel()
            throw URLError(.cannotConnectToHost)
        }
        return EmulatorServer(emulator: emulator, baseURL: url, task: task)
    }

    func stop() async {
        await emulator.release()
        task.cancel()
        _ = try? await task.value
    }

    private static func serve(_ request: Request, context: EmulatorContext, emulator: VisionOneEmulator) async throws -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 8 * 1_048_576)
        } catch {
            return response(VisionOneEmulator.failure(413, "RequestEntityTooLarge", "The request body exceeds 1 MB"))
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let emulated = EmulatedRequest(
            method: request.method.rawValue, path: request.uri.path, query: query, headers: headers,
            body: Data(buffer.readableBytesView), host: request.head.authority ?? headers["host"] ?? "127.0.0.1")

        let (index, fault) = await emulator.admit(emulated)
        switch fault {
        case .dropBeforeHandling?:
            try? await context.channel.close()
            throw CancellationError()
        case .dropAfterHandling?:
            _ = await emulator.handle(emulated)
            try? await context.channel.close()
            throw CancellationError()
        case .holdAfterHandling?:
            _ = await emulator.handle(emulated)
            await emulator.hold()
            while await !emulator.isReleased { try? await Task.sleep(for: .milliseconds(20)) }
            try? await context.channel.close()
            throw CancellationError()
        case .delayAnswer(let delay)?:
            let answer = await emulator.handle(emulated)
            // Cut short when the server stops.
            try? await Task.sleep(for: delay)
            await emulator.answered(index, status: answer.status)
            return response(answer)
        case let action?:
            let answer = await emulator.faultResponse(action)
            await emulator.answered(index, status: answer.status)
            return response(answer)
        case nil:
            let answer = await emulator.handle(emulated)
            await emulator.answered(index, status: answer.status)
            return response(answer)
        }
    }

    private static func response(_ answer: EmulatedResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// The emulator's own thread for the server's tasks (child tasks inherit the preference, and
/// the emulator actor runs there too). Tests that wait synchronously for a `policyctl` run
/// hold threads of the shared concurrency pool, which has as many as the machine has cores: an
/// emulator served there would answer late, past a client's timeout.
final class EmulatorExecutor: TaskExecutor {
    static let shared = EmulatorExecutor()
    private let queue = DispatchQueue(label: "vision-one-emulator")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// Runs `body` with an emulator started for it, and stops the emulator after.
func withEmulator<Result>(_ body: (EmulatorServer) async throws -> Result) async throws -> Result {
    let server = try await EmulatorServer.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
