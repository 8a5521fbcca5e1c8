import ArgumentParser
import ContainerPolicyStore
import Foundation

/// Where `export --output PATH` writes, found before anything is written.
///
/// A regular file (or a missing one) is replaced whole by the library's `export(to:)`,
/// which writes a temporary file in the same folder and renames it over the old one. That
/// rename would replace a symbolic link itself, leaving its target as it was, so the link
/// is followed here and the library is given the file it points to. The rename also gives
/// the file a new mode; the mode of the file it replaced is put back. A FIFO or a device
/// cannot be replaced by a rename (root's `--output /dev/null` would replace the device),
/// so the document is written into it, as a shell's `>` would. Nor can the file that is
/// standard output (`--output /dev/stdout > out.json`): the shell holds it open, so the
/// export goes to standard output, as without `--output`.
enum ExportTarget {
    /// The regular file to replace (or to create), with the permissions to keep, if any.
    case file(path: String, keepingMode: mode_t?)
    /// A FIFO, a terminal, a device: written into.
    case stream(path: String)
    /// The file (or pipe, or terminal) that standard output is.
    case standardOutput

    static func resolve(_ path: String) throws(ExitCode) -> ExportTarget {
        var status = stat()
        guard stat(path, &status) == 0 else {
            guard errno == ENOENT else { throw cannotWrite(path, reason(errno)) }
            return .file(path: try missingTarget(of: path), keepingMode: nil)
        }
        var output = stat()
        if fstat(1, &output) == 0, output.st_dev == status.st_dev, output.st_ino == status.st_ino {
            return .standardOutput
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            guard let resolved = realpath(path, nil) else { throw cannotWrite(path, reason(errno)) }
            defer { free(resolved) }
            return .file(path: String(cString: resolved), keepingMode: status.st_mode & 0o7777)
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

    /// Puts back the mode of the file the export replaced.
    static func restoreMode(_ mode: mode_t, of path: String, shownAs shown: String) throws(ExitCode) {
        guard chmod(path, mode) == 0 else {
            throw refuse("wrote \(terminalSafe(shown)), but could not give it back its mode \(String(mode, radix: 8)): \(reason(errno))")
        }
    }

    /// The file a path names that does not exist: the path itself, or the end of the chain
    /// of symbolic links it starts (a dangling link is written through, as `>` does).
    private static func missingTarget(of path: String) throws(ExitCode) -> String {
        var current = path
        for _ in 0..<40 {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else {
                let folder = (current as NSString).deletingLastPathComponent
                var isFolder: ObjCBool = false
                guard folder.isEmpty || FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue else {
                    throw cannotWrite(path, "there is no folder \(terminalSafe(folder))")
                }
                return current
            }
            current = target.hasPrefix("/") ? target : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        }
        throw cannotWrite(path, reason(ELOOP))
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
