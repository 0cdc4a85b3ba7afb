// One place decides where a setting comes from. Precedence, highest first:
//   1. the command-line flag (`--etcd-endpoints`)
//   2. the environment (`HOSTGW_ETCD_ENDPOINTS`)
//   3. the config file (`--config FILE` or HOSTGW_CONFIG; JSON object keyed by flag name)
//   4. the built-in default
// Every error names the setting and where its bad value came from.
import Foundation

/// Exit codes from sysexits.h that scripts and systemd units rely on.
enum ExitStatus {
    static let usage: Int32 = 64  // EX_USAGE: a bad flag
    static let dataError: Int32 = 65  // EX_DATAERR: bad input data (e.g. net-conf.json)
    static let unavailable: Int32 = 69  // EX_UNAVAILABLE: a needed service (store) is unreachable
    static let software: Int32 = 70  // EX_SOFTWARE
    static let noPermission: Int32 = 77  // EX_NOPERM: missing CAP_NET_ADMIN
    static let config: Int32 = 78  // EX_CONFIG: a bad setting in env or config file
}

/// A setting that could not be used. `source` says where it came from.
struct SettingError: Error, CustomStringConvertible {
    var setting: String
    var source: String
    var value: String
    var rule: String
    var exitCode: Int32

    var description: String {
        "invalid \(source): \(value.isEmpty ? "(empty)" : "'\(value)'") — \(rule)"
    }
}

struct SettingsResolver: Sendable {
    /// Flag name (without dashes) -> value, from the config file.
    let file: [String: String]
    let filePath: String?
    let environment: [String: String]

    /// Every key a config file may hold: the long names of `hostgw run`'s flags.
    static let knownKeys: Set<String> = [
        "store", "store-path", "etcd-endpoints", "etcd-prefix", "etcd-cafile", "etcd-certfile",
        "etcd-keyfile", "etcd-username", "etcd-password", "etcd-timeout", "node-name", "iface",
        "iface-regex", "iface-can-reach", "public-ip", "subnet-file", "cni-conflist", "state-dir",
        "listen", "observe-only", "lease-ttl", "resync-period", "mtu", "protocol", "adopt-protocol", "table",
        "health-grace", "deletion-grace", "log-level", "log-format",
    ]

