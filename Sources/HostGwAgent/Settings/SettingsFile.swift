// The config file (`--config FILE`, HOSTGW_CONFIG): a JSON object keyed by flag name, parsed
// into the text a flag would carry. Also the error type every settings layer uses (its exit codes
// are in ExitStatus.swift). Foundation and SubnetLease only, on purpose: the settings-file fuzzer
// (Tests/Fuzz/FuzzSettingsFile) compiles this very file, and ExitStatus.swift beside it.
import Foundation
import SubnetLease

/// A setting that could not be used. `source` says where it came from. The value is echoed
/// unless it is secret (`SettingsFile.isSecret`) or `hidesValue` is set: an unknown key may be a
/// misspelt password key, so its value is never shown.
struct SettingError: Error, CustomStringConvertible {
    var setting: String
    var source: String
    var value: String
    var rule: String
    var exitCode: Int32
    var hidesValue = false

    var description: String {
        if hidesValue { return "invalid \(source) — \(rule)" }
        let shown = SettingsFile.isSecret(setting) ? "(value hidden)" : value.isEmpty ? "(empty)" : "'\(value)'"
        return "invalid \(source): \(shown) — \(rule)"
    }
}

enum SettingsFile {
    /// Every key a config file may hold: the long names of `hostgw run`'s flags (a test holds
    /// this equal to the flags).
    static let knownKeys: Set<String> = [
        "store", "store-path", "etcd-endpoints", "etcd-prefix", "etcd-cafile", "etcd-certfile",
        "etcd-keyfile", "etcd-username", "etcd-password", "etcd-password-file", "etcd-allow-insecure-auth",
        "etcd-timeout", "node-name", "iface", "iface-regex", "iface-can-reach", "public-ip", "public-ipv6",
        "subnet-file", "cni-conflist", "state-dir", "listen", "observe-only", "lease-ttl", "resync-period",
        "mtu", "protocol", "adopt-protocol", "table", "health-grace", "deletion-grace", "log-level", "log-format",
        "probe-port", "probe-interval", "probe-budget",
    ]

    /// Settings whose values are never echoed in an error, a log line or status.
    static let secretKeys: Set<String> = ["etcd-password"]

    static func isSecret(_ key: String) -> Bool { secretKeys.contains(key) }

    /// Parses a config file: a JSON object whose keys are flag names and whose values are
    /// strings, numbers, booleans or lists of strings. Unknown keys are errors (a typo must not
    /// be ignored), reported without their value.
    static func parse(_ data: Data, path: String) throws -> [String: String] {
        let dict: [String: ConfigFileValue]
        do {
            dict = try JSONDecoder().decode([String: ConfigFileValue].self, from: data)
        } catch {
            throw SettingError(
                setting: "config", source: "config file \(path)", value: "",
                rule: "must be a JSON object of flag names to strings, numbers, booleans or lists (\(describe(error)))",
                exitCode: ExitStatus.config, hidesValue: true)
        }
        var out: [String: String] = [:]
        for (key, value) in dict.sorted(by: { $0.key < $1.key }) {
            guard knownKeys.contains(key) else {
                let hint = Suggestion.closest(to: key, in: knownKeys).map { " (did you mean '\($0)'?)" } ?? ""
                throw SettingError(
                    setting: key, source: "config file \(path) key '\(key)'", value: "",
                    rule: "unknown setting\(hint)", exitCode: ExitStatus.config, hidesValue: true)
            }
            out[key] = value.text
        }
        return out
    }
}

/// A config-file value: kept as the text a flag would carry.
struct ConfigFileValue: Decodable {
    var text: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            text = b ? "true" : "false"
        } else if let i = try? c.decode(Int.self) {
            text = String(i)
        } else if let d = try? c.decode(Double.self) {
            text = String(d)
        } else if let s = try? c.decode(String.self) {
            text = s
        } else {
            text = try c.decode([String].self).joined(separator: ",")
        }
    }
}

/// A decoding error as one line: which key and what was wrong.
func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let ctx), DecodingError.typeMismatch(_, let ctx),
        DecodingError.valueNotFound(_, let ctx), DecodingError.keyNotFound(_, let ctx):
        let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? ctx.debugDescription : "\(path): \(ctx.debugDescription)"
    default:
        return "\(error)"
    }
}
