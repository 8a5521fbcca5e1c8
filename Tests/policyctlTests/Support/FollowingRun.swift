import Foundation
import Testing

/// A `policyctl` that keeps running (`history --follow`): started with posix_spawn, its
/// standard output on a pipe read line by line as lines come, its standard error in a file,
/// and stopped with a signal.
final class FollowingRun {
    let pid: pid_t
    private var output: Int32
    private let errorPath: String
    private var buffer: [UInt8] = []
    private var status: Int32?

    /// How the process ended.
    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    init(_ arguments: [String], in workspace: Workspace) throws {
        let binary = try Workspace.binary().path
        errorPath = workspace.file("following-\(UUID().uuidString).stderr").path
        var pipe: [Int32] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
        // Close-on-exec, so that other children started meanwhile do not keep the pipe open.
        for end in pipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The shell changes directory and becomes policyctl (exec keeps the process ID).
        let argv = (["/bin/sh", "-c", #"cd "$0" && exec "$@""#, workspace.directory.path, binary] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        environment["POLICYCTL_DB"] = nil
        let envp = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { envp.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, "/bin/sh", &actions, nil, argv, envp)
        close(pipe[1])
        guard result == 0 else {
            close(pipe[0])
            throw POSIXError(.init(rawValue: result)!)
        }
        pid = child
        output = pipe[0]
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            _ = ending()
        }
        closeOutput()
    }

    /// The next whole line of standard output, waiting at most `timeout` seconds; nil on a
    /// timeout or at the end of the output.
    func nextLine(timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                defer { buffer.removeSubrange(...newline) }
                return String(decoding: buffer[..<newline], as: UTF8.self)
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, output >= 0 else { return nil }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32((remaining * 1_000).rounded(.up))) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.append(contentsOf: chunk[..<count])
            } else if count == 0 {
                return nil
            }
        }
    }

    /// What is left of standard output once the process has ended: whole lines, then any
    /// unfinished one.
    func rest() -> String {
        var lines: [String] = []
        while let line = nextLine(timeout: 5) { lines.append(line + "\n") }
        return lines.joined() + String(decoding: buffer, as: UTF8.self)
    }

    /// Closes the reading end, as a reader that goes away (`| head -1`) does.
    func closeOutput() {
        if output >= 0 { close(output) }
        output = -1
    }

    func send(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// Waits at most `timeout` seconds for the process to end (then kills it); how it ended.
    func ending(timeout: Double = 10) -> Ending {
        let deadline = Date().addingTimeInterval(timeout)
        while status == nil {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                status = raw
            } else if Date() > deadline {
                kill(pid, SIGKILL)
            } else {
                usleep(10_000)
            }
        }
        let raw = status!
        return raw & 0x7F == 0 ? .exited((raw >> 8) & 0xFF) : .signalled(raw & 0x7F)
    }

    var errorOutput: String {
        (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
    }
}
