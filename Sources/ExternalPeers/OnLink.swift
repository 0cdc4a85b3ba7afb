// The on-link check from the external host's side: a plain `via GW` route only works when GW is
// inside a prefix connected to that host (the kernel refuses it with ENETUNREACH otherwise), so
// nodes on another segment are reported instead of printed as routes that would fail to install.
public import NetAddress
public import Netlink

/// Why a route cannot be installed on the external host as printed.
public enum UnreachableReason: Sendable, Hashable, CustomStringConvertible {
    /// The host has prefixes of the gateway's family, but none contains it.
    case notOnLink(connected: [IPPrefix])
    /// The host has no address of the gateway's family at all.
    case noPrefixOfFamily(IPFamily)
    /// The gateway is one of the host's own addresses: the "external" host is that node.
    case gatewayIsLocal

    public var description: String {
        switch self {
        case .notOnLink(let connected):
            "gateway not inside any connected prefix (\(connected.map(\.description).joined(separator: ", ")))"
        case .noPrefixOfFamily(let family):
            "the external host has no \(family) address"
        case .gatewayIsLocal:
            "the gateway is the external host's own address"
        }
    }
}

public struct UnreachableRoute: Sendable, Hashable, CustomStringConvertible {
    public var route: ExternalRoute
    public var reason: UnreachableReason

    public init(route: ExternalRoute, reason: UnreachableReason) {
        self.route = route
        self.reason = reason
    }

    /// The warning the CLI prints: names the node and tells what to do.
    public var description: String {
        "route \(route) is not usable from the external host: \(reason). "
            + "Put the host on the node's segment, route via a router instead (--aggregate with a router lease), "
            + "or pass --include-unreachable to print it anyway"
    }
}

/// Routes split by whether their gateway is on-link from the external host.
public struct OnLinkSplit: Sendable, Hashable {
    public var reachable: [ExternalRoute]
    public var unreachable: [UnreachableRoute]

    public init(reachable: [ExternalRoute], unreachable: [UnreachableRoute]) {
        self.reachable = reachable
        self.unreachable = unreachable
    }

    /// Splits `routes` against the external host's addresses (`--external-ip`, repeatable, or
    /// the addresses of `--external-iface`). Order within each side is that of `routes`.
    public init(routes: [ExternalRoute], hostAddresses: [InterfaceAddress]) {
        let local = Set(hostAddresses.map(\.address))
        let connected = hostAddresses.compactMap(\.network)
        var reachable: [ExternalRoute] = []
        var unreachable: [UnreachableRoute] = []
        for route in routes {
            let sameFamily = connected.filter { $0.family == route.family }
            if local.contains(route.gateway) {
                unreachable.append(UnreachableRoute(route: route, reason: .gatewayIsLocal))
            } else if sameFamily.isEmpty {
                unreachable.append(UnreachableRoute(route: route, reason: .noPrefixOfFamily(route.family)))
            } else if sameFamily.contains(where: { $0.contains(route.gateway) }) {
                reachable.append(route)
            } else {
                unreachable.append(UnreachableRoute(route: route, reason: .notOnLink(connected: Array(Set(sameFamily)).sorted())))
            }
        }
        self.reachable = reachable
        self.unreachable = unreachable
    }

    /// What to print: the reachable routes, plus the unreachable ones when asked
    /// (`--include-unreachable`), in the original order.
    public func routes(includeUnreachable: Bool) -> [ExternalRoute] {
        includeUnreachable ? (reachable + unreachable.map(\.route)).sorted() : reachable
    }
}

extension InterfaceAddress {
    /// Parses `--external-ip ADDR/LEN` (host bits allowed: `10.0.0.50/24` is the host's address
    /// on 10.0.0.0/24). Nil for anything else; a bare address has no prefix to test against.
    public init?(externalIP text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])),
            parts[1].allSatisfy(\.isASCII), let length = Int(parts[1]), String(length) == parts[1],
            IPPrefix(address: address, length: length) != nil
        else { return nil }
        self.init(interfaceIndex: 0, address: address, prefixLength: length)
    }
}
