// The datapath watcher's view of this host: NETCONF and nftables through the agent's netlink
// client, iptables-legacy's table list from /proc/net (per network namespace, like the agent).
import Foundation
import NetAddress
import Netlink
import RouteSync

struct KernelDatapath: DatapathAccess {
    let netlink: NetlinkClient

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
}
