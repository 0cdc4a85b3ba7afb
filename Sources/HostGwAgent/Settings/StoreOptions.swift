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

    @Option(help: ArgumentHelp("etcd password. Prefer HOSTGW_ETCD_PASSWORD or the config file over the command line.", valueName: "secret"))
    var etcdPassword: String?

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
            var urls: [URL] = []
            for part in raw.value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
                guard let url = URL(string: part), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                    throw SettingError(
                        setting: "etcd-endpoints", source: raw.source, value: part,
                        rule: "each endpoint must be an http:// or https:// URL with a host, e.g. https://10.0.0.1:2379",
                        exitCode: raw.source.hasPrefix("--") ? ExitStatus.usage : ExitStatus.config)
                }
                urls.append(url)
            }
            guard !urls.isEmpty else {
                throw SettingError(
                    setting: "etcd-endpoints", source: raw.source, value: raw.value,
                    rule: "names no endpoint", exitCode: raw.source.hasPrefix("--") ? ExitStatus.usage : ExitStatus.config)
            }
            let e = EtcdSettings(
                endpoints: urls,
                caFile: r.string("etcd-cafile", flag: o.etcdCafile),
                certFile: r.string("etcd-certfile", flag: o.etcdCertfile),
                keyFile: r.string("etcd-keyfile", flag: o.etcdKeyfile),
                username: r.string("etcd-username", flag: o.etcdUsername),
                password: r.string("etcd-password", flag: o.etcdPassword),
                timeout: try r.duration("etcd-timeout", flag: o.etcdTimeout, default: .seconds(5)))
            if (e.certFile == nil) != (e.keyFile == nil) {
                throw SettingError(
                    setting: "etcd-certfile", source: "--etcd-certfile/--etcd-keyfile", value: e.certFile ?? e.keyFile ?? "",
                    rule: "a client certificate needs its key and the reverse: give both or neither", exitCode: ExitStatus.usage)
            }
            if (e.username == nil) != (e.password == nil) {
                throw SettingError(
                    setting: "etcd-username", source: "--etcd-username/--etcd-password", value: e.username ?? "",
                    rule: "give both a user name and a password, or neither", exitCode: ExitStatus.usage)
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
}
