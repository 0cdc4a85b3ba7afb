// A "node" for kernel tests: its own network namespace with veth0 (10.0.0.1/24, fd00::1/64)
// paired to veth1, both up, so peers at 10.0.0.x / fd00::x are on-link. Routes change only inside
// it; the namespace is removed by close(), which every test calls in a defer.
import Foundation
import Logging
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing

#if canImport(Glibc)
import Glibc
import MetricsTestKit
#endif

let isRoot = getuid() == 0

final class KernelLab: Sendable {
    let namespace: NetworkNamespace
    let client: NetlinkClient

    init() throws {
        let ns = try NetworkNamespace.create(prefix: "hgw-rsync")
        do {
            try ns.run(["ip", "link", "set", "lo", "up"])
            try ns.run(["ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1"])
            try ns.run(["ip", "addr", "add", "10.0.0.1/24", "dev", "veth0"])
            try ns.run(["ip", "-6", "addr", "add", "fd00::1/64", "dev", "veth0", "nodad"])
            try ns.run(["ip", "link", "set", "veth1", "up"])
            try ns.run(["ip", "link", "set", "veth0", "up"])
            client = try NetlinkClient(namespace: ns.name)
        } catch {
            ns.delete()
            throw error
        }
        namespace = ns
    }

    func close() {
        client.close()
        namespace.delete()
    }

    func ip(_ args: String...) throws { try namespace.run(["ip"] + args) }

    /// The kernel's routes of table main as `ip` prints them: `10.244.2.0/24 via 10.0.0.2 dev veth0 proto 77`.
    func routes(_ family: IPFamily = .v4) throws -> Set<String> {
        // -N: numbers, not names; scripts/setup installs `hostgw` as the name of protocol 77.
        let out = try namespace.run(["ip", "-N", "-j", family == .v4 ? "-4" : "-6", "route", "show", "table", "main"])
        let decoded = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
        return Set(
            decoded.map { r in
                var s = "\(r["dst"] ?? "?")"
                if let gw = r["gateway"] { s += " via \(gw)" }
                if let dev = r["dev"] { s += " dev \(dev)" }
                s += " proto \(r["protocol"] ?? "?")"
                return s
            })
    }

    /// Only hostgw's routes (proto 77).
    func hostgwRoutes(_ family: IPFamily = .v4) throws -> Set<String> { try routes(family).filter { $0.hasSuffix("proto 77") } }

    func reconciler(_ config: RouteSyncConfig = labConfig, metrics: TestMetrics = TestMetrics()) -> RouteReconciler {
        RouteReconciler(config: config, kernel: client, logger: silentLogger, metricsFactory: metrics)
    }
}

let labConfig = RouteSyncConfig(
    podNetworks: [.v4: prefix("10.244.0.0/16"), .v6: prefix("fd10:244::/56")],
    localSubnets: [prefix("10.244.1.0/24"), prefix("fd10:244:0:1::/64")])

let labLocal = [prefix("10.244.1.0/24"), prefix("fd10:244:0:1::/64")]

let labLeases = [
    lease("10.244.1.0/24", via: "10.0.0.1", node: "self", v6: "fd10:244:0:1::/64", gateway6: "fd00::1"),
    lease("10.244.2.0/24", via: "10.0.0.2", node: "b", v6: "fd10:244:0:2::/64", gateway6: "fd00::2"),
    lease("10.244.3.0/24", via: "10.0.0.3", node: "c", v6: "fd10:244:0:3::/64", gateway6: "fd00::3"),
]

let expectedV4: Set<String> = ["10.244.2.0/24 via 10.0.0.2 dev veth0 proto 77", "10.244.3.0/24 via 10.0.0.3 dev veth0 proto 77"]
let expectedV6: Set<String> = ["fd10:244:0:2::/64 via fd00::2 dev veth0 proto 77", "fd10:244:0:3::/64 via fd00::3 dev veth0 proto 77"]
