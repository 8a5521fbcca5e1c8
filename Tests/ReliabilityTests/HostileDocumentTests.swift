import Foundation
import Testing
@testable import ContainerPolicyStore
@testable import SQLiteCore
@testable import store_stress

/// Malformed policy documents for import: every prefix of a valid export, values of the
/// wrong type everywhere, semantic traps, huge arrays, deep nesting. Each must be refused
/// with `.invalidDocument` and a path, write nothing, and cost bounded memory.
@Suite struct HostileDocumentTests {
    /// A store with descriptions that need every JSON escape, and its export.
    static func sampleStore(_ path: String, policies: Int) throws -> (PolicyStore, Data) {
        let store = try PolicyStore(path: path)
        var random = SeededRandom(seed: 9)
        let texts = ["", "quote \" backslash \\ slash /", "line\nbreak\ttab\r", "é e\u{301} 😀 日本 \u{10FFFF}", "'; DROP TABLE policies; --"]
        try store.write { tx in
            for index in 0..<max(3, policies / 2) {
                try tx.createRuleset(
                    named: "rs\(index)", description: random.element(texts),
                    rules: [RuleReference(id: String(format: "TM-%08d", index + 1), mitigation: random.element(Mitigation.allCases))])
            }
            for index in 0..<policies {
                try tx.createPolicy(
                    named: "policy.\(index)", description: random.element(texts), xdrEnabled: random.chance(0.5),
                    rulesets: (0..<random.int(0...3)).map { _ in "rs\(random.int(0...max(2, policies / 2 - 1)))" })
            }
        }
        return (store, try store.perform(.export()))
    }

    /// Parses and imports `data`, the way `policyctl import` does.
    static func importJSON(_ data: Data, into store: PolicyStore) throws(PolicyStoreError) {
        try store.perform(.importDocument(try PolicyDocument(json: data)))
    }

    @Test func everyPrefixOfAnExportIsRefusedAndWritesNothing() throws {
        let directory = try Scratch("prefixes")
        let (_, export) = try Self.sampleStore(directory.path("source.sqlite"), policies: Mode.pick(short: 12, long: 60))
        // The target holds something else, so that an import that got through would show.
        let targetPath = directory.path("target.sqlite")
        let target = try PolicyStore(path: targetPath)
        try target.perform(.createPolicy(named: "unrelated", description: "keep me"))
        let before = FileSnapshot(targetPath)
        let contentEnd = export.lastIndex { $0 != 0x0A && $0 != 0x20 }.map { $0 + 1 } ?? 0
        var refusals = 0
        var problems: [String] = []
        for length in 0..<contentEnd {
            let prefix = export.prefix(length)
            do {
                try Self.importJSON(prefix, into: target)
                problems.append("a prefix of \(length) bytes was imported")
            } catch .invalidDocument(let found) {
                refusals += 1
                guard let first = found.first, first.path == "$", first.message.hasPrefix("not valid JSON at line ") else {
                    problems.append("prefix \(length): \(found.prefix(2))")
                    continue
                }
            } catch {
                problems.append("prefix \(length): \(ErrorReport.caseName(error)): \(error)")
            }
            if problems.count > 5 { break }
        }
        #expect(problems.isEmpty, "\(problems)")
        #expect(refusals == contentEnd)
        #expect(FileSnapshot(targetPath).database == before.database, "a refused import changed the file")
        // The whole export, with or without its final line feed, imports.
        try Self.importJSON(export.prefix(contentEnd), into: target)
        #expect(try target.perform(.fetch(Policy.self, named: "policy.0")) != nil)
        print("[reliability] hostile documents: all \(contentEnd) proper prefixes of a \(export.count)-byte export refused, nothing written")
    }

