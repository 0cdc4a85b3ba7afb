// The datapath watcher's view of this host: NETCONF and nftables through the agent's netlink
// client, iptables-legacy's table list from /proc/net and br_netfilter's switches from
// /proc/sys/net/bridge (both per network namespace, like the agent), and the interfaces of
// hostgw's own routes from the reconciler.
import Foundation
import NetAddress
import Netlink
import RouteSync

struct KernelDatapath: DatapathAccess {
    /// Where hostgw's own routes, links and addresses come from: the running reconciler's view,
    /// or (offline `status`/`check`) one dump of the kernel.
    enum RouteView: Sendable {
        case reconciler(RouteReconciler)
        case dump(links: [Link], addresses: [InterfaceAddress], routes: [Route], localSubnets: [IPPrefix])
    }

    let netlink: NetlinkClient
    let view: RouteView
    var bridgeDirectory = "/proc/sys/net/bridge"

    init(netlink: NetlinkClient, reconciler: RouteReconciler) {
        self.netlink = netlink
        view = .reconciler(reconciler)
    }

    init(netlink: NetlinkClient, view: RouteView) {
        self.netlink = netlink
        self.view = view
    }

    func netconf(family: IPFamily) async throws -> [NetconfEntry] { try await netlink.netconf(family: family) }

    func filterChains() async throws -> [FilterChain] { try await netlink.filterChains() }

    /// A missing file means the legacy module is not loaded: nothing to see, not unknown.
    func legacyTables() async -> [String]? {
        var names: [String] = []
        for (file, prefix) in [("/proc/net/ip_tables_names", ""), ("/proc/net/ip6_tables_names", "ip6 ")] {
            guard FileManager.default.fileExists(atPath: file) else { continue }
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
            names += text.split(separator: "\n").map { prefix + $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return names
    }

    func bridgeNetfilter() async -> BridgeNetfilter { Self.bridgeNetfilter(directory: bridgeDirectory) }

    func routeInterfaces() async -> [UInt32: String] {
        switch view {
        case .reconciler(let r): return await r.routeInterfaces(family: .v4)
        case .dump(let links, _, let routes, _): return PeerDirectory.interfaces(of: routes, family: .v4, links: links)
        }
    }

    func linkMTU(index: UInt32) async -> UInt32? {
        switch view {
        case .reconciler(let r): await r.link(index: index).map(\.mtu)
        case .dump(let links, _, _, _): links.first { $0.index == index }?.mtu
        }
    }

    func podGateways() async -> [IPFamily: IPAddress] {
        switch view {
        case .reconciler(let r): await r.podGateways()
        case .dump(_, let addresses, _, let localSubnets): PeerDirectory.localPodGateways(localSubnets: localSubnets, addresses: addresses)
        }
    }

    func neighbourTable(family: IPFamily) async throws -> NeighbourTable? { try await netlink.neighbourTable(family: family) }

    /// No directory: br_netfilter is not loaded in this namespace. An unreadable switch is nil.
    static func bridgeNetfilter(directory: String) -> BridgeNetfilter {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else { return .notLoaded }
        func flag(_ name: String) -> Bool? {
            guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else { return nil }
            switch text.trimmingCharacters(in: .whitespacesAndNewlines) {
            case "0": return false
            case "1": return true
            default: return nil
            }
        }
        return BridgeNetfilter(loaded: true, callIptables: flag("bridge-nf-call-iptables"), callIp6tables: flag("bridge-nf-call-ip6tables"))
    }
}
