// The commands that only look never create the embedded store: with no file at --store-path
// they say so and leave the file system as it was.
import Foundation
import Testing

@testable import HostGwAgent

@Suite struct ReadOnlyCommandsTests {
    @Test(arguments: [["status"], ["status", "--json"], ["check"], ["leases"], ["config", "show"], ["routes", "--for-external"]])
    func noStoreIsCreatedAndTheMessageSaysSo(_ command: [String]) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-ro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("lib/hostgw/store.db").path
        let (code, out, err) = try runHostGw(command + ["--store-path", path], environment: ["HOSTGW_LISTEN": "127.0.0.1:1"])
        // status reports (exit 0, the store shown unreachable); the others fail.
        #expect(code != -1 && (command.first == "status" || code != 0))
        #expect((out + err).contains("no store at \(path)"), "\(out)\(err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test func anExistingStoreIsReadWithoutBeingWritten() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-ro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("store.db").path
        let conf = root.appendingPathComponent("net.json").path
        #expect(FileManager.default.createFile(atPath: conf, contents: Data(#"{"Network": "10.244.0.0/16"}"#.utf8)))
        let (setCode, _, setErr) = try runHostGw(["config", "set", conf, "--store-path", path])
        try #require(setCode == 0, "\(setErr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let (code, out, err) = try runHostGw(["config", "show", "--store-path", path])
        #expect(code == 0, "\(err)")
        #expect(out.contains("10.244.0.0/16"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}