    init(configPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.environment = environment
        let path = configPath ?? environment["HOSTGW_CONFIG"]
        self.filePath = path
        guard let path else {
            file = [:]
            return
        }
        let source = configPath != nil ? "--config" : "HOSTGW_CONFIG"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingError(
                setting: "config", source: source, value: path,
                rule: "the config file does not exist or cannot be read", exitCode: ExitStatus.config)
        }
        file = try Self.parseFile(data, path: path)
    }

    init(file: [String: String], environment: [String: String]) {
        self.file = file
        self.filePath = nil
        self.environment = environment
    }

    /// Parses a config file: a JSON object whose keys are flag names and whose values are
    /// strings, numbers or booleans. Unknown keys are errors (a typo must not be ignored).
    static func parseFile(_ data: Data, path: String) throws -> [String: String] {
        let dict: [String: ConfigFileValue]
        do {
            dict = try JSONDecoder().decode([String: ConfigFileValue].self, from: data)
        } catch {
            throw SettingError(
                setting: "config", source: "config file \(path)", value: "",
                rule: "must be a JSON object of flag names to strings, numbers, booleans or lists (\(describe(error)))",
                exitCode: ExitStatus.config)
        }
        var out: [String: String] = [:]
        for (key, value) in dict {
            guard knownKeys.contains(key) else {
                let hint = closest(to: key, in: knownKeys).map { " (did you mean '\($0)'?)" } ?? ""
                throw SettingError(
                    setting: key, source: "config file \(path) key '\(key)'", value: value.text,
                    rule: "unknown setting\(hint)", exitCode: ExitStatus.config)
            }
            out[key] = value.text
        }
        return out
    }

    static func envName(_ key: String) -> String {
        "HOSTGW_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The raw value and a description of where it came from.
    func lookup(_ key: String, flag: String?) -> (value: String, source: String)? {
        if let flag { return (flag, "--\(key)") }
        let env = Self.envName(key)
        if let v = environment[env] { return (v, env) }
        if let v = file[key] { return (v, "config file \(filePath ?? "") key '\(key)'") }
        return nil
    }

    func string(_ key: String, flag: String?, default def: String) -> String {
        lookup(key, flag: flag)?.value ?? def
    }

    func string(_ key: String, flag: String?) -> String? {
        lookup(key, flag: flag)?.value
    }

    /// Parses with `parse`; on nil, a SettingError naming the source and `rule`.
    func parsed<T>(_ key: String, flag: String?, default def: T, rule: String, _ parse: (String) -> T?) throws -> T {
        guard let (raw, source) = lookup(key, flag: flag) else { return def }
        guard let v = parse(raw) else {
            throw SettingError(
                setting: key, source: source, value: raw, rule: rule,
                exitCode: source.hasPrefix("--") ? ExitStatus.usage : ExitStatus.config)
        }
        return v
    }

    /// Like `parsed`, for a setting with no default: nil when it is not set anywhere, an error
    /// when it is set to something `parse` refuses (never a silent nil).
    func parsedOptional<T>(_ key: String, flag: String?, rule: String, _ parse: (String) -> T?) throws -> T? {
        guard lookup(key, flag: flag) != nil else { return nil }
        return try parsed(key, flag: flag, default: nil, rule: rule) { parse($0).map { .some($0) } }
    }

    func bool(_ key: String, flag: Bool) throws -> Bool {
        if flag { return true }
        return try parsed(key, flag: nil, default: false, rule: "must be true or false") {
            switch $0.lowercased() {
            case "1", "true", "yes", "on": true
            case "0", "false", "no", "off", "": false
            default: nil
            }
        }
    }

    func duration(_ key: String, flag: String?, default def: Duration) throws -> Duration {
        try parsed(key, flag: flag, default: def, rule: "must be a duration such as 90s, 5m, 24h or 1h30m", parseDuration)
    }
}

/// Parses `500ms`, `30s`, `5m`, `24h`, `1h30m`; a bare number means seconds. Nil for zero,
/// negative or malformed input.
func parseDuration(_ text: String) -> Duration? {
    let s = text.trimmingCharacters(in: .whitespaces)
    if let n = Double(s), n > 0 { return .milliseconds(Int64(n * 1000)) }
    var total: Duration = .zero
    var number = ""
    var i = s.startIndex
    var sawUnit = false
    while i < s.endIndex {
        let c = s[i]
        if c.isNumber || c == "." {
            number.append(c)
            i = s.index(after: i)
            continue
        }
        var unit = String(c)
        let next = s.index(after: i)
        if c == "m", next < s.endIndex, s[next] == "s" { unit = "ms" }
        guard let n = Double(number) else { return nil }
        switch unit {
        case "ms": total += .milliseconds(Int64(n))
        case "s": total += .milliseconds(Int64(n * 1000))
        case "m": total += .seconds(Int64(n * 60))
        case "h": total += .seconds(Int64(n * 3600))
        case "d": total += .seconds(Int64(n * 86400))
        default: return nil
        }
        sawUnit = true
        number = ""
        i = s.index(i, offsetBy: unit.count)
    }
    guard sawUnit, number.isEmpty, total > .zero else { return nil }
    return total
}

/// Closest name by edit distance, when it is close enough to be a likely typo.
func closest(to word: String, in candidates: some Sequence<String>) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var prev = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var cur = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                cur[j + 1] = min(prev[j + 1] + 1, cur[j] + 1, prev[j] + (ca == cb ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
    let w = Array(word.lowercased())
    let best = candidates.map { ($0, distance(w, Array($0.lowercased()))) }.min { $0.1 < $1.1 }
    guard let best, best.1 <= max(2, w.count / 3) else { return nil }
    return best.0
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
