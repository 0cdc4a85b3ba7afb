// The store flags every command that reads the store takes (run, status, check, leases, config,
// leave, routes, external-sync): one option group, one resolution, one error style.
import ArgumentParser
import Foundation

struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Config file (JSON object keyed by flag name). Env HOSTGW_CONFIG.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Store backend: embedded (a SQLite file, the default) or etcd. Env HOSTGW_STORE.", valueName: "kind"))
    var store: String?

    @Option(help: ArgumentHelp("SQLite file of the embedded store. Default /var/lib/hostgw/store.db.", valueName: "path"))
    var storePath: String?

    @Option(help: ArgumentHelp("Comma-separated etcd client URLs, tried in order on failure.", valueName: "urls"))
    var etcdEndpoints: String?

    @Option(help: ArgumentHelp("Key prefix in the store. Default /coreos.com/network (flannel's).", valueName: "prefix"))
    var etcdPrefix: String?

    @Option(help: ArgumentHelp("CA bundle that signs the etcd servers' certificates.", valueName: "file"))
    var etcdCafile: String?

    @Option(help: ArgumentHelp("Client certificate for etcd (with --etcd-keyfile).", valueName: "file"))
    var etcdCertfile: String?

    @Option(help: ArgumentHelp("Client key for etcd (with --etcd-certfile).", valueName: "file"))
    var etcdKeyfile: String?

    @Option(help: ArgumentHelp("etcd user name (with --etcd-password).", valueName: "name"))
    var etcdUsername: String?

    @Option(help: ArgumentHelp("etcd password. Visible in `ps`: prefer --etcd-password-file.", valueName: "secret"))
    var etcdPassword: String?

    @Option(help: ArgumentHelp("File holding the etcd password (one line; a trailing newline is ignored). Keep it mode 0600.", valueName: "file"))
    var etcdPasswordFile: String?

    @Flag(help: "Allow a user name and password over http:// endpoints, where anyone on the path can read them.")
    var etcdAllowInsecureAuth = false

    @Option(help: ArgumentHelp("Timeout of one etcd request. Default 5s.", valueName: "duration"))
    var etcdTimeout: String?

    /// Reads the config file named by --config / HOSTGW_CONFIG (if any) once.
    func resolver() throws -> SettingsResolver {
        try SettingsResolver(configPath: config)
    }
}

/// Where the store is and how to reach it, after flags, environment and config file.
struct StoreSettings: Sendable {
    enum Backend: Sendable, Equatable {
        case embedded(path: String)
        case etcd(EtcdSettings)
    }

    struct EtcdSettings: Sendable, Equatable {
        var endpoints: [URL]
        var caFile: String?
        var certFile: String?
        var keyFile: String?
        var username: String?
        var password: String?
        var timeout: Duration
    }

    var backend: Backend
    var prefix: String

    /// One line for headers and status: `etcd http://a:2379,http://b:2379 prefix /coreos.com/network`.
    /// Never holds a credential: endpoints with user info are refused when settings are read.
    var summary: String {
        switch backend {
        case .embedded(let path): "embedded \(path) prefix \(prefix)"
        case .etcd(let e): "etcd \(e.endpoints.map(\.absoluteString).joined(separator: ",")) prefix \(prefix)"
        }
    }

    static let defaultPrefix = "/coreos.com/network"
    static let defaultStorePath = "/var/lib/hostgw/store.db"

    init(backend: Backend, prefix: String) {
        self.backend = backend
        self.prefix = prefix
    }

