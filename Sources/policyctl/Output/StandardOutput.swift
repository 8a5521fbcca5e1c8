import ArgumentParser
import Foundation
import Synchronization

/// Standard output, checked: output that cannot be written (a full disk, a closed or broken
/// file) ends the command with one `error:` line on stderr and exit code 1, never with a
/// crash and never with success.
///
/// policyctl's output is buffered here and written with write(2), every error seen. (C's
/// `stdout` cannot be named in Swift 6 code, and Foundation's non-throwing
/// `FileHandle.write` crashes on an error.) A write that fails throws at once, so that a long
/// listing or an export stops at the first lost write; what is still buffered, and what
/// `print` left in stdio's buffer (the argument parser's help), is written and checked as the
/// process exits. A reader that closes a pipe early (`| head`) ends policyctl with SIGPIPE,
/// quietly, as it does any Unix tool.
enum StandardOutput {
    /// Bytes not written yet.
    private static let pending = Mutex<[UInt8]>([])
    /// Set when a write failed: the failure is reported once, and the exit code is 1.
    private static let failed = Atomic<Bool>(false)
    private static let bufferSize = 64 * 1_024
    /// On a terminal, each line is shown as it is printed.
    private static let interactive = isatty(1) == 1

    /// Writes `text` and a line feed.
    static func line(_ text: String) throws(ExitCode) {
        try write(text + "\n")
    }

    static func write(_ text: String) throws(ExitCode) {
        try append(text.utf8)
    }

    static func write(_ data: Data) throws(ExitCode) {
        try append(data)
    }

    /// Writes what is buffered.
    static func flush() throws(ExitCode) {
        if let error = pending.withLock({ drain(&$0) }) { throw failure(error) }
    }

    /// Makes the process write and check, as it exits, whatever output is still buffered: a
    /// failure is reported and the exit code becomes 1. Call once, before anything is printed.
    static func checkWhenExiting() {
        atexit {
            try? StandardOutput.flush()
            if fflush(nil) != 0 { _ = StandardOutput.failure(errno) }
            // exit(3) is already running: _exit ends the process with the code it must have.
            if StandardOutput.failed.load(ordering: .relaxed) { _exit(1) }
        }
    }

    private static func append(_ bytes: some Collection<UInt8>) throws(ExitCode) {
        let error = pending.withLock { buffer -> Int32? in
            buffer.append(contentsOf: bytes)
            guard buffer.count >= bufferSize || (interactive && buffer.last == UInt8(ascii: "\n")) else { return nil }
            return drain(&buffer)
        }
        if let error { throw failure(error) }
    }

    /// Writes and empties `buffer`; the errno of a failed write, or nil.
    private static func drain(_ buffer: inout [UInt8]) -> Int32? {
        defer { buffer.removeAll(keepingCapacity: true) }
        var written = 0
        while written < buffer.count {
            let result = buffer[written...].withUnsafeBytes { writeDescriptor(1, $0) }
            if result < 0 {
                if errno == EINTR { continue }
                return errno
            }
            written += result
        }
        return nil
    }

    /// Reports a failed write (the first one only) and returns the exit code of a refusal.
    private static func failure(_ error: Int32) -> ExitCode {
        if !failed.exchange(true, ordering: .relaxed) {
            StandardError.line("error: cannot write to standard output: \(String(cString: strerror(error))); the output is incomplete")
        }
        return ExitCode(1)
    }
}

/// Standard error, written with write(2) after what standard output has buffered, so that
/// the two keep their order on a terminal. A write that fails is lost: there is nowhere left
/// to report it, and the exit code still tells.
enum StandardError {
    static func line(_ text: String) {
        write(text + "\n")
    }

    /// Text as it is, for a progress line that rewrites itself.
    static func write(_ text: String) {
        try? StandardOutput.flush()
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let result = bytes.withUnsafeBytes { writeDescriptor(2, $0) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { return }
            bytes = bytes.dropFirst(result)
        }
    }
}

/// write(2), named apart from the `write` methods above.
private func writeDescriptor(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
    write(descriptor, bytes.baseAddress, bytes.count)
}
