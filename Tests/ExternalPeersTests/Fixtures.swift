// The fixed lease set and document source every ExternalPeers test renders: four nodes, one of
// them dual-stack, one flanneld lease without a node name, one lease whose IPv6 half lacks a
// gateway (skipped with a warning).
import NetAddress
import ExternalPeers
import Foundation
import HostGwTestSupport
import Netlink
import SubnetLease
import Testing

enum Fixtures {
    /// 2025-01-02T03:04:05Z
    static let time = Date(timeIntervalSince1970: 1_735_787_045)
    static let source = ExternalRouteSource(
        store: "etcd http://10.0.0.1:2379 prefix /coreos.com/network", revision: 42, generatedAt: time)

    static func lease(
        _ v4: String?, _ v6: String? = nil, gateway: String?, gateway6: String? = nil, node: String?,
        expiration: Date? = time.addingTimeInterval(3600)
    ) throws -> Lease {
        Lease(
            subnet: try v4.map { try prefix($0) }, ipv6Subnet: try v6.map { try prefix($0) },
            attributes: LeaseAttributes(
                publicIP: gateway.flatMap(IPv4Address.init), publicIPv6: gateway6.flatMap(IPv6Address.init),
                nodeName: node),
            expiration: expiration)
    }

    /// Deliberately not in route order.
    static var leases: [Lease] {
        get throws {
            try [
                lease("10.244.3.0/24", "fd00:10:244:3::/64", gateway: "10.0.0.13", node: "node-c"),
                lease("10.244.1.0/24", "fd00:10:244:1::/64", gateway: "10.0.0.11", gateway6: "fd00::11", node: "node-a"),
                lease("10.244.0.0/24", gateway: "10.0.0.10", node: nil, expiration: nil),
                lease("10.244.2.0/24", gateway: "10.0.0.12", node: "node-b"),
            ]
        }
    }

    static var routes: [ExternalRoute] {
        get throws {
            try [
                ExternalRoute(destination: prefix("10.244.0.0/24"), gateway: ip("10.0.0.10"), node: nil),
                ExternalRoute(destination: prefix("10.244.1.0/24"), gateway: ip("10.0.0.11"), node: "node-a"),
                ExternalRoute(destination: prefix("10.244.2.0/24"), gateway: ip("10.0.0.12"), node: "node-b"),
                ExternalRoute(destination: prefix("10.244.3.0/24"), gateway: ip("10.0.0.13"), node: "node-c"),
                ExternalRoute(destination: prefix("fd00:10:244:1::/64"), gateway: ip("fd00::11"), node: "node-a"),
            ]
        }
    }

    /// An `--external-ip` value (`10.0.0.50/24`): the host's address and its connected prefix.
    static func host(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> InterfaceAddress {
        try #require(InterfaceAddress(externalIP: text), "not an --external-ip value: \(text)", sourceLocation: sourceLocation)
    }

    /// A namespace of our own with `v0` (veth to `v1`) at 10.0.0.2/24 and fd00::2/64, so the
    /// fixture gateways 10.0.0.1x and fd00::1x are on-link.
    static func namespace() throws -> NamespaceLab {
        try NamespaceLab("ext", link: "v0", peer: "v1", addresses: ["10.0.0.2/24", "fd00::2/64"])
    }

    static func render(_ format: ExternalRouteFormat, options: ExternalRouteRenderOptions = ExternalRouteRenderOptions()) throws -> String {
        try ExternalRouteRenderer(options: options).render(ExternalRouteSet(leases: leases).routes, as: format, source: source)
    }
}
