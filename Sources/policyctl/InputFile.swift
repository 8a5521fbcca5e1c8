import ArgumentParser
import Foundation

/// Reads what `import` is given: a file, `-` for standard input, or any other readable
/// stream given as a path (a pipe from `<(...)`, a FIFO, `/dev/stdin`), with open(2) and
/// read(2) rather than an API that trusts the size a stat reports (0 for a pipe, 8 GiB for a
/// sparse file). Reading stops one byte past `limit`, so an endless or huge input costs at
/// most that much memory; a failure is refused with its true reason.
enum InputFile {
    /// `document` names what is read, for the message when it is over `limit`; `shownAs`
    /// names the file in messages instead of its path.
    static func read(_ path: String, limit: Int, document: String = "policy document", shownAs: String? = nil) throws(ExitCode) -> Data {
        let shown = shownAs ?? (path == "-" ? "standard input" : terminalSafe(path))
        let descriptor: Int32
        if path == "-" {
            descriptor = 0
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
            guard descriptor >= 0 else { throw refuse("cannot read \(shown): \(reason(errno, path: path))") }
        }
        defer { if descriptor != 0 { close(descriptor) } }

        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1_024)
        while data.count <= limit {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, min($0.count, limit + 1 - data.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw refuse("cannot read \(shown): \(reason(errno, path: path))")
            }
            if count == 0 { return data }
            data.append(contentsOf: chunk[..<count])
        }
        throw refuse("""
            cannot read \(shown): the document is larger than \(limit) bytes (\(limit >> 20) MiB), the limit of a \
            \(document)
            """)
    }

    /// What an errno from open(2) or read(2) means for the person who gave `path`.
    private static func reason(_ error: Int32, path: String) -> String {
        switch error {
        case ENOENT:
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                return "it is a symbolic link to \(terminalSafe(target)), which does not exist"
            }
            return "there is no such file"
        case EISDIR: return "it is a folder, not a file; give the path of a JSON document"
        case EACCES, EPERM: return "permission denied; check the file's permissions and those of its folders"
        case ENOTDIR: return "a part of the path is not a folder"
        case ELOOP: return "too many levels of symbolic links"
        default: return String(cString: strerror(error))
        }
    }
}
