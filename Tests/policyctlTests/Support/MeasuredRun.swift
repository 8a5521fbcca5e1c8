import Foundation
import Testing

/// One run of `policyctl` started with posix_spawn and reaped with wait4, so that its own
/// peak memory is known (not that of the test process's other children), and stopped by a
/// watchdog when it runs too long or grows too large: a command that reads without bound
/// must fail its test, not exhaust the machine.
struct MeasuredRun {
    /// The exit code, or nil when the process was killed by a signal.
    let exitCode: Int32?
    /// The peak resident memory of the process, in bytes.
    let peakMemory: Int
    let seconds: Double
    /// Why the watchdog killed it, if it did.
    let killedBecause: String?
    let stderr: String

    /// Runs the binary with `arguments`, standard input from `standardInput` (a file
    /// descriptor the caller keeps and closes), in `directory`. When `feeder` is given, it
    /// is started first with its standard output on a pipe that becomes policyctl's input.
    static func run(
        _ arguments: [String], in directory: URL, standardInput: Int32? = nil, feeder: [String]? = nil,
        timeout: Double = 60, memoryCeiling: Int = 1 << 30
    ) throws -> MeasuredRun {
        let binary = try Workspace.binary().path
        let stderrPath = directory.appending(path: "measured-\(UUID().uuidString).stderr").path
        var pipe: [Int32] = [-1, -1]
        var feederPID: pid_t?
        var input = standardInput ?? -1
        if let feeder {
            // Close-on-exec, so that no child but the one given each end keeps it open (the
            // feeder must see the reader go away).
            guard Glibc.pipe(&pipe) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
            for end in pipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            feederPID = try spawn(feeder, standardInput: nil, standardOutput: pipe[1], stderrPath: "/dev/null")
            input = pipe[0]
        }
        let start = Date()
        // The shell changes directory and becomes policyctl (exec keeps the process ID).
        let pid = try spawn(
            ["/bin/sh", "-c", #"cd "$0" && exec "$@""#, directory.path, binary] + arguments,
            standardInput: input, standardOutput: nil, stderrPath: stderrPath)
        if feeder != nil {
            close(pipe[0])
            close(pipe[1])
        }

        var status: Int32 = 0
        var usage = rusage()
        var killedBecause: String?
        while wait4(pid, &status, WNOHANG, &usage) == 0 {
            if Date().timeIntervalSince(start) > timeout {
                killedBecause = "still running after \(timeout) s"
            } else if let resident = residentMemory(of: pid), resident > memoryCeiling {
                killedBecause = "over \(memoryCeiling >> 20) MiB of memory"
            }
            if killedBecause != nil {
                kill(pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                break
            }
            usleep(20_000)
        }
        let seconds = Date().timeIntervalSince(start)
        if let feederPID {
            kill(feederPID, SIGKILL)
            var feederStatus: Int32 = 0
            waitpid(feederPID, &feederStatus, 0)
        }
        let exited = status & 0x7f == 0
        return MeasuredRun(
            exitCode: exited ? (status >> 8) & 0xff : nil, peakMemory: usage.ru_maxrss * 1024, seconds: seconds,
            killedBecause: killedBecause, stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
    }

    private static func spawn(
        _ arguments: [String], standardInput: Int32?, standardOutput: Int32?, stderrPath: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput {
            posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let standardOutput {
            posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        environment["POLICYCTL_DB"] = nil
        let envp = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
        guard result == 0 else { throw POSIXError(.init(rawValue: result)!) }
        return pid
    }

    /// The resident memory of a running process, from /proc.
    private static func residentMemory(of pid: pid_t) -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

extension Process {
    /// Waits for the process to end, killing it after `seconds` (the other end of a FIFO
    /// that never opened it blocks forever); true when it ended on its own.
    func finish(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning, Date() < deadline { usleep(20_000) }
        guard isRunning else { return true }
        kill(processIdentifier, SIGKILL)
        waitUntilExit()
        return false
    }
}
