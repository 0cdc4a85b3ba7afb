// Commands end through argument-parser's ExitCode (so defers and store closes run), with the
// same statuses and the same one `hostgw: ...` line on stderr as when they called exit().
import Foundation
import Testing

@Suite struct ExitCodeTests {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-exit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func unreadableConfigFileExits64() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out, err) = try runHostGw(["config", "set", dir.appendingPathComponent("none.json").path, "--store-path", dir.appendingPathComponent("s.db").path])
        #expect(code == 64)
        #expect(out.isEmpty)
        #expect(err == "hostgw: cannot read \(dir.appendingPathComponent("none.json").path)\n")
    }

    @Test func missingStoreExits69() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out, err) = try runHostGw(["leases", "--store-path", dir.appendingPathComponent("absent.db").path])
        #expect(code == 69, "\(err)")
        #expect(out.isEmpty)
        #expect(err.hasPrefix("hostgw: ") && err.hasSuffix("\n") && err.split(separator: "\n").count == 1, "\(err)")
    }

    @Test func storeWithoutConfigExits65AndIsClosed() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("s.db").path
        let conf = dir.appendingPathComponent("net-conf.json")
        try Data(#"{"Network": "10.244.0.0/16"}"#.utf8).write(to: conf)
        // A store that exists, then a config show whose body fails inside withStore.
        let (setCode, _, setErr) = try runHostGw(["config", "set", conf.path, "--store-path", store])
        #expect(setCode == 0, "\(setErr)")
        let (code, _, err) = try runHostGw(["config", "show", "--store-path", store, "--etcd-prefix", "/other"])
        #expect(code == 65, "\(err)")
        #expect(err.hasPrefix("hostgw: the config stored at /other/config is not usable: "), "\(err)")
        #expect(!err.contains("Error:"), "argument-parser must add nothing: \(err)")
    }

    @Test func badSettingExits78WithTheSettingNamed() throws {
        let (code, _, err) = try runHostGw(["leases"], environment: ["HOSTGW_ETCD_TIMEOUT": "soon", "HOSTGW_STORE": "etcd", "HOSTGW_ETCD_ENDPOINTS": "http://127.0.0.1:1"])
        #expect(code == 78, "\(err)")
        #expect(err.hasPrefix("hostgw: invalid ") && err.contains("HOSTGW_ETCD_TIMEOUT"), "\(err)")
    }
}
