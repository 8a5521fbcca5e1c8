import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, its standard output read through a pipe line
/// by line as it comes (so a test can act the moment a line appears), its standard error
/// kept in a file. Pipes are close-on-exec, so processes started at the same time by other
/// tests never inherit them.
final class Subprocess {
    let pid: pid_t
    let commandLine: String
    private let output: Int32
    private var input: Int32?
    private let errorFile: String
    private var buffer: [UInt8] = []
    private(set) var isAtEnd = false
    private var exitStatus: Int32?
    private var released = false

    /// How the process ended.
    enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exit \(code)"
            case .signalled(let signal): "signal \(signal)"
            }
        }
    }

    /// Starts `executable` with `arguments`. `asUnprivilegedUser` runs it as `nobody` when
    /// the tests run as root (see `Unprivileged`). `keepInputOpen` gives the child a pipe on
    /// standard input that `send` writes to; otherwise it reads `/dev/null`.
    init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        asUnprivilegedUser: Bool = false, keepInputOpen: Bool = false
    ) throws {
        var argv = [executable] + arguments
        if asUnprivilegedUser { argv = Unprivileged.prefix + argv }
        commandLine = argv.joined(separator: " ")
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("rel-stderr-\(UUID().uuidString)").path
        var outputPipe: [Int32] = [-1, -1]
        guard pipe2(&outputPipe, O_CLOEXEC) == 0 else { throw SubprocessError("pipe: \(String(cString: strerror(errno)))") }
        var inputPipe: [Int32] = [-1, -1]
        if keepInputOpen {
            guard pipe2(&inputPipe, O_CLOEXEC) == 0 else { throw SubprocessError("pipe: \(String(cString: strerror(errno)))") }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if keepInputOpen {
            posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        var environmentVariables = ProcessInfo.processInfo.environment
        environmentVariables["POLICYCTL_DB"] = nil
        for (key, value) in environment { environmentVariables[key] = value }
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environmentVariables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, argv[0], &actions, nil, cArguments, cEnvironment)
        close(outputPipe[1])
        if keepInputOpen { close(inputPipe[0]) }
        guard code == 0 else {
            close(outputPipe[0])
            if keepInputOpen { close(inputPipe[1]) }
            throw SubprocessError("cannot start \(argv[0]): \(String(cString: strerror(code)))")
        }
        pid = child
        output = outputPipe[0]
        input = keepInputOpen ? inputPipe[1] : nil
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = try? wait()
        }
        close(output)
        if let input { close(input) }
        unlink(errorFile)
    }

    /// Runs a command to its end; its standard output, standard error and how it ended.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        asUnprivilegedUser: Bool = false, input: String? = nil
    ) throws -> (output: String, error: String, ending: Ending) {
        let process = try Subprocess(
            executable, arguments, environment: environment, asUnprivilegedUser: asUnprivilegedUser,
            keepInputOpen: input != nil)
        if let input {
            process.send(input)
            process.closeInput()
        }
        let output = process.readToEnd()
        let ending = try process.wait()
        return (output, process.errorOutput, ending)
    }

    func send(_ text: String) {
        guard let input else { return }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }

    func closeInput() {
        if let input { close(input) }
        input = nil
    }

    /// The next complete line of standard output, waiting at most `timeout` seconds; nil on
    /// a timeout or at the end of the output. A last line without its line feed is not a line
    /// (the process was killed while writing it) and stays in `unfinishedLine`.
    func nextLine(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if isAtEnd { return nil }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining * 1_000, 1_000).rounded(.up)))
            if ready < 0 && errno != EINTR { isAtEnd = true }
            if ready > 0 { fill() }
        }
    }

    /// Reads what standard output holds now, without waiting, so that a process with a lot
    /// to say never blocks on a full pipe while the test is busy elsewhere.
    func drain() {
        while !isAtEnd {
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { return }
            fill()
        }
    }

    /// Whatever is left on standard output, up to its end.
    func readToEnd() -> String {
        while !isAtEnd { fill() }
        let text = String(decoding: buffer, as: UTF8.self)
        buffer.removeAll()
        return text
    }

    /// Every remaining complete line, up to the end of the output.
    func remainingLines() -> [String] {
        var lines: [String] = []
        while let line = nextLine(timeout: 30) { lines.append(line) }
        return lines
    }

    /// Bytes of a last line cut off when the process died.
    var unfinishedLine: String { String(decoding: buffer, as: UTF8.self) }

    private func fill() {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
        if count > 0 {
            buffer.append(contentsOf: chunk[..<count])
        } else if count == 0 || errno != EINTR {
            isAtEnd = true
        }
    }

    /// Sends a signal (SIGKILL unless told otherwise) if the process has not been reaped.
    func send(signal: Int32 = SIGKILL) {
        if exitStatus == nil { kill(pid, signal) }
    }

    var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { exitStatus = status }
        return result == 0
    }

    @discardableResult
    func wait() throws -> Ending {
        if exitStatus == nil {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { throw SubprocessError("waitpid: \(String(cString: strerror(errno)))") }
            }
            exitStatus = status
        }
        let status = exitStatus!
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
    }

    /// What the process wrote on standard error (complete once it has ended).
    var errorOutput: String {
        (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
    }
}

/// `pipe2(2)` with `O_CLOEXEC`: both ends are close-on-exec from the start, so a process that
/// another thread starts at the same moment cannot inherit them (Swift's Glibc module does
/// not import `pipe2`, so it is looked up at run time).
private func pipe2(_ descriptors: inout [Int32], _ flags: Int32) -> Int32 {
    typealias Function = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    guard let symbol = dlsym(nil, "pipe2") else { return pipe(&descriptors) }
    return unsafeBitCast(symbol, to: Function.self)(&descriptors, flags)
}

struct SubprocessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Permissions mean nothing to root, so the tests about read-only files and folders run the
/// process under test as `nobody` when they run as root (`setpriv` drops the user, the group
/// and the supplementary groups, with no capabilities left). Run as an ordinary user, the
/// tests use that user as it is: permissions already apply.
enum Unprivileged {
    static var isRoot: Bool { geteuid() == 0 }

    static var prefix: [String] {
        isRoot ? ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] : []
    }

    /// The user and group that own files the unprivileged process may write.
    static var owner: (uid: uid_t, gid: gid_t) {
        guard isRoot else { return (geteuid(), getegid()) }
        let user = getpwnam("nobody")
        let group = getgrnam("nogroup")
        return (user?.pointee.pw_uid ?? 65_534, group?.pointee.gr_gid ?? 65_534)
    }

    /// Whether setpriv is there to use when running as root.
    static var isAvailable: Bool {
        !isRoot || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }
}
