import Foundation
import Testing

/// docs/cli.md is generated from the argument parser (scripts/gen-docs); this keeps it true.
@Suite struct HelpDocsTests {
    /// (command words, the help block docs/cli.md holds for them)
    static func documented() throws -> [([String], String)] {
        let text = try String(contentsOfFile: "docs/cli.md", encoding: .utf8)
        var result: [([String], String)] = []
        let sections = text.components(separatedBy: "\n## hostgw").dropFirst()
        for section in sections {
            let title = section.prefix { $0 != "\n" }.trimmingCharacters(in: .whitespaces)
            guard let start = section.range(of: "```\n"), let end = section.range(of: "\n```", range: start.upperBound..<section.endIndex)
            else { continue }
            let words = title.split(separator: " ").map(String.init)
            result.append((words, String(section[start.upperBound..<end.lowerBound])))
        }
        return result
    }

    @Test func everyCommandIsDocumentedAndTheDocMatchesItsHelp() throws {
        let docs = try Self.documented()
        #expect(docs.count >= 12)
        for (words, block) in docs {
            let (code, out, err) = try runHostGw(["help"] + words, environment: ["COLUMNS": "100"])
            #expect(code == 0, "hostgw help \(words.joined(separator: " ")) exited \(code): \(err)")
            #expect(
                out.trimmingCharacters(in: .newlines) == block.trimmingCharacters(in: .newlines),
                "docs/cli.md is stale for `hostgw \(words.joined(separator: " "))`: run scripts/gen-docs")
        }
    }
}

@Suite struct BadFlagTests {
    @Test(arguments: [
        ["status", "--store", "consul"],
        ["leases", "--store", "etcd"],
        ["check", "--window", "soon"],
        ["check", "--drift-warning", "-1"],
        ["routes", "--format", "ip"],
        ["routes", "--for-external", "--format", "yaml"],
        ["routes", "--for-external", "--external-ip", "10.0.0.5"],
        ["config", "set"],
        ["run", "--protocol", "2"],
        ["run", "--mtu", "70000"],
        ["run", "--etcd-prefix", "coreos.com"],
        ["run", "--public-ip", "10.0.0.300"],
        ["run", "--public-ipv6", "fd00::zz"],
        ["run", "--listen", "127.0.0.1:http"],
    ])
    func badFlagExits64AndNamesIt(_ args: [String]) throws {
        // Should a bad flag ever be accepted, `run` must still not start an agent here (this is
        // the machine's own namespace): a store that cannot be opened stops it at once.
        let guardStore = args.first == "run" ? ["--store-path", "/proc/hostgw-tests-no-store/store.db"] : []
        let (code, _, err) = try runHostGw(args + guardStore, timeout: .seconds(20))
        #expect(code == 64, "hostgw \(args.joined(separator: " ")) exited \(code): \(err)")
        #expect(!err.isEmpty)
    }

    @Test func badNetConfIsRefusedBeforeTheStoreIsTouched() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let conf = dir.appendingPathComponent("net-conf.json")
        try Data(#"{"Network": "10.244.0.0/16", "SubnetLenn": 24}"#.utf8).write(to: conf)
        let store = dir.appendingPathComponent("store.db").path
        let (code, _, err) = try runHostGw(["config", "set", conf.path, "--store-path", store])
        #expect(code == 65)
        #expect(err.contains("SubnetLenn"))
        #expect(!FileManager.default.fileExists(atPath: store), "the store was created although the config was refused")
    }
}
