// The files other software reads to learn this node's pod subnet: flannel's subnet.env (so
// existing flannel CNI configs keep working) and, optionally, a CNI conflist for the standard
// bridge + host-local plugins.
import Foundation
import NetAddress
import SubnetLease

struct PodNetworkInfo: Sendable, Equatable {
    var network: IPPrefix?
    var subnet: IPPrefix?
    var ipv6Network: IPPrefix?
    var ipv6Subnet: IPPrefix?
    var mtu: UInt32
}

/// The gateway address pods use on the node's bridge: the first host of the subnet (flannel's
/// FLANNEL_SUBNET convention: `10.244.3.1/24`).
func firstHost(_ p: IPPrefix) -> String {
    switch p.address {
    case .v4(let a): "\(IPv4Address(a.value + 1))/\(p.length)"
    case .v6(let a): "\(IPv6Address(high: a.high, low: a.low + 1))/\(p.length)"
    }
}

/// flannel's `/run/flannel/subnet.env`, byte-compatible in the variables flannel's CNI plugin reads.
func renderSubnetEnv(_ info: PodNetworkInfo) -> String {
    var lines: [String] = []
    if let network = info.network { lines.append("FLANNEL_NETWORK=\(network)") }
    if let subnet = info.subnet { lines.append("FLANNEL_SUBNET=\(firstHost(subnet))") }
    if let v6 = info.ipv6Network { lines.append("FLANNEL_IPV6_NETWORK=\(v6)") }
    if let v6 = info.ipv6Subnet { lines.append("FLANNEL_IPV6_SUBNET=\(firstHost(v6))") }
    lines.append("FLANNEL_MTU=\(info.mtu)")
    // host-gw routes pods without NAT: masquerading would hide pod addresses from peers.
    lines.append("FLANNEL_IPMASQ=false")
    return lines.joined(separator: "\n") + "\n"
}

/// A CNI network config list for the `bridge` + `host-local` plugins on the leased subnet(s).
func renderCNIConflist(_ info: PodNetworkInfo, bridge: String = "cni0") throws -> String {
    struct Range: Encodable { var subnet: String }
    struct RouteEntry: Encodable { var dst: String }
    struct IPAM: Encodable {
        var type = "host-local"
        var ranges: [[Range]]
        var routes: [RouteEntry]
    }
    struct Plugin: Encodable {
        var type = "bridge"
        var bridge: String
        var isGateway = true
        var isDefaultGateway = true
        var ipMasq = false
        var hairpinMode = true
        var mtu: UInt32
        var ipam: IPAM
    }
    struct Conflist: Encodable {
        var cniVersion = "0.4.0"
        var name = "hostgw"
        var plugins: [Plugin]
    }
    var ranges: [[Range]] = []
    // isDefaultGateway gives pods a default route per family via the bridge; no extra routes.
    let routes: [RouteEntry] = []
    if let s = info.subnet { ranges.append([Range(subnet: s.description)]) }
    if let s = info.ipv6Subnet { ranges.append([Range(subnet: s.description)]) }
    let list = Conflist(plugins: [
        Plugin(bridge: bridge, mtu: info.mtu, ipam: IPAM(ranges: ranges, routes: routes))
    ])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(list), as: UTF8.self) + "\n"
}

/// Writes one of the node's files (`setting` is its flag name) durably, or says exactly what to
/// change: a path the process may not write (the shipped unit's ProtectSystem=strict makes
/// everything outside ReadWritePaths read-only) is a configuration error, exit 78, named once,
/// not a crash to restart from.
func writeNodeFile(
    _ path: String, setting: String, _ contents: String, using fs: some DurableFileSystem = POSIXFileSystem()
) throws(DaemonExit) {
    do {
        try DurableFile.replace(path, with: Data(contents.utf8), using: fs)
    } catch {
        switch error.errno {
        case .EROFS:
            throw DaemonExit(
                code: ExitStatus.config,
                message: "cannot write --\(setting) \(path): \(error.errno) (read-only file system). Under the shipped systemd unit "
                    + "(ProtectSystem=strict) only ReadWritePaths= are writable: add \((path as NSString).deletingLastPathComponent) to "
                    + "ReadWritePaths= (systemctl edit hostgw) or choose a path under /run/flannel or /var/lib/hostgw")
        case .EACCES, .EPERM:
            throw DaemonExit(
                code: ExitStatus.config,
                message: "cannot write --\(setting) \(path): \(error.errno) (permission denied for uid \(geteuid())): "
                    + "give the agent's user write access to \((path as NSString).deletingLastPathComponent) or choose another path")
        default:
            throw DaemonExit(code: ExitStatus.software, message: "cannot write --\(setting) \(path): \(error)")
        }
    }
}