    /// Replaces each value of a valid document, one at a time, by a value of every other JSON
    /// type, and applies semantic traps (a link to a missing ruleset, a renamed letter case,
    /// Kubernetes-only parts, repeats). Every outcome is either the document applied whole or
    /// `.invalidDocument` naming the place, with the file byte for byte as it was.
    @Test func wrongTypesAndTrapsAreRefusedWithTheirPathAndWriteNothing() throws {
        let directory = try Scratch("wrong-types")
        let path = directory.path("store.sqlite")
        let (store, export) = try Self.sampleStore(path, policies: Mode.pick(short: 4, long: 12))
        let base = try JSONSerialization.jsonObject(with: export)
        let replacements: [Any] = [NSNull(), true, 0, -1.5e300, "s", [Any](), [String: Any](), [1, 2], ["x": 1], String(repeating: "x", count: 2_000)]
        var mutations: [(path: String, document: Any)] = []
        for (path, _) in Self.leaves(base, path: "") where !path.isEmpty {
            for replacement in replacements { mutations.append((path, Self.replacing(base, at: path, with: replacement))) }
        }
        for (trapPath, trap) in Self.traps(base) { mutations.append((trapPath, trap)) }
        var refused = 0
        var applied = 0
        var problems: [String] = []
        for mutation in mutations {
            let data = try JSONSerialization.data(withJSONObject: mutation.document)
            let before = FileSnapshot(path)
            do {
                try Self.importJSON(data, into: store)
                applied += 1
                // Applied: the store must now hold the document (as far as it says).
                let document = try PolicyDocument(json: data)
                for entry in document.policies {
                    let stored = try store.perform(.fetch(Policy.self, named: entry.name))
                    if stored?.description.sameBytes(entry.description) != true || stored?.xdrEnabled != entry.xdrEnabled
                        || Set(stored?.rulesets ?? []) != Set(entry.rulesets) {
                        problems.append("\(mutation.path): applied, but policy \(entry.name) differs")
                    }
                }
                // Back to the base state for the next mutation.
                try store.perform(.importDocument(try PolicyDocument(json: export), prune: true))
            } catch .invalidDocument(let found) {
                refused += 1
                let after = FileSnapshot(path)
                if after.database != before.database || after.files["-wal"] != before.files["-wal"] {
                    problems.append("\(mutation.path): refused, but the file changed")
                }
                let pathPrefix = mutation.path.hasPrefix(".") ? String(mutation.path.dropFirst()) : mutation.path
                if !found.contains(where: { $0.path.hasPrefix(pathPrefix) || pathPrefix.hasPrefix($0.path) }) {
                    problems.append("\(mutation.path): no problem names the place: \(found.prefix(3))")
                }
            } catch {
                problems.append("\(mutation.path): \(ErrorReport.caseName(error)): \(error)")
            }
            if problems.count > 5 { break }
        }
        #expect(problems.isEmpty, "\(problems)")
        #expect(refused > mutations.count / 2)
        #expect(try store.perform(.checkIntegrity()).isEmpty)
        print("[reliability] hostile documents: \(mutations.count) mutated documents (wrong types, traps): \(refused) refused with their path and nothing written, \(applied) valid ones applied whole")
    }

    /// A policy document that takes millions of problems to describe must still cost memory in
    /// proportion to a small multiple of its size. Measured in a separate process
    /// (`store-stress import-json`), by its peak resident size.
    @Test func hugeArraysAreRefusedWithinBoundedMemory() throws {
        let directory = try Scratch("huge")
        let megabytes = Mode.pick(short: 1, long: 8)
        let elements = megabytes * 1_024 * 1_024 / 2
        let file = directory.path("huge.json")
        var text = "{\"policies\":["
        text += Array(repeating: "1", count: elements).joined(separator: ",")
        text += "]}"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let result = try Subprocess.run(try Binaries.storeStress, ["import-json", "--db", directory.path("huge.sqlite"), file])
        let outcome = try JSONDecoder().decode(ImportOutcome.self, from: Data(result.output.utf8))
        #expect(!outcome.ok)
        #expect(outcome.error?.kind == "invalidDocument")
        #expect(!FileManager.default.fileExists(atPath: directory.path("huge.sqlite")), "a refused document created the database")
        let growth = outcome.peakAfterReadingKilobytes - outcome.baselineKilobytes
        // The bound: 32 times the document, plus 64 MB. A parsed tree costs some multiple of
        // its text; a list of problems should be capped, not grow with the document.
        let bound = 32 * outcome.documentBytes / 1_024 + 64 * 1_024
        print("[reliability] hostile documents: a \(outcome.documentBytes)-byte array of numbers: \(outcome.problems ?? 0) problems, peak memory +\(growth / 1_024) MB (bound \(bound / 1_024) MB), \(outcome.milliseconds) ms")
        #expect(growth <= bound)
    }

