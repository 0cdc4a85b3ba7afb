// A "node" for kernel tests: the shared NamespaceLab with veth0 (10.0.0.1/24, fd00::1/64) paired
// to veth1, so peers at 10.0.0.x / fd00::x are on-link, and a NetlinkClient inside it. Routes
// change only inside it; the namespace is removed by close(), which every test calls in a defer.
import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing
import MetricsTestKit

final class KernelLab: Sendable {
    let namespace: NamespaceLab
    let client: NetlinkClient

    init() throws {
        namespace = try NamespaceLab("rsync", addresses: ["10.0.0.1/24", "fd00::1/64"])
        client = try NetlinkClient(namespace: namespace.name)
    }

    func close() {
        client.close()
        namespace.delete()
    }

    func ip(_ args: String...) throws { try namespace.ip(args) }

    /// The kernel's routes of table main as `ip` prints them: `10.244.2.0/24 via 10.0.0.2 dev veth0 proto 77`.
    func routes(_ family: IPFamily = .v4) throws -> Set<String> {
        // -N: numbers, not names; scripts/setup installs `hostgw` as the name of protocol 77.
        let out = try namespace.ip(["-N", "-j", family == .v4 ? "-4" : "-6", "route", "show", "table", "main"])
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

    /// A reconciler over this node's kernel; `labConfig` unless told otherwise.
    func reconciler(_ config: RouteSyncConfig? = nil, metrics: TestMetrics = TestMetrics()) throws -> RouteReconciler {
        RouteReconciler(config: try config ?? labConfig, kernel: client, logger: quietLogger, metricsFactory: metrics)
    }
}

var labConfig: RouteSyncConfig {
    get throws {
        RouteSyncConfig(podNetworks: [.v4: try prefix("10.244.0.0/16"), .v6: try prefix("fd10:244::/56")], localSubnets: try labLocal)
    }
}

var labLocal: [IPPrefix] { get throws { [try prefix("10.244.1.0/24"), try prefix("fd10:244:0:1::/64")] } }

var labLeases: [Lease] {
    get throws {
        [
            try lease("10.244.1.0/24", via: "10.0.0.1", node: "self", v6: "fd10:244:0:1::/64", gateway6: "fd00::1"),
            try lease("10.244.2.0/24", via: "10.0.0.2", node: "b", v6: "fd10:244:0:2::/64", gateway6: "fd00::2"),
            try lease("10.244.3.0/24", via: "10.0.0.3", node: "c", v6: "fd10:244:0:3::/64", gateway6: "fd00::3"),
        ]
    }
}

let expectedV4: Set<String> = ["10.244.2.0/24 via 10.0.0.2 dev veth0 proto 77", "10.244.3.0/24 via 10.0.0.3 dev veth0 proto 77"]
let expectedV6: Set<String> = ["fd10:244:0:2::/64 via fd00::2 dev veth0 proto 77", "fd10:244:0:3::/64 via fd00::3 dev veth0 proto 77"]
