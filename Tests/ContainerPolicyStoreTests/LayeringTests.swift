import Foundation
import Testing

/// The library's layers are folders of one target (only `SQLiteCore` is a target of its own,
/// so the compiler keeps the domain out of it). This suite keeps the folders' arrows pointing
/// one way: each folder may name only the types declared in the folders below it.
@Suite struct LayeringTests {
    /// What each folder may use, besides itself: `Docs/architecture.md` draws the same.
    static let allowed: [String: Set<String>] = [
        "JSON": [],
        "Domain": ["JSON"],
        "Graph": ["Domain", "JSON"],
        "Interchange": ["Domain", "JSON"],
        "Schema": [],
        "Store": ["Interchange", "Graph", "Schema", "Domain", "JSON"],
    ]

    /// The files of a folder that may import `SQLiteCore`, for what they say: the types of
    /// the error's payloads, and SHA-256. Every folder not listed may not import it at all;
    /// `Store` and `Schema` may everywhere.
    static let coreImports: [String: Set<String>] = [
        "JSON": [],
        "Domain": ["CoreTypes.swift", "PolicyStoreError.swift"],
        "Graph": [],
        "Interchange": ["ImportPlanJSON.swift"],
    ]

    struct SourceFile {
        let folder: String
        let name: String
        let code: String
    }

    static let library = packageRoot.appendingPathComponent("Sources/ContainerPolicyStore")

    /// Every Swift file of the library by folder, with comments and string literals removed
    /// (they may name anything).
    static func sources() throws -> [SourceFile] {
        let folders = try FileManager.default.contentsOfDirectory(atPath: library.path).filter { !$0.hasSuffix(".docc") }
        return try folders.sorted().flatMap { folder in
            let url = library.appendingPathComponent(folder)
            return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".swift") }.sorted().map { name in
                let text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
                return SourceFile(folder: folder, name: name, code: withoutCommentsAndStrings(text))
            }
        }
    }

    static func withoutCommentsAndStrings(_ text: String) -> String {
        text.replacing(#/"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"|//[^\n]*/#, with: "")
    }

    /// The identifiers of `code` that start with a capital letter. Not `\b`: Swift's regex
    /// word boundaries are Unicode's, under which `StoreTransaction.maximumPageSize` is one word.
    static func identifiers(in code: String) -> Set<String> {
        Set(code.matches(of: #/[A-Za-z_][A-Za-z0-9_]*/#).map { String($0.output) }.filter { $0.first?.isUppercase == true })
    }

    /// The types, protocols and aliases declared at the top level of each file, by folder.
    static func declarations(in files: [SourceFile]) -> [String: String] {
        var folderOfType: [String: String] = [:]
        let declaration = #/(?m)^(?:(?:public|package|private|fileprivate|internal|final|indirect)\s+)*(?:struct|enum|class|protocol|typealias|actor)\s+([A-Z]\w*)/#
        for file in files {
            for match in file.code.matches(of: declaration) { folderOfType[String(match.output.1)] = file.folder }
        }
        return folderOfType
    }

    @Test func everyFolderIsAKnownLayer() throws {
        let folders = Set(try Self.sources().map(\.folder))
        #expect(folders == Set(Self.allowed.keys))
    }

    @Test func eachFolderNamesOnlyTypesOfTheLayersBelowIt() throws {
        let files = try Self.sources()
        let folderOfType = Self.declarations(in: files)
        #expect(folderOfType["PolicyStoreError"] == "Domain")
        #expect(folderOfType["StoreTransaction"] == "Store")
        var wrongWay: [String] = []
        for file in files {
            let allowed = try #require(Self.allowed[file.folder], "\(file.folder) is not a layer")
            let names = Self.identifiers(in: file.code)
            for name in names.sorted() {
                guard let folder = folderOfType[name], folder != file.folder, !allowed.contains(folder) else { continue }
                wrongWay.append("\(file.folder)/\(file.name) uses \(name) of \(folder)")
            }
        }
        #expect(wrongWay.isEmpty, "arrows running the wrong way:\n\(wrongWay.joined(separator: "\n"))")
    }

    @Test func onlyTheStoreUsesTheSQLiteCoreFreely() throws {
        let importing = try Self.sources().filter { $0.code.contains("import SQLiteCore") }
        var unexpected: [String] = []
        for file in importing {
            guard let allowedFiles = Self.coreImports[file.folder] else { continue }
            if !allowedFiles.contains(file.name) { unexpected.append("\(file.folder)/\(file.name)") }
        }
        #expect(unexpected.isEmpty, "import SQLiteCore outside the store: \(unexpected)")
    }

    /// The test finds what it is meant to find: a use of a higher layer's type is caught.
    @Test func aWrongWayArrowIsCaught() throws {
        let files = try Self.sources()
        let folderOfType = Self.declarations(in: files)
        let code = Self.withoutCommentsAndStrings("func f(_ tx: borrowing StoreTransaction) {} // ImportPlanner\nlet s = \"PolicyStore\"")
        let names = Self.identifiers(in: code)
        #expect(names.compactMap { folderOfType[$0] } == ["Store"])
    }
}