    /// The size limit comes before any parsing.
    @Test func aDocumentOverTheSizeLimitIsRefusedAtOnce() throws {
        let data = Data(repeating: UInt8(ascii: "["), count: PolicyDocument.maximumSize + 1)
        let started = Date()
        let error = #expect(throws: PolicyStoreError.self) { try PolicyDocument(json: data) }
        let problems = try #require(error?.documentProblems)
        #expect(problems.count == 1 && problems[0].message.contains("limit"))
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test(arguments: [63, 64, 65, 1_000, 1_000_000])
    func deeplyNestedDocumentsAreRefused(depth: Int) throws {
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let documents = [
            nested,
            "{\"policies\":[{\"name\":\"a\",\"runtime\":{\"rulesets\":" + nested + "}}]}",
            "{\"rulesets\":[{\"name\":\"r\",\"labels\":" + String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth) + "}]}",
        ]
        for text in documents {
            let error = #expect(throws: PolicyStoreError.self) { try PolicyDocument(json: Data(text.utf8)) }
            guard case .invalidDocument(let problems)? = error, !problems.isEmpty else {
                Issue.record("depth \(depth): \(String(describing: error))")
                continue
            }
            if depth > JSONParser.maximumDepth {
                #expect(problems.contains { $0.message.contains("nested deeper than") }, "\(problems.prefix(2))")
            }
        }
    }

    /// Documents broken in the ways a hand, a tool or an attacker breaks them.
    @Test func malformedDocumentsGetAClearError() throws {
        let name10k = String(repeating: "a", count: 10_000)
        let cases: [(label: String, bytes: [UInt8])] = [
            ("empty", []),
            ("whitespace", Array(" \n\t ".utf8)),
            ("null", Array("null".utf8)),
            ("array", Array("[]".utf8)),
            ("a string", Array("\"policies\"".utf8)),
            ("byte order mark", [0xEF, 0xBB, 0xBF] + Array("{}".utf8)),
            ("invalid UTF-8 in a string", Array("{\"policies\":[{\"name\":\"a".utf8) + [0xC3, 0x28] + Array("\"}]}".utf8)),
            ("invalid UTF-8 outside strings", Array("{\"policies\":[]".utf8) + [0xFF] + Array("}".utf8)),
            ("lone surrogate", Array("{\"policies\":[{\"name\":\"\\ud800\"}]}".utf8)),
            ("NUL escape in a name", Array("{\"policies\":[{\"name\":\"a\\u0000b\"}]}".utf8)),
            ("raw NUL", Array("{\"policies\":[{\"name\":\"a".utf8) + [0] + Array("\"}]}".utf8)),
            ("escape sequence in a description", Array("{\"policies\":[{\"name\":\"a\",\"description\":\"\\u001b[31m\"}]}".utf8)),
            ("trailing comma", Array("{\"policies\":[{\"name\":\"a\"},]}".utf8)),
            ("comment", Array("{/* c */\"policies\":[]}".utf8)),
            ("single quotes", Array("{'policies':[]}".utf8)),
            ("NaN", Array("{\"policies\":[{\"name\":\"a\",\"xdrEnabled\":NaN}]}".utf8)),
            ("huge number", Array("{\"policies\":[{\"name\":\"a\",\"xdrEnabled\":1e999}]}".utf8)),
            ("repeated key", Array("{\"policies\":[{\"name\":\"a\",\"name\":\"b\"}]}".utf8)),
            ("repeated policy", Array("{\"policies\":[{\"name\":\"a\"},{\"name\":\"A\"}]}".utf8)),
            ("10,000-character name", Array("{\"policies\":[{\"name\":\"\(name10k)\"}]}".utf8)),
            ("10 MB description", Array("{\"policies\":[{\"name\":\"a\",\"description\":\"\(String(repeating: "d", count: 10_000_000))\"}]}".utf8)),
            ("Kubernetes parts", Array("{\"policies\":[{\"name\":\"a\",\"default\":{\"rules\":[{}]},\"namespaced\":[{}]}]}".utf8)),
            ("two documents", Array("{}{}".utf8)),
        ]
        var report: [String] = []
        for (label, bytes) in cases {
            let error = #expect(throws: PolicyStoreError.self, "\(label)") { try PolicyDocument(json: Data(bytes)) }
            guard case .invalidDocument(let problems)? = error, !problems.isEmpty else {
                Issue.record("\(label): \(String(describing: error))")
                continue
            }
            let message = String(describing: error!)
            #expect(message.utf8.count < 20_000, "\(label): a \(message.utf8.count)-byte message")
            #expect(!containsTerminalControl(message, allowingLineFeeds: true), "\(label): \(message.debugDescription.prefix(200))")
            report.append("\(label): \(problems[0])".prefix(110).description)
        }
        print("[reliability] hostile documents: \(cases.count) malformed documents refused:\n  " + report.joined(separator: "\n  "))
    }

