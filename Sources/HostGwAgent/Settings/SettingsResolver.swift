// One place decides where a setting comes from. Precedence, highest first:
//   1. the command-line flag (`--etcd-endpoints`)
//   2. the environment (`HOSTGW_ETCD_ENDPOINTS`)
//   3. the config file (`--config FILE` or HOSTGW_CONFIG; JSON object keyed by flag name)
//   4. the built-in default
// Every error names the setting and where its bad value came from.
import Foundation

struct SettingsResolver: Sendable {
    /// Flag name (without dashes) -> value, from the config file.
    let file: [String: String]
    let filePath: String?
    let environment: [String: String]

    /// Notes for the operator found while reading settings (e.g. a config file holding a
    /// password that other users can read). Printed on stderr by the command, never fatal.
    private(set) var warnings: [String] = []

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
        file = try SettingsFile.parse(data, path: path)
        if let warning = Self.exposedSecretWarning(file: file, path: path) { warnings.append(warning) }
    }

    /// A warning when a config file holding a password can be read by users other than its
    /// owner: the password is then as good as public on this machine.
    static func exposedSecretWarning(file: [String: String], path: String) -> String? {
        guard file.keys.contains(where: SettingsFile.isSecret),
            let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
            mode & 0o044 != 0
        else { return nil }
        return "warning: config file \(path) holds etcd-password and is readable by other users (mode \(String(mode & 0o777, radix: 8))): "
            + "chmod 600 it, or keep the password in a file named by etcd-password-file"
    }

    init(file: [String: String], environment: [String: String]) {
        self.file = file
        self.filePath = nil
        self.environment = environment
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
