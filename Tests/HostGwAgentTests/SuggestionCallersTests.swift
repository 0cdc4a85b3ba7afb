// The config file's unknown keys and net-conf.json's unknown keys are judged by one rule
// (`Suggestion`): each names exactly what `Suggestion.closest` picks, and neither guesses when
// nothing is close (net-conf.json used to name its nearest key however far it was).
import Foundation
import SubnetLease
import Testing

@testable import HostGwAgent

@Suite struct SuggestionCallersTests {
    /// The hint in the config file's error for `key`, or nil.
    func settingsHint(_ key: String) -> String? {
        do {
            _ = try SettingsFile.parse(Data(#"{"\#(key)": "x"}"#.utf8), path: "c.json")
            Issue.record("accepted \(key)")
            return nil
        } catch {
            let text = "\(error)"
            guard let r = text.range(of: "did you mean '") else { return nil }
            return String(text[r.upperBound...].prefix { $0 != "'" })
        }
    }

    /// The hint in net-conf.json's error for the top-level `key`, or nil.
    func networkConfigHint(_ key: String) -> String? {
        do {
            _ = try NetworkConfig(json: Data(#"{"Network": "10.244.0.0/16", "\#(key)": 1}"#.utf8))
            Issue.record("accepted \(key)")
            return nil
        } catch {
            guard let r = error.description.range(of: "did you mean \"") else { return nil }
            return String(error.description[r.upperBound...].prefix { $0 != "\"" })
        }
    }

    static let netConfKeys = [
        "Network", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv4", "EnableIPv6", "IPv6Network",
        "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax", "Backend",
    ]

    @Test(arguments: ["etcd-endpoint", "node_name", "LOG-LEVEL", "etcd-pasword", "colour", "zzzzzzzzzzzzzzzz"])
    func theConfigFileNamesWhatSuggestionPicks(_ key: String) {
        #expect(settingsHint(key) == Suggestion.closest(to: key, in: SettingsFile.knownKeys))
    }

    @Test(arguments: ["SubnetLength", "subnetmin", "Netwrk", "EnableIPV6", "Colour", "zzzzzzzzzzzzzzzz"])
    func netConfNamesWhatSuggestionPicks(_ key: String) {
        #expect(networkConfigHint(key) == Suggestion.closest(to: key, in: Self.netConfKeys))
    }

    @Test func neitherGuessesWhenNothingIsClose() {
        #expect(settingsHint("colour") == nil)
        #expect(networkConfigHint("Colour") == nil)
        #expect(settingsHint("etcd-endpoint") == "etcd-endpoints")
        #expect(networkConfigHint("SubnetLength") == "SubnetLen")
    }
}
