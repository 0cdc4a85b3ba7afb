// No password reaches an error, a log line, status or the output of a command: every place a
// setting is echoed is checked with a recognisable secret.
import ArgumentParser
import Foundation
import NetAddress
import Testing

@testable import HostGwAgent

@Suite struct SecretsTests {
    static let secret = "S3cr3t-hunter2-Zq"

    func tempFile(_ name: String, _ contents: String, mode: Int) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: mode]))
        return path
    }

    @Test func aMisspeltPasswordKeyIsNamedButItsValueNeverShown() {
        let json = Data(#"{"etcd-pasword": "\#(Self.secret)"}"#.utf8)
        #expect {
            try SettingsFile.parse(json, path: "/etc/hostgw/config.json")
        } throws: { error in
            let text = "\(error)"
            return !text.contains(Self.secret) && text.contains("etcd-pasword") && text.contains("did you mean 'etcd-password'")
                && (error as? SettingError)?.exitCode == ExitStatus.config
        }
    }

    @Test func aBadJSONConfigFileDoesNotQuoteIt() {
        let json = Data(#"{"etcd-password": "\#(Self.secret)" "x"}"#.utf8)
        #expect { try SettingsFile.parse(json, path: "c.json") } throws: { !"\($0)".contains(Self.secret) }
    }

    @Test func aPasswordSettingErrorHidesTheValue() {
        let e = SettingError(setting: "etcd-password", source: "HOSTGW_ETCD_PASSWORD", value: Self.secret, rule: "any rule", exitCode: 78)
        #expect(!e.description.contains(Self.secret))
    }

    func storeSettings(_ args: [String], env: [String: String] = [:], file: [String: String] = [:]) throws -> StoreSettings {
        try StoreSettings(try StoreOptions.parse(args), SettingsResolver(file: file, environment: env))
    }

    @Test func credentialsInAnEndpointURLAreRefusedWithoutEchoingThem() {
        #expect {
            _ = try storeSettings(["--store", "etcd", "--etcd-endpoints", "https://root:\(Self.secret)@10.0.0.1:2379"])
        } throws: { error in
            let text = "\(error)"
            return !text.contains(Self.secret) && text.contains("10.0.0.1:2379") && text.contains("--etcd-password-file")
        }
    }

    @Test func httpWithAPasswordIsRefusedNamingTheEndpointUnlessAllowed() throws {
        let args = ["--store", "etcd", "--etcd-endpoints", "https://10.0.0.1:2379,http://10.0.0.2:2379", "--etcd-username", "hostgw"]
        #expect {
            _ = try storeSettings(args, env: ["HOSTGW_ETCD_PASSWORD": Self.secret])
        } throws: { error in
            let text = "\(error)"
            return !text.contains(Self.secret) && text.contains("http://10.0.0.2:2379") && text.contains("clear text")
                && (error as? SettingError)?.exitCode == ExitStatus.usage
        }
        let allowed = try storeSettings(args + ["--etcd-allow-insecure-auth"], env: ["HOSTGW_ETCD_PASSWORD": Self.secret])
        guard case .etcd(let e) = allowed.backend else { Issue.record("not etcd"); return }
        #expect(e.password == Self.secret)
        #expect(!allowed.summary.contains(Self.secret))
        #expect(!"\(allowed)".contains(Self.secret) && !"\(e)".contains(Self.secret) && !String(reflecting: e).contains(Self.secret))
        // https only: no refusal, no flag needed.
        _ = try storeSettings(["--store", "etcd", "--etcd-endpoints", "https://10.0.0.1:2379", "--etcd-username", "u"], env: ["HOSTGW_ETCD_PASSWORD": "p"])
    }

    @Test func thePasswordFileIsReadAndTheCommandLineNeverHoldsThePassword() throws {
        let file = try tempFile("etcd-password", Self.secret + "\n", mode: 0o600)
        for (args, env, cfg) in [
            (["--etcd-password-file", file], [String: String](), [String: String]()),
            ([], ["HOSTGW_ETCD_PASSWORD_FILE": file], [:]),
            ([], [:], ["etcd-password-file": file]),
        ] {
            let s = try storeSettings(["--store", "etcd", "--etcd-endpoints", "https://10.0.0.1:2379", "--etcd-username", "u"] + args, env: env, file: cfg)
            guard case .etcd(let e) = s.backend else { Issue.record("not etcd"); continue }
            #expect(e.password == Self.secret)
        }
        #expect {
            _ = try storeSettings(["--store", "etcd", "--etcd-endpoints", "https://a:2379", "--etcd-username", "u", "--etcd-password", "x", "--etcd-password-file", file])
        } throws: { "\($0)".contains("not both") && !"\($0)".contains(Self.secret) }
        #expect {
            _ = try storeSettings(["--store", "etcd", "--etcd-endpoints", "https://a:2379", "--etcd-username", "u", "--etcd-password-file", file + ".missing"])
        } throws: { "\($0)".contains(file + ".missing") }
    }

    @Test func aConfigFileWithAPasswordReadableByOthersIsWarnedAbout() throws {
        let open = try tempFile("config.json", #"{"etcd-password": "\#(Self.secret)"}"#, mode: 0o644)
        let warnings = try SettingsResolver(configPath: open, environment: [:]).warnings
        #expect(warnings.count == 1)
        #expect(warnings.allSatisfy { $0.contains(open) && $0.contains("chmod 600") && !$0.contains(Self.secret) })
        let closed = try tempFile("config.json", #"{"etcd-password": "\#(Self.secret)"}"#, mode: 0o600)
        #expect(try SettingsResolver(configPath: closed, environment: [:]).warnings.isEmpty)
        let noSecret = try tempFile("config.json", #"{"node-name": "a"}"#, mode: 0o644)
        #expect(try SettingsResolver(configPath: noSecret, environment: [:]).warnings.isEmpty)
    }

    /// The commands that echo settings (headers, status, errors) run against an etcd that is not
    /// there: whatever they print, the password is not in it.
    @Test(arguments: [["status"], ["status", "--json"], ["check"], ["leases"], ["leases", "--json"], ["config", "show"], ["routes", "--for-external"]])
    func noCommandOutputHoldsThePassword(_ command: [String]) throws {
        let file = try tempFile("etcd-password", Self.secret, mode: 0o600)
        let args = command + [
            "--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-username", "hostgw", "--etcd-password-file", file,
            "--etcd-allow-insecure-auth", "--etcd-timeout", "1s",
        ]
        let (code, out, err) = try runHostGw(args, environment: ["HOSTGW_LISTEN": "127.0.0.1:1"])
        #expect(code != -1)
        #expect(!out.contains(Self.secret) && !err.contains(Self.secret), "\(command): \(out) \(err)")
        let (code2, out2, err2) = try runHostGw(args.filter { $0 != "--etcd-allow-insecure-auth" })
        #expect(code2 == ExitStatus.usage)
        #expect(!out2.contains(Self.secret) && !err2.contains(Self.secret) && err2.contains("http://127.0.0.1:1"))
    }
}
