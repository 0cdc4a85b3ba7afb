import ArgumentParser
import Foundation
import Logging
import NetAddress
import Netlink
import RouteSync

/// Flags of `hostgw run` about this node and its lease. Every one also reads HOSTGW_<FLAG> and
/// the config-file key of the same name.
struct NodeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Interface toward the other nodes, by name or by one of its IPs. Default: the interface of the default route.", valueName: "name|ip"))
    var iface: String?

    @Option(help: ArgumentHelp("Pick the first interface whose name or IP matches this regular expression.", valueName: "regex"))
    var ifaceRegex: String?

    @Option(help: ArgumentHelp("Pick the interface with a connected network containing this address.", valueName: "ip"))
    var ifaceCanReach: String?

    @Option(name: .customLong("public-ip"), help: ArgumentHelp("IPv4 address other nodes route through. Must be on the interface (host-gw cannot work through NAT).", valueName: "ip"))
    var publicIP: String?

    @Option(name: .customLong("public-ipv6"), help: ArgumentHelp("IPv6 address other nodes route through (dual-stack networks).", valueName: "ip"))
    var publicIPv6: String?

    @Option(help: ArgumentHelp("flannel-compatible subnet file for CNI. Default /run/flannel/subnet.env.", valueName: "path"))
    var subnetFile: String?

    @Option(help: ArgumentHelp("Also write a CNI conflist (bridge + host-local, ipMasq false) for the leased subnet here.", valueName: "path"))
    var cniConflist: String?

    @OptionGroup var state: StateDirOptions

    @Option(name: .customLong("lease-ttl"), help: ArgumentHelp("Lease time to live. Default 24h.", valueName: "duration"))
    var leaseTTL: String?

    @Option(help: ArgumentHelp("MTU written to subnet.env and the conflist. Default: the interface's MTU.", valueName: "bytes"))
    var mtu: String?

    @Option(
        name: .customLong("adopt-protocol"),
        help: ArgumentHelp(
            "Take over routes of this protocol (boot, static or a number; repeatable) that equal hostgw's in all but the protocol, replacing each in place: migrating from flanneld is `--adopt-protocol boot`. Default: adopt nothing (they are conflicts).",
            valueName: "protocol"))
    var adoptProtocol: [String] = []

    @Option(help: ArgumentHelp("UDP port every agent answers peer probes on and probes its peers at (the same on every node; let it through between nodes). 0: no probes, reachability from neighbour entries only. Default 8477.", valueName: "port"))
    var probePort: String?

    @Option(help: ArgumentHelp("How often each peer is probed (node IP, and pod gateway through the pod route), with jitter; a path that lost a probe is retried every 0.4s. Default 2s.", valueName: "duration"))
    var probeInterval: String?

    @Option(help: ArgumentHelp("At most this many probes per second from this node, however many peers: beyond it peers are probed in rotation (unreachable ones first). Default 200.", valueName: "count"))
    var probeBudget: String?
}

/// Flags shared by `hostgw run` and `hostgw external-sync`: how routes are kept and how the
/// process reports.
struct SyncOptions: ParsableArguments {
    @OptionGroup var agent: AgentAddressOptions

    @Flag(help: "Report drift but change no route.")
    var observeOnly = false

    @Option(help: ArgumentHelp("Full resync period, a safety net behind the event triggers. Default 30s.", valueName: "duration"))
    var resyncPeriod: String?

    @OptionGroup var routes: RouteMarkOptions

    @Option(help: ArgumentHelp("How long the store may be unreachable, or the lease watch failing, before /healthz fails. Default 60s.", valueName: "duration"))
    var healthGrace: String?

    @Option(help: ArgumentHelp("When one snapshot would delete more than half of the peer routes (at least two), keep them this long while the nodes re-claim their leases. Default 10s.", valueName: "duration"))
    var deletionGrace: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. Default info.", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("text or json (one object per line). Default text.", valueName: "format"))
    var logFormat: String?
}

/// How to choose the interface toward the other nodes.
enum InterfaceChoice: Sendable, Equatable {
    case named(String)
    case address(IPAddress)
    case regex(String)
    case canReach(IPAddress)
    case defaultRoute
}

