import ContainerPolicyStore
import Foundation
import Testing

/// What `import` reads: any readable stream, never more than the document limit, and a true
/// reason when it cannot (issue 12).
@Suite struct ImportInputTests {
    static let document = #"{"rulesets": [{"name": "extra"}]}"#
    static let limitError = "the document is larger than \(ContainerPolicyStore.PolicyDocument.maximumSize) bytes (64 MiB), the limit of a policy document"

    /// An endless input ends the import at the limit, with the limit named, in bounded
    /// memory and time; the database is untouched.
    @Test(arguments: [
        (["import", "-"], ["yes", #"{"rulesets": [], "#], "standard input"),
        (["import", "/dev/zero"], nil, "/dev/zero"),
        (["import", "/dev/stdin"], ["yes"], "/dev/stdin"),
    ])
    func anEndlessInputStopsAtTheLimit(arguments: [String], feeder: [String]?, shownAs: String) throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        let before = try workspace.snapshot()

        let run = try MeasuredRun.run(arguments, in: workspace.directory, feeder: feeder)

        #expect(run.killedBecause == nil)
        #expect(run.exitCode == 1)
        #expect(run.stderr == "error: cannot read \(shownAs): \(Self.limitError)\n")
        #expect(run.peakMemory < 300 << 20, "peak \(run.peakMemory >> 20) MiB")
        print("import of an endless \(shownAs): refused after \(String(format: "%.2f", run.seconds)) s, peak \(run.peakMemory >> 20) MiB")
        #expect(try workspace.snapshot() == before)
    }

    /// A regular file over the limit is not read whole either (a sparse 8 GiB file).
    @Test func aHugeFileIsRefusedWithoutReadingItWhole() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        let huge = workspace.file("huge.json")
        try Data(Self.document.utf8).write(to: huge)
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: 8 << 30)
        try handle.close()

        let run = try MeasuredRun.run(["import", "huge.json"], in: workspace.directory)

        #expect(run.exitCode == 1)
        #expect(run.stderr == "error: cannot read huge.json: \(Self.limitError)\n")
        #expect(run.peakMemory < 300 << 20, "peak \(run.peakMemory >> 20) MiB")
    }

    /// A document of exactly the limit is read (and then judged by the library).
    @Test func aDocumentOfExactlyTheLimitIsRead() throws {
        let workspace = try Workspace()
        let padded = Self.document + String(repeating: " ", count: ContainerPolicyStore.PolicyDocument.maximumSize - Self.document.utf8.count)
        try Data(padded.utf8).write(to: workspace.file("full.json"))
        let result = try workspace.run("import", "full.json")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("+ create ruleset extra\n"))
    }

    /// A pipe given as a path: process substitution, /dev/stdin, a FIFO.
    @Test func streamsGivenAsAPathAreRead() throws {
        let workspace = try Workspace()
        try Data(Self.document.utf8).write(to: workspace.file("doc.json"))
        let binary = try Workspace.binary().path

        let substitution = try shell("'\(binary)' --db subst.sqlite import <(cat doc.json)", in: workspace)
        #expect(substitution.status == 0, "\(substitution.stderr)")
        #expect(substitution.stdout.hasPrefix("+ create ruleset extra\n"))

        let pipe = Pipe()
        try pipe.fileHandleForWriting.write(contentsOf: Data(Self.document.utf8))
        try pipe.fileHandleForWriting.close()
        let stdin = try workspace.run("--db", "stdin.sqlite", "import", "/dev/stdin", standardInput: pipe.fileHandleForReading)
        #expect(stdin.status == 0, "\(stdin.stderr)")
        #expect(stdin.stdout.hasPrefix("+ create ruleset extra\n"))

        #expect(mkfifo(workspace.file("doc.fifo").path, 0o600) == 0)
        let writer = try shell("exec cat doc.json > doc.fifo", in: workspace, wait: false)
        let fifo = try workspace.run("--db", "fifo.sqlite", "import", "doc.fifo")
        #expect(writer.finish(within: 10), "the import never opened the FIFO")
        #expect(fifo.status == 0, "\(fifo.stderr)")
        #expect(fifo.stdout.hasPrefix("+ create ruleset extra\n"))
    }

    @Test func whatCannotBeReadIsRefusedWithTheTrueReason() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try Data(Self.document.utf8).write(to: workspace.file("doc.json"))
        try FileManager.default.createDirectory(at: workspace.file("folder"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: workspace.file("loop").path, withDestinationPath: "loop")
        try FileManager.default.createSymbolicLink(atPath: workspace.file("dangling").path, withDestinationPath: "gone.json")
        let before = try workspace.snapshot()

        let cases = [
            ("folder", "it is a folder, not a file; give the path of a JSON document"),
            ("missing.json", "there is no such file"),
            ("dangling", "it is a symbolic link to gone.json, which does not exist"),
            ("doc.json/x", "a part of the path is not a folder"),
            ("loop", "too many levels of symbolic links"),
        ]
        for (path, reason) in cases {
            let result = try workspace.run("import", path)
            #expect(result.status == 1)
            #expect(result.stderr == "error: cannot read \(path): \(reason)\n")
        }
        #expect(try workspace.snapshot() == before)
    }

    @Test(.enabled(if: geteuid() != 0, "root reads any file"))
    func aFileWithoutReadPermissionIsNamed() throws {
        let workspace = try Workspace()
        try Data(Self.document.utf8).write(to: workspace.file("secret.json"))
        chmod(workspace.file("secret.json").path, 0o200)
        let result = try workspace.run("import", "secret.json")
        #expect(result.status == 1)
        #expect(result.stderr == "error: cannot read secret.json: permission denied; check the file's permissions and those of its folders\n")
    }

    private func shell(_ script: String, in workspace: Workspace, wait: Bool = true) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = workspace.directory
        process.standardInput = FileHandle.nullDevice
        try process.run()
        if wait { process.waitUntilExit() }
        return process
    }

    private func shell(_ script: String, in workspace: Workspace) throws -> CommandResult {
        let out = workspace.file("shell-\(UUID().uuidString).out")
        let err = workspace.file("shell-\(UUID().uuidString).err")
        let process = try shell("(\(script)) > '\(out.path)' 2> '\(err.path)'", in: workspace, wait: true)
        return CommandResult(
            status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8))
    }
}
