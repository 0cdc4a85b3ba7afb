// The config file takes exactly `hostgw run`'s flags as keys: a flag missing from the list
// (public-ipv6 was) makes a valid config file exit 78.
import ArgumentParser
import Foundation
import NetAddress
import Testing

@testable import HostGwAgent

@Suite struct ConfigFileKeysTests {
    /// The long names of `hostgw run`'s options and flags, from the argument parser's own dump.
    func runFlags() throws -> Set<String> {
        let (code, out, err) = try runHostGw(["run", "--experimental-dump-help"])
        try #require(code == 0, "\(err)")
        struct Dump: Decodable {
            struct Command: Decodable {
                struct Argument: Decodable {
                    struct Name: Decodable { var kind: String; var name: String }
                    var names: [Name]?
                }
                var arguments: [Argument]?
            }
            var command: Command
        }
        let dump = try JSONDecoder().decode(Dump.self, from: Data(out.utf8))
        let names = (dump.command.arguments ?? []).flatMap { $0.names ?? [] }.filter { $0.kind == "long" }.map(\.name)
        return Set(names).subtracting(["config", "help", "version"])
    }

    @Test func everyRunFlagIsAConfigKeyAndNothingElseIs() throws {
        #expect(try runFlags() == SettingsFile.knownKeys)
    }

    @Test func publicIPv6FromTheConfigFile() throws {
        let file = try SettingsFile.parse(Data(#"{"public-ipv6": "fd00::11", "public-ip": "10.0.0.11"}"#.utf8), path: "c.json")
        let s = try RunSettings(try SyncOptions.parse([]), try NodeOptions.parse([]), SettingsResolver(file: file, environment: [:]))
        #expect(s.publicIPv6?.description == "fd00::11")
    }
}
