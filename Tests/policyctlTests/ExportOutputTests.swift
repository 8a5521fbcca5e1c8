import Foundation
import Testing

/// `export --output` writes through a symbolic link and keeps the mode of the file it
/// replaces; what is not a regular file is written into, never replaced (issue 12).
@Suite struct ExportOutputTests {
    func exported(_ workspace: Workspace) throws -> Data {
        try workspace.withStore { try $0.perform(.export()) }
    }

    func mode(_ url: URL) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as! NSNumber).intValue
    }

    func isSymbolicLink(_ url: URL) throws -> Bool {
        try FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType == .typeSymbolicLink
    }

    @Test func aSymbolicLinkIsWrittenThroughAndStaysALink() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try FileManager.default.createDirectory(at: workspace.file("repo"), withIntermediateDirectories: false)
        try Data("old\n".utf8).write(to: workspace.file("repo/policies.json"))
        try FileManager.default.createSymbolicLink(atPath: workspace.file("link.json").path, withDestinationPath: "repo/policies.json")
        try FileManager.default.createSymbolicLink(atPath: workspace.file("chain.json").path, withDestinationPath: "link.json")

        #expect(try workspace.succeed("export", "--output", "chain.json") == "Exported 2 rulesets and 1 policy to chain.json.\n")

        #expect(try isSymbolicLink(workspace.file("chain.json")))
        #expect(try isSymbolicLink(workspace.file("link.json")))
        #expect(try Data(contentsOf: workspace.file("repo/policies.json")) == exported(workspace))
        // The temporary file was made beside the target and is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.file("repo").path) == ["policies.json"])
    }

    @Test func aDanglingLinkCreatesItsTarget() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try FileManager.default.createSymbolicLink(atPath: workspace.file("link.json").path, withDestinationPath: "new.json")
        try workspace.succeed("export", "--output", "link.json")
        #expect(try isSymbolicLink(workspace.file("link.json")))
        #expect(try Data(contentsOf: workspace.file("new.json")) == exported(workspace))
    }

    @Test func theModeOfTheReplacedFileIsKept() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        for (name, mode) in [("private.json", 0o600), ("shared.json", 0o664), ("readonly.json", 0o444)] {
            try Data("old\n".utf8).write(to: workspace.file(name))
            chmod(workspace.file(name).path, mode_t(mode))
            try workspace.succeed("export", "--output", name)
            #expect(try self.mode(workspace.file(name)) == mode, "\(name)")
            #expect(try Data(contentsOf: workspace.file(name)) == exported(workspace))
        }
    }

    @Test func aFIFOIsWrittenIntoAndStaysAFIFO() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        let fifo = workspace.file("out.fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let received = workspace.file("received.json")
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "exec cat out.fifo > received.json"]
        reader.currentDirectoryURL = workspace.directory
        try reader.run()

        try workspace.succeed("export", "--output", "out.fifo")
        #expect(reader.finish(within: 10), "the export never opened the FIFO")

        var status = stat()
        #expect(lstat(fifo.path, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
        #expect(try Data(contentsOf: received) == exported(workspace))
    }

    /// `--output /dev/fd/1 >> out.json`: the shell holds the file open, appending, so the
    /// export is written to it, not renamed over it. (Not /dev/stdout: a policyctl that
    /// renamed over the path would, as root, replace the machine's /dev/stdout; nothing can
    /// be created in /dev/fd.)
    @Test func theFileThatIsStandardOutputIsWrittenTo() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try Data("old\n".utf8).write(to: workspace.file("out.json"))
        let inode = try FileManager.default.attributesOfItem(atPath: workspace.file("out.json").path)[.systemFileNumber] as? Int
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", #""$0" export --output /dev/fd/1 >> out.json"#, try Workspace.binary().path]
        shell.currentDirectoryURL = workspace.directory
        try shell.run()
        shell.waitUntilExit()

        #expect(shell.terminationStatus == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: workspace.file("out.json").path)[.systemFileNumber] as? Int == inode)
        let expected = Data("old\n".utf8) + (try exported(workspace)) + Data("Exported 2 rulesets and 1 policy to /dev/fd/1.\n".utf8)
        #expect(try Data(contentsOf: workspace.file("out.json")) == expected)
    }

    @Test func whatCannotBeWrittenIsRefusedClearly() throws {
        let workspace = try Workspace()
        try workspace.makeSampleDatabaseWithTheLibrary()
        try FileManager.default.createDirectory(at: workspace.file("folder"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: workspace.file("loop.json").path, withDestinationPath: "loop.json")
        for (path, reason) in [
            ("folder", "it is a folder, not a file"),
            ("loop.json", "too many levels of symbolic links"),
            ("missing/out.json", "there is no folder missing"),
        ] {
            let result = try workspace.run("export", "--output", path)
            #expect(result.status == 1)
            #expect(result.stderr == "error: cannot write \(path): \(reason)\n")
        }
        #expect(try isSymbolicLink(workspace.file("loop.json")))
    }
}
