import Foundation

/// A file an export replaces in one step: written beside it under a temporary name, then
/// renamed over it, so no reader ever sees half a document. The path's symbolic links are
/// followed (the file they name is replaced, the links stay), the old file's permissions are
/// kept from the first byte, and anything but a regular file is refused, never renamed over.
struct ReplacedFile {
    /// The file replaced: the path with its links followed.
    let target: String
    /// The old file's permission bits, or nil for a new file (which gets 0666 less the umask).
    private let mode: mode_t?

    /// Why it cannot be written, in a sentence.
    struct Problem: Error {
        let reason: String
    }

    init(path: String) throws(Problem) {
        var target = path
        for _ in 0..<40 {
            var status = stat()
            guard lstat(target, &status) == 0 else {
                guard errno == ENOENT else { throw Self.problem("cannot examine \(target)") }
                self.target = target
                mode = nil
                return
            }
            switch status.st_mode & S_IFMT {
            case S_IFLNK:
                guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: target) else {
                    throw Self.problem("cannot read the link \(target)")
                }
                target = destination.hasPrefix("/")
                    ? destination : (target as NSString).deletingLastPathComponent + "/" + destination
            case S_IFREG:
                self.target = target
                mode = status.st_mode & 0o7777
                return
            case S_IFDIR:
                throw Problem(reason: "\(target) is a folder; give the path of a file")
            default:
                throw Problem(reason: "\(target) is not a regular file (a device, a FIFO or a socket), which an export does not replace")
            }
        }
        throw Problem(reason: "\(path) is a chain of more than 40 symbolic links")
    }

    /// Hands `body` a writer of chunks to the temporary file; when `body` returns, makes the
    /// file durable and puts it in place. On any error the temporary file is removed and the
    /// old one is left as it was.
    func write<T>(_ body: (_ write: (Data) throws -> Void) throws -> T) throws -> T {
        let folder = (target as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/." + (target as NSString).lastPathComponent + "."
            + UUID().uuidString + ".partial"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode ?? 0o666)
        guard descriptor >= 0 else { throw Self.problem("cannot create a file in \(folder.isEmpty ? "." : folder)") }
        var open = true
        defer { if open { close(descriptor) } }
        do {
            // The umask may have cleared bits the old file had: give them back before writing.
            if let mode, fchmod(descriptor, mode) != 0 { throw Self.problem("cannot keep the permissions of \(target)") }
            let result = try body { chunk in
                try chunk.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
                    var offset = 0
                    while offset < bytes.count {
                        let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                        if written < 0, errno == EINTR { continue }
                        guard written > 0 else { throw Self.problem("cannot write \(temporary)") }
                        offset += written
                    }
                }
            }
            guard fsync(descriptor) == 0 else { throw Self.problem("cannot write \(temporary) to disk") }
            close(descriptor)
            open = false
            guard rename(temporary, target) == 0 else { throw Self.problem("cannot put the new file in place of \(target)") }
            // The rename is durable once the folder's entry is.
            let directory = Foundation.open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
            if directory >= 0 {
                _ = fsync(directory)
                close(directory)
            }
            return result
        } catch {
            unlink(temporary)
            throw error
        }
    }

    private static func problem(_ what: String) -> Problem {
        Problem(reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
