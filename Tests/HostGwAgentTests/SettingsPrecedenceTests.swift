import ArgumentParser
import Foundation
import SubnetLease
import NetAddress
import Netlink
import Testing

@testable import HostGwAgent

@Suite struct SettingsPrecedenceTests {
    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let r = SettingsResolver(
            file: ["node-name": "from-file", "listen": "127.0.0.1:1000", "subnet-file": "/file"],
            environment: ["HOSTGW_NODE_NAME": "from-env", "HOSTGW_LISTEN": "127.0.0.1:2000"])
        #expect(r.string("node-name", flag: "from-flag", default: "d") == "from-flag")
        #expect(r.string("node-name", flag: nil, default: "d") == "from-env")
        #expect(r.string("subnet-file", flag: nil, default: "d") == "/file")
        #expect(r.string("state-dir", flag: nil, default: "d") == "d")
        #expect(r.lookup("listen", flag: nil)?.source == "HOSTGW_LISTEN")
    }

    @Test func unknownConfigKeyIsRefusedWithSuggestion() {
        let json = Data(#"{"etcd-endpoint": "http://x:2379"}"#.utf8)
        #expect {
            try SettingsFile.parse(json, path: "/etc/hostgw/config.json")
        } throws: { error in
            let e = error as? SettingError
            return e?.setting == "etcd-endpoint" && e?.exitCode == 78 && "\(error)".contains("did you mean 'etcd-endpoints'")
        }
    }

    @Test func configFileValuesOfEveryJSONTypeBecomeFlagText() throws {
        let json = Data(#"{"observe-only": true, "mtu": 1450, "etcd-endpoints": ["http://a:2379", "http://b:2379"]}"#.utf8)
        let f = try SettingsFile.parse(json, path: "c.json")
        #expect(f == ["observe-only": "true", "mtu": "1450", "etcd-endpoints": "http://a:2379,http://b:2379"])
    }

    @Test func badEnvironmentValueNamesTheVariableAndExits78() {
        let r = SettingsResolver(file: [:], environment: ["HOSTGW_LEASE_TTL": "forever"])
        #expect {
            _ = try r.duration("lease-ttl", flag: nil, default: .seconds(1))
        } throws: { error in
            let e = error as? SettingError
            return e?.source == "HOSTGW_LEASE_TTL" && e?.exitCode == 78 && e?.value == "forever"
        }
    }

    @Test func optionalSettingWithABadValueIsAnErrorNotNil() throws {
        let r = SettingsResolver(file: ["mtu": "70000"], environment: [:])
        #expect(try r.parsedOptional("public-ip", flag: nil, rule: "ip") { Int($0) } == nil)
        #expect(try r.parsedOptional("public-ip", flag: "7", rule: "ip") { Int($0) } == 7)
        #expect(throws: SettingError.self) {
            try r.parsedOptional("mtu", flag: nil, rule: "576-65535") { UInt32($0).flatMap { $0 <= 65535 ? $0 : nil } }
        }
    }

    @Test(arguments: [("30s", 30.0), ("500ms", 0.5), ("5m", 300.0), ("24h", 86400.0), ("1h30m", 5400.0), ("90", 90.0)])
    func durationsParse(_ text: String, _ seconds: Double) throws {
        let d = try #require(parseDuration(text))
        #expect(abs(d.seconds - seconds) < 0.001)
    }

    @Test(arguments: ["", "0", "-5s", "5x", "s", "1h30", "abc"])
    func badDurationsAreRefused(_ text: String) {
        #expect(parseDuration(text) == nil)
    }

    @Test(arguments: ["0.0.0.0:9447", "10.0.0.1:9447", "127.0.0.1", "127.0.0.1:99999", "localhost:9447"])
    func listenMustBeLoopbackHostPort(_ text: String) {
        #expect(throws: SettingError.self) { try RunSettings.parseListen(text, source: "--listen") }
    }

    @Test func listenAcceptsLoopbackV4AndV6() throws {
        #expect(try RunSettings.parseListen("127.0.0.1:9447", source: "--listen") == ("127.0.0.1", 9447))
        #expect(try RunSettings.parseListen("[::1]:9447", source: "--listen") == ("::1", 9447))
    }

    @Test func adoptProtocolIsRepeatableAndReadsAListFromEnvironmentAndFile() throws {
        let run = try RunCommand.parse(["--adopt-protocol", "boot", "--adopt-protocol", "200"])
        let flags = try RunSettings(run.syncOptions, run.nodeOptions, SettingsResolver(file: [:], environment: [:]))
        #expect(flags.adoptProtocols == [.boot, RouteProtocol(200)])
        let env = SettingsResolver(file: ["adopt-protocol": "static"], environment: ["HOSTGW_ADOPT_PROTOCOL": "boot, static"])
        #expect(try env.adoptProtocols(flag: nil, own: .hostgw) == [.boot, .static])
        let file = SettingsResolver(file: ["adopt-protocol": "static"], environment: [:])
        #expect(try file.adoptProtocols(flag: nil, own: .hostgw) == [.static])
        #expect(try SettingsResolver(file: [:], environment: [:]).adoptProtocols(flag: nil, own: .hostgw).isEmpty)
    }

    @Test(arguments: ["kernel", "2", "0", "77", "flannel", "256"])
    func adoptProtocolRefusesKernelRoutesOwnMarkerAndNonsense(_ value: String) {
        #expect {
            try SettingsResolver(file: [:], environment: ["HOSTGW_ADOPT_PROTOCOL": value]).adoptProtocols(flag: nil, own: .hostgw)
        } throws: { error in
            let e = error as? SettingError
            return e?.setting == "adopt-protocol" && e?.source == "HOSTGW_ADOPT_PROTOCOL" && e?.value == value && e?.exitCode == 78
        }
    }
}