struct RunSettings: Sendable {
    var nodeName: String
    var interface: InterfaceChoice
    var publicIP: IPv4Address?
    var publicIPv6: IPv6Address?
    var subnetFile: String
    var cniConflist: String?
    var stateDir: String
    var listenHost: String
    var listenPort: Int
    var observeOnly: Bool
    var leaseTTL: Duration
    var resyncPeriod: Duration
    var mtu: UInt32?
    var routeProtocol: RouteProtocol
    var adoptProtocols: Set<RouteProtocol>
    var table: UInt32
    var healthGrace: Duration
    var deletionGrace: Duration
    /// Peer probes; nil when `--probe-port 0` turns them off.
    var probe: ProbeConfig?
    var logLevel: Logger.Level
    var logFormat: LogFormat

    /// `node` is nil for `external-sync`, which leases nothing: its fields take their defaults.
    init(_ sync: SyncOptions, _ node: NodeOptions?, _ r: SettingsResolver) throws {
        let o = try node ?? NodeOptions.parse([])
        nodeName = sync.agent.resolvedNodeName(r)
        if let v = r.lookup("iface", flag: o.iface) {
            interface = IPAddress(v.value).map(InterfaceChoice.address) ?? .named(v.value)
        } else if let v = r.lookup("iface-regex", flag: o.ifaceRegex) {
            guard (try? Regex(v.value)) != nil else {
                throw SettingError(setting: "iface-regex", source: v.source, value: v.value, rule: "not a valid regular expression", exitCode: Self.code(v.source))
            }
            interface = .regex(v.value)
        } else if r.lookup("iface-can-reach", flag: o.ifaceCanReach) != nil {
            interface = .canReach(try r.parsed("iface-can-reach", flag: o.ifaceCanReach, default: .v4(IPv4Address(0)), rule: "must be an IP address", IPAddress.init))
        } else {
            interface = .defaultRoute
        }
        publicIP = try r.parsedOptional("public-ip", flag: o.publicIP, rule: "must be an IPv4 address such as 10.0.0.11") { IPv4Address($0) }
        publicIPv6 = try r.parsedOptional("public-ipv6", flag: o.publicIPv6, rule: "must be an IPv6 address") { IPv6Address($0) }
        subnetFile = r.string("subnet-file", flag: o.subnetFile, default: "/run/flannel/subnet.env")
        cniConflist = r.string("cni-conflist", flag: o.cniConflist)
        stateDir = o.state.resolved(r)
        (listenHost, listenPort) = try sync.agent.resolvedListen(r)
        observeOnly = try r.bool("observe-only", flag: sync.observeOnly)
        leaseTTL = try r.duration("lease-ttl", flag: o.leaseTTL, default: .seconds(24 * 3600))
        if leaseTTL < .seconds(10), let v = r.lookup("lease-ttl", flag: o.leaseTTL) {
            throw SettingError(setting: "lease-ttl", source: v.source, value: v.value, rule: "must be at least 10s", exitCode: Self.code(v.source))
        }
        resyncPeriod = try r.duration("resync-period", flag: sync.resyncPeriod, default: .seconds(30))
        mtu = try r.parsedOptional("mtu", flag: o.mtu, rule: "must be a whole number from 576 to 65535") { UInt32($0).flatMap { (576...65535).contains($0) ? $0 : nil } }
        (routeProtocol, table) = try sync.routes.resolved(r)
        adoptProtocols = try r.adoptProtocols(flag: o.adoptProtocol.isEmpty ? nil : o.adoptProtocol.joined(separator: ","), own: routeProtocol)
        healthGrace = try r.duration("health-grace", flag: sync.healthGrace, default: .seconds(60))
        deletionGrace = try r.duration("deletion-grace", flag: sync.deletionGrace, default: .seconds(10))
        let probePort = try r.parsed("probe-port", flag: o.probePort, default: ProbeConfig.defaultPort, rule: "must be a UDP port from 1 to 65535, or 0 for no probes") { UInt16($0) }
        let probeInterval = try r.duration("probe-interval", flag: o.probeInterval, default: .seconds(2))
        if probeInterval < .milliseconds(100) || probeInterval > .seconds(600), let v = r.lookup("probe-interval", flag: o.probeInterval) {
            throw SettingError(setting: "probe-interval", source: v.source, value: v.value, rule: "must be from 100ms to 10m", exitCode: Self.code(v.source))
        }
        let probeBudget = try r.parsed("probe-budget", flag: o.probeBudget, default: 200, rule: "must be a whole number of probes per second from 1 to 100000") {
            Int($0).flatMap { (1...100_000).contains($0) ? $0 : nil }
        }
        probe = probePort == 0 ? nil : ProbeConfig(port: probePort, interval: probeInterval, budget: probeBudget)
        logLevel = try r.parsed("log-level", flag: sync.logLevel, default: .info, rule: "must be one of trace, debug, info, notice, warning, error, critical") { Logger.Level(rawValue: $0.lowercased()) }
        logFormat = try r.parsed("log-format", flag: sync.logFormat, default: .text, rule: "must be text or json") { LogFormat(rawValue: $0.lowercased()) }
    }

