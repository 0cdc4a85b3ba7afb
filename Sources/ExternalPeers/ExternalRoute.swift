// The unit every output format renders: "to reach DEST, send to GW (node N's address)".
// Built from the store's leases in one pure step so that every format, the on-link check and the
// aggregation agree on the same list, in the same order.
public import Foundation
public import NetAddress
import Netlink
public import SubnetLease

/// One route an external host needs: a node's pod subnet via that node's address.
public struct ExternalRoute: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var destination: IPPrefix
    public var gateway: IPAddress
    /// The node that holds the lease; nil for flanneld leases (no NodeName) and for aggregates.
    public var node: String?

    public init(destination: IPPrefix, gateway: IPAddress, node: String? = nil) {
        self.destination = destination
        self.gateway = gateway
        self.node = node
    }

    public var family: IPFamily { destination.family }

    /// Family first (IPv4 before IPv6), then prefix, then gateway and node so that two runs over
    /// the same leases always print byte-identical documents.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .v4 }
        if lhs.destination != rhs.destination { return lhs.destination < rhs.destination }
        if lhs.gateway != rhs.gateway { return lhs.gateway < rhs.gateway }
        return (lhs.node ?? "") < (rhs.node ?? "")
    }

    public var description: String {
        "\(destination) via \(gateway)" + (node.map { " (node \($0))" } ?? "")
    }
}

/// Why a lease (or one family of it) produced no route. Each case names the lease so an operator
/// can find it in the store (`<prefix>/subnets/<lease>`).
public enum ExternalRouteWarning: Sendable, Hashable, CustomStringConvertible {
    /// The lease has a subnet of `family` but no address of that family to route it through.
    case missingGateway(lease: String, node: String?, family: IPFamily, subnet: IPPrefix)
    /// The lease carries no subnet at all.
    case noSubnet(lease: String, node: String?)
    /// The gateway lies inside the subnet it is supposed to lead to: no host can route that way.
    case gatewayInsideSubnet(lease: String, node: String?, subnet: IPPrefix, gateway: IPAddress)
    /// The lease expired before `now`; the store has not removed it yet.
    case expired(lease: String, node: String?, expiration: Date)
    /// Two leases claim the same subnet; the route through `kept`, the older claim's
    /// (`SubnetClaims`), is printed.
    case duplicateSubnet(subnet: IPPrefix, kept: IPAddress, dropped: IPAddress, droppedNode: String?)

    public var description: String {
        switch self {
        case .missingGateway(let lease, let node, let family, let subnet):
            "lease \(lease)\(Self.nodeText(node)) has \(family) subnet \(subnet) but no \(family == .v4 ? "PublicIP" : "PublicIPv6"); "
                + "skipped. Restart hostgw on that node with its \(family) address configured so it rewrites the lease"
        case .noSubnet(let lease, let node):
            "lease \(lease)\(Self.nodeText(node)) carries no subnet; skipped. Check the key under <prefix>/subnets/"
        case .gatewayInsideSubnet(let lease, let node, let subnet, let gateway):
            "lease \(lease)\(Self.nodeText(node)) routes \(subnet) via \(gateway), an address inside that subnet; skipped. "
                + "The node advertises a pod address as its public address: fix its --public-ip"
        case .expired(let lease, let node, let expiration):
            "lease \(lease)\(Self.nodeText(node)) expired at \(expiration.formatted(.iso8601)); skipped. "
                + "The node stopped renewing: check hostgw on it"
        case .duplicateSubnet(let subnet, let kept, let dropped, let droppedNode):
            "two leases claim \(subnet): kept the route via \(kept), dropped the one via \(dropped)\(Self.nodeText(droppedNode)). "
                + "Remove the stale lease from the store"
        }
    }

    private static func nodeText(_ node: String?) -> String { node.map { " (node \($0))" } ?? "" }
}

/// Routes derived from leases, plus everything that was left out and why.
public struct ExternalRouteSet: Sendable, Hashable {
    /// Sorted (see `ExternalRoute.<`); at most one route per destination.
    public var routes: [ExternalRoute]
    public var warnings: [ExternalRouteWarning]

    public init(routes: [ExternalRoute], warnings: [ExternalRouteWarning] = []) {
        self.routes = routes
        self.warnings = warnings
    }

    /// One route per subnet of every valid lease, for both families.
    ///
    /// - Parameter now: when given, leases that expired before it are skipped with a warning
    ///   (the SQLite store may still list them until its sweeper runs); nil keeps every lease.
    public init(leases: [Lease], now: Date? = nil) {
        var candidates: [ExternalRoute] = []
        var warnings: [ExternalRouteWarning] = []
        // Iterate in key order so warnings come out in the same order on every run.
        let leases = leases.sorted(by: { $0.key < $1.key })
        // Two leases claiming one subnet: the younger gives way in every family (SubnetClaims,
        // the rule of the agents' lease snapshot), so an external host routes what nodes do.
        let losses = SubnetClaims.losses(leases.map(\.claim))
        for (index, lease) in leases.enumerated() {
            let node = lease.attributes.nodeName
            if let now, let expiration = lease.expiration, expiration < now {
                warnings.append(.expired(lease: lease.key, node: node, expiration: expiration))
                continue
            }
            if lease.subnet == nil && lease.ipv6Subnet == nil {
                warnings.append(.noSubnet(lease: lease.key, node: node))
                continue
            }
            for family in IPFamily.allCases {
                guard let subnet = lease.subnet(for: family) else { continue }
                guard let gateway = lease.gateway(for: family) else {
                    warnings.append(.missingGateway(lease: lease.key, node: node, family: family, subnet: subnet))
                    continue
                }
                if subnet.contains(gateway) {
                    warnings.append(.gatewayInsideSubnet(lease: lease.key, node: node, subnet: subnet, gateway: gateway))
                    continue
                }
                if let loss = losses[index] {
                    let holder = leases[loss.holder]
                    warnings.append(
                        .duplicateSubnet(subnet: subnet, kept: holder.gateway(for: family) ?? gateway, dropped: gateway, droppedNode: node))
                    continue
                }
                candidates.append(ExternalRoute(destination: subnet, gateway: gateway, node: node))
            }
        }
        candidates.sort()
        var routes: [ExternalRoute] = []
        for route in candidates where routes.last?.destination != route.destination {
            routes.append(route)
        }
        self.routes = routes
        self.warnings = warnings
    }
}
