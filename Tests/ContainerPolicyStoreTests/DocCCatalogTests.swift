import Foundation
import Testing

/// The DocC catalog's articles are generated from Docs/ by Scripts/generate-docc-articles:
/// these tests fail while a guide and its article differ, and while a guide, an article or
/// the landing page's list of them is missing one.
@Suite struct DocCCatalogTests {
    static let catalog = packageRoot.appendingPathComponent("Sources/ContainerPolicyStore/ContainerPolicyStore.docc")

    static func markdownFiles(in folder: URL) throws -> [String: String] {
        var files: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        where file.pathExtension == "md" {
            files[file.lastPathComponent] = try String(contentsOf: file, encoding: .utf8)
        }
        return files
    }

    @Test func theArticlesAreTheGuidesAsTheScriptWritesThem() throws {
        let directory = try TemporaryDirectory()
        let process = Process()
        process.executableURL = packageRoot.appendingPathComponent("Scripts/generate-docc-articles")
        process.arguments = [directory.path("Articles")]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let generated = try Self.markdownFiles(in: directory.url.appendingPathComponent("Articles"))
        let committed = try Self.markdownFiles(in: Self.catalog.appendingPathComponent("Articles"))
        #expect(generated.keys.sorted() == committed.keys.sorted(), "run Scripts/generate-docc-articles")
        for (name, text) in generated {
            #expect(committed[name] == text, "Articles/\(name) differs from its guide: run Scripts/generate-docc-articles")
        }
    }

    @Test func everyGuideIsAnArticleOfTheLandingPage() throws {
        let guides = try Self.markdownFiles(in: packageRoot.appendingPathComponent("Docs"))
        let articles = try Self.markdownFiles(in: Self.catalog.appendingPathComponent("Articles"))
        #expect(guides.count >= 7)
        #expect(Set(articles.keys) == Set(guides.keys), "add the guide to Scripts/generate-docc-articles")
        let landingPage = try String(contentsOf: Self.catalog.appendingPathComponent("ContainerPolicyStore.md"), encoding: .utf8)
        for name in guides.keys {
            let article = (name as NSString).deletingPathExtension
            #expect(landingPage.contains("- <doc:\(article)>"), "the landing page's topics do not list <doc:\(article)>")
        }
        // Each article is its guide with the one generated comment and DocC's links.
        for (name, guide) in guides {
            let article = try #require(articles[name])
            let lines = article.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.first == guide.split(separator: "\n", omittingEmptySubsequences: false).first)
            #expect(lines.count == guide.split(separator: "\n", omittingEmptySubsequences: false).count + 2)
            #expect(lines[2] == "<!-- Generated from Docs/\(name) by Scripts/generate-docc-articles: edit that file, then run the script. -->")
            #expect(!article.contains(".md)") && !article.contains("](#"), "a link between guides that DocC cannot follow")
        }
    }
}
