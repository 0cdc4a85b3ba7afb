// The fixed lease set and document source every ExternalPeers test renders: four nodes, one of
// them dual-stack, one flanneld lease without a node name, one lease whose IPv6 half lacks a
// gateway (skipped with a warning).
import NetAddress
import ExternalPeers
import Foundation
import Netlink
import SubnetLease

enum Fixtures {
    /// 2025-01-02T03:04:05Z
    static let time = Date(timeIntervalSince1970: 1_735_787_045)
    static let source = ExternalRouteSource(
        store: "etcd http://10.0.0.1:2379 prefix /coreos.com/network", revision: 42, generatedAt: time)

    static func prefix(_ text: String) -> IPPrefix {
        guard let p = IPPrefix(text) else { fatalError("bad prefix in fixture: \(text)") }
        return p
    }

    static func address(_ text: String) -> IPAddress {
        guard let a = IPAddress(text) else { fatalError("bad address in fixture: \(text)") }
        return a
    }

    static func lease(
        _ v4: String?, _ v6: String? = nil, gateway: String?, gateway6: String? = nil, node: String?,
        expiration: Date? = time.addingTimeInterval(3600)
    ) -> Lease {
        Lease(
            subnet: v4.map(prefix), ipv6Subnet: v6.map(prefix),
            attributes: LeaseAttributes(
                publicIP: gateway.flatMap(IPv4Address.init), publicIPv6: gateway6.flatMap(IPv6Address.init),
                nodeName: node),
            expiration: expiration)
    }

    /// Deliberately not in route order.
    static let leases: [Lease] = [
        lease("10.244.3.0/24", "fd00:10:244:3::/64", gateway: "10.0.0.13", node: "node-c"),
        lease("10.244.1.0/24", "fd00:10:244:1::/64", gateway: "10.0.0.11", gateway6: "fd00::11", node: "node-a"),
        lease("10.244.0.0/24", gateway: "10.0.0.10", node: nil, expiration: nil),
        lease("10.244.2.0/24", gateway: "10.0.0.12", node: "node-b"),
    ]

    static let routes: [ExternalRoute] = [
        ExternalRoute(destination: prefix("10.244.0.0/24"), gateway: address("10.0.0.10"), node: nil),
        ExternalRoute(destination: prefix("10.244.1.0/24"), gateway: address("10.0.0.11"), node: "node-a"),
        ExternalRoute(destination: prefix("10.244.2.0/24"), gateway: address("10.0.0.12"), node: "node-b"),
        ExternalRoute(destination: prefix("10.244.3.0/24"), gateway: address("10.0.0.13"), node: "node-c"),
        ExternalRoute(destination: prefix("fd00:10:244:1::/64"), gateway: address("fd00::11"), node: "node-a"),
    ]

    static func render(_ format: ExternalRouteFormat, options: ExternalRouteRenderOptions = ExternalRouteRenderOptions()) throws -> String {
        try ExternalRouteRenderer(options: options).render(ExternalRouteSet(leases: leases).routes, as: format, source: source)
    }
}