    init(_ o: StoreOptions, _ r: SettingsResolver) throws {
        let kind = r.lookup("store", flag: o.store) ?? ("embedded", "default")
        prefix = r.string("etcd-prefix", flag: o.etcdPrefix, default: Self.defaultPrefix)
        guard prefix.hasPrefix("/"), !prefix.hasSuffix("/") || prefix == "/" else {
            throw SettingError(
                setting: "etcd-prefix", source: r.lookup("etcd-prefix", flag: o.etcdPrefix)?.source ?? "--etcd-prefix",
                value: prefix, rule: "must start with '/' and not end with '/' (e.g. /coreos.com/network)",
                exitCode: o.etcdPrefix != nil ? ExitStatus.usage : ExitStatus.config)
        }
        switch kind.value {
        case "embedded":
            backend = .embedded(path: r.string("store-path", flag: o.storePath, default: Self.defaultStorePath))
        case "etcd":
            guard let raw = r.lookup("etcd-endpoints", flag: o.etcdEndpoints) else {
                throw SettingError(
                    setting: "etcd-endpoints", source: "--etcd-endpoints", value: "",
                    rule: "required with --store etcd (e.g. --etcd-endpoints https://10.0.0.1:2379,https://10.0.0.2:2379)",
                    exitCode: ExitStatus.usage)
            }
            let urls = try Self.endpoints(raw.value, source: raw.source)
            let password = try Self.password(o, r)
            let e = EtcdSettings(
                endpoints: urls,
                caFile: r.string("etcd-cafile", flag: o.etcdCafile),
                certFile: r.string("etcd-certfile", flag: o.etcdCertfile),
                keyFile: r.string("etcd-keyfile", flag: o.etcdKeyfile),
                username: r.string("etcd-username", flag: o.etcdUsername),
                password: password,
                timeout: try r.duration("etcd-timeout", flag: o.etcdTimeout, default: .seconds(5)))
            if (e.certFile == nil) != (e.keyFile == nil) {
                throw SettingError(
                    setting: "etcd-certfile", source: "--etcd-certfile/--etcd-keyfile", value: e.certFile ?? e.keyFile ?? "",
                    rule: "a client certificate needs its key and the reverse: give both or neither", exitCode: ExitStatus.usage)
            }
            if (e.username == nil) != (e.password == nil) {
                throw SettingError(
                    setting: "etcd-username", source: "--etcd-username/--etcd-password", value: e.username ?? "",
                    rule: "give both a user name and a password (or --etcd-password-file), or neither", exitCode: ExitStatus.usage)
            }
            let allowCleartext = try r.bool("etcd-allow-insecure-auth", flag: o.etcdAllowInsecureAuth)
            if e.username != nil, !allowCleartext, let clear = urls.first(where: { $0.scheme == "http" }) {
                throw SettingError(
                    setting: "etcd-endpoints", source: raw.source, value: clear.absoluteString,
                    rule: "an http:// endpoint would receive the etcd user name and password in clear text: use https://, "
                        + "or pass --etcd-allow-insecure-auth (HOSTGW_ETCD_ALLOW_INSECURE_AUTH) if the network path is trusted",
                    exitCode: Self.code(raw.source))
            }
            for (name, path) in [("etcd-cafile", e.caFile), ("etcd-certfile", e.certFile), ("etcd-keyfile", e.keyFile)] {
                if let path, !FileManager.default.isReadableFile(atPath: path) {
                    throw SettingError(
                        setting: name, source: "--\(name)", value: path, rule: "file does not exist or is not readable",
                        exitCode: ExitStatus.config)
                }
            }
            backend = .etcd(e)
        default:
            throw SettingError(
                setting: "store", source: kind.source, value: kind.value, rule: "must be 'embedded' or 'etcd'",
                exitCode: kind.source.hasPrefix("--") ? ExitStatus.usage : ExitStatus.config)
        }
    }

    static func code(_ source: String) -> Int32 { source.hasPrefix("--") ? ExitStatus.usage : ExitStatus.config }

    /// The endpoint list: http(s) URLs with a host and no user info (credentials in a URL end
    /// up in every log line and status that names the store).
    static func endpoints(_ list: String, source: String) throws -> [URL] {
        var urls: [URL] = []
        for part in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard let url = URL(string: part), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw SettingError(
                    setting: "etcd-endpoints", source: source, value: part, rule: "each endpoint must be an http:// or https:// URL with a host, e.g. https://10.0.0.1:2379",
                    exitCode: code(source), hidesValue: part.contains("@"))
            }
            if url.user != nil || url.password != nil {
                var shown = URLComponents(url: url, resolvingAgainstBaseURL: false)
                shown?.user = nil
                shown?.password = nil
                throw SettingError(
                    setting: "etcd-endpoints", source: source, value: shown?.string ?? "",
                    rule: "must not carry a user name or password: use --etcd-username with --etcd-password-file", exitCode: code(source))
            }
            urls.append(url)
        }
        guard !urls.isEmpty else {
            throw SettingError(setting: "etcd-endpoints", source: source, value: list, rule: "names no endpoint", exitCode: code(source))
        }
        return urls
    }

    /// The etcd password from --etcd-password (env, config) or the file named by
    /// --etcd-password-file (env, config); both at once is an error.
    static func password(_ o: StoreOptions, _ r: SettingsResolver) throws -> String? {
        let direct = r.lookup("etcd-password", flag: o.etcdPassword)
        guard let file = r.lookup("etcd-password-file", flag: o.etcdPasswordFile) else { return direct?.value }
        if let direct {
            throw SettingError(
                setting: "etcd-password-file", source: "\(direct.source) and \(file.source)", value: file.value,
                rule: "give the password or a password file, not both", exitCode: code(file.source))
        }
        guard let data = FileManager.default.contents(atPath: file.value) else {
            throw SettingError(
                setting: "etcd-password-file", source: file.source, value: file.value, rule: "file does not exist or is not readable",
                exitCode: ExitStatus.config)
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.last, last.isNewline { text.removeLast() }
        guard !text.isEmpty else {
            throw SettingError(setting: "etcd-password-file", source: file.source, value: file.value, rule: "the file is empty", exitCode: ExitStatus.config)
        }
        return text
    }
}

extension StoreSettings.EtcdSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// Without the password: settings interpolated into a message or dumped while debugging must
    /// not carry it (the default description would reflect every field).
    var description: String {
        "etcd \(endpoints.map(\.absoluteString).joined(separator: ",")) user \(username ?? "-") password \(password == nil ? "-" : "(set)")"
    }

    var debugDescription: String { description }
}