    static func code(_ source: String) -> Int32 { source.hasPrefix("--") ? ExitStatus.usage : ExitStatus.config }

    static func parseListen(_ text: String, source: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw SettingError(setting: "listen", source: source, value: text, rule: "must be host:port, e.g. 127.0.0.1:9447", exitCode: code(source))
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let addr = IPAddress(host) else {
            throw SettingError(setting: "listen", source: source, value: text, rule: "the host must be an IP address", exitCode: code(source))
        }
        // Health, metrics and status are for the node itself; exposing them needs a deliberate proxy.
        let loopback = (IPPrefix("127.0.0.0/8")?.contains(addr) ?? false) || addr == IPAddress("::1")
        guard loopback else {
            throw SettingError(setting: "listen", source: source, value: text, rule: "must be a loopback address (127.0.0.0/8 or ::1)", exitCode: code(source))
        }
        return (host, port)
    }
}

extension SettingsResolver {
    /// `--listen` (HOSTGW_LISTEN): a loopback host:port, default 127.0.0.1:9447.
    func listen(flag: String?) throws -> (String, Int) {
        let v = lookup("listen", flag: flag)
        return try RunSettings.parseListen(v?.value ?? "127.0.0.1:9447", source: v?.source ?? "--listen")
    }

    /// `--protocol` (HOSTGW_PROTOCOL): hostgw's route marker, default 77.
    func routeProtocol(flag: String?) throws -> RouteProtocol {
        try parsed("protocol", flag: flag, default: .hostgw, rule: "must be a number from 5 to 255 that no other routing daemon uses (0-4 are the kernel's)") {
            UInt8($0).flatMap { $0 >= 5 ? RouteProtocol($0) : nil }
        }
    }

    /// `--adopt-protocol` (repeatable; HOSTGW_ADOPT_PROTOCOL and the config key take a comma
    /// list): foreign route protocols hostgw may take routes over from. Routes the kernel makes
    /// (0-2) and hostgw's own marker are refused: adopting them means nothing.
    func adoptProtocols(flag: String?, own: RouteProtocol) throws -> Set<RouteProtocol> {
        guard let (raw, source) = lookup("adopt-protocol", flag: flag) else { return [] }
        var out: Set<RouteProtocol> = []
        for item in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parsed: RouteProtocol? =
                switch item.lowercased() {
                case "boot": .boot
                case "static": .static
                default: UInt8(item).map(RouteProtocol.init(rawValue:))
                }
            guard let p = parsed, p.rawValue >= RouteProtocol.boot.rawValue, p != own else {
                throw SettingError(
                    setting: "adopt-protocol", source: source, value: item,
                    rule: "must be boot, static or a route protocol number from 3 to 255 other than hostgw's own (\(own.rawValue))",
                    exitCode: RunSettings.code(source))
            }
            out.insert(p)
        }
        return out
    }

    /// `--table` (HOSTGW_TABLE): the routing table of peer routes, default main.
    func table(flag: String?) throws -> UInt32 {
        try parsed("table", flag: flag, default: RouteTableID.main, rule: "must be a routing table id from 1 to 4294967295 (not 255, the local table)") {
            UInt32($0).flatMap { $0 >= 1 && $0 != RouteTableID.local ? $0 : nil }
        }
    }
}