    // MARK: JSON trees

    /// Every value of a JSON tree with its path in the library's notation: `policies[0].name`.
    static func leaves(_ value: Any, path: String) -> [(String, Any)] {
        var found: [(String, Any)] = [(path, value)]
        if let object = value as? [String: Any] {
            for (key, child) in object { found += leaves(child, path: path.isEmpty ? key : path + "." + key) }
        } else if let array = value as? [Any] {
            for (index, child) in array.enumerated() { found += leaves(child, path: path + "[\(index)]") }
        }
        return found
    }

    static func replacing(_ value: Any, at path: String, with replacement: Any) -> Any {
        let components = parse(path)
        func replace(_ value: Any, _ rest: ArraySlice<PathComponent>) -> Any {
            guard let first = rest.first else { return replacement }
            switch first {
            case .key(let key):
                var object = value as! [String: Any]
                object[key] = replace(object[key]!, rest.dropFirst())
                return object
            case .index(let index):
                var array = value as! [Any]
                array[index] = replace(array[index], rest.dropFirst())
                return array
            }
        }
        return replace(value, components[...])
    }

    enum PathComponent { case key(String), index(Int) }

    static func parse(_ path: String) -> [PathComponent] {
        var components: [PathComponent] = []
        for part in path.split(separator: ".") {
            var text = Substring(part)
            if let bracket = text.firstIndex(of: "[") {
                if bracket > text.startIndex { components.append(.key(String(text[..<bracket]))) }
                text = text[bracket...]
                while text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                    components.append(.index(Int(text[text.index(after: text.startIndex)..<close])!))
                    text = text[text.index(after: close)...]
                }
            } else {
                components.append(.key(String(text)))
            }
        }
        return components
    }

    /// Valid JSON, wrong content: each must be refused as a whole.
    static func traps(_ base: Any) -> [(String, Any)] {
        var traps: [(String, Any)] = []
        let object = base as! [String: Any]
        let rulesets = object["rulesets"] as! [[String: Any]]
        let policies = object["policies"] as! [[String: Any]]
        // A policy that links a ruleset the document and the store lack.
        var dangling = policies
        dangling[0]["runtime"] = ["rulesets": [["name": "no.such.ruleset"]]]
        traps.append(("policies[0].runtime.rulesets[0].name", ["rulesets": rulesets, "policies": dangling]))
        // An existing policy in another letter case: a rename, which names forbid.
        var renamed = policies
        renamed[0]["name"] = (policies[0]["name"] as! String).uppercased()
        traps.append(("policies[0].name", ["rulesets": rulesets, "policies": renamed]))
        // Kubernetes-only parts.
        var deployment = policies
        deployment[0]["default"] = ["rules": [["type": "podSecurityContext"]]]
        traps.append(("policies[0].default.rules", ["rulesets": rulesets, "policies": deployment]))
        var labelled = rulesets
        labelled[0]["labels"] = [["key": "app", "value": "web"]]
        traps.append(("rulesets[0].labels", ["rulesets": labelled, "policies": policies]))
        // The same policy twice, and an unknown field.
        traps.append(("policies[1].name", ["rulesets": rulesets, "policies": [policies[0], policies[0]]]))
        var unknown = object
        unknown["clusters"] = []
        traps.append(("clusters", unknown))
        // A rule ID that is not one, and an unknown mitigation.
        var badRule = rulesets
        badRule[0]["rules"] = [["id": "TM-1", "mitigation": "log"], ["id": "TM-00000009", "mitigation": "explode"]]
        traps.append(("rulesets[0].rules", ["rulesets": badRule, "policies": policies]))
        return traps
    }
}
