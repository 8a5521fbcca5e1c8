import ArgumentParser
import ContainerPolicyStore
import Foundation

/// Where `export --output PATH` writes, found before anything is written.
///
/// A regular file (or a missing one) is replaced whole by the library's `export(to:)`,
/// which follows symbolic links and keeps the old file's permissions. A FIFO or a device
/// cannot be replaced (the library refuses to), so the document is written into it, as a
/// shell's `>` would. Nor can the file that is
/// standard output (`--output /dev/stdout > out.json`): the shell holds it open, so the
/// export goes to standard output, as without `--output`.
enum ExportTarget {
    /// The regular file to replace (or to create).
    case file(path: String)
    /// A FIFO, a terminal, a device: written into.
    case stream(path: String)
    /// The file (or pipe, or terminal) that standard output is.
    case standardOutput

    static func resolve(_ path: String) throws(ExitCode) -> ExportTarget {
        var status = stat()
        guard stat(path, &status) == 0 else {
            guard errno == ENOENT else { throw cannotWrite(path, reason(errno)) }
            // A dangling link is written through (the library follows it); a missing folder
            // is named here, which the library's message would only imply.
            let folder = (path as NSString).deletingLastPathComponent
            var isFolder: ObjCBool = false
            if !folder.isEmpty, (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil,
               !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
                throw cannotWrite(path, "there is no folder \(terminalSafe(folder))")
            }
            return .file(path: path)
        }
        var output = stat()
        if fstat(1, &output) == 0, output.st_dev == status.st_dev, output.st_ino == status.st_ino {
            return .standardOutput
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            return .file(path: path)
        case S_IFDIR:
            throw cannotWrite(path, "it is a folder, not a file")
        default:
            return .stream(path: path)
        }
    }

    /// Writes the export into a stream with write(2), chunk by chunk as the library reads it.
    static func writeStream(_ path: String, from store: PolicyStore) throws(ExitCode) -> ExportSummary {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { throw cannotWrite(path, reason(errno)) }
        defer { close(descriptor) }
        return try exitOnRefusal {
            try store.read { tx in
                try tx.export { chunk in
                    var rest = chunk[...]
                    while !rest.isEmpty {
                        let written = rest.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                        if written < 0, errno == EINTR { continue }
                        guard written > 0 else { throw cannotWrite(path, reason(errno)) }
                        rest = rest.dropFirst(written)
                    }
                }
            }
        }
    }

    private static func cannotWrite(_ path: String, _ reason: String) -> ExitCode {
        refuse("cannot write \(terminalSafe(path)): \(reason)")
    }

    private static func reason(_ error: Int32) -> String {
        switch error {
        case EACCES, EPERM: "permission denied; check the permissions of the file and of its folder"
        case ENOTDIR: "a part of the path is not a folder"
        case ELOOP: "too many levels of symbolic links"
        default: String(cString: strerror(error))
        }
    }
}
