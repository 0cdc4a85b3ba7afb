// Which interface faces the other nodes, and which address they route through. Pure: decided
// from the kernel's links, addresses and routes, so every rule is tested without a kernel.
import NetAddress
import Netlink

struct SelectedInterface: Sendable, Equatable {
    var link: Link
    var publicIP: IPv4Address?
    var publicIPv6: IPv6Address?
}

enum InterfaceSelectionError: Error, CustomStringConvertible, Equatable {
    /// None of these families (the ones the network enables, in the order tried) has a default route.
    case noDefaultRoute(families: [IPFamily])
    case noSuchInterface(String)
    case noMatch(regex: String)
    case cannotReach(IPAddress)
    case noAddress(family: IPFamily, link: String)
    case publicIPNotOnInterface(ip: IPAddress, link: String, addresses: [String])

    var description: String {
        switch self {
        case .noDefaultRoute(let families):
            "no \(families.map { $0.label }.joined(separator: " or ")) default route to pick the interface from: name it with --iface, --iface-regex or --iface-can-reach"
        case .noSuchInterface(let n):
            "no interface named or addressed '\(n)' (--iface): see `ip -br addr`"
        case .noMatch(let r):
            "no interface name or address matches --iface-regex '\(r)'"
        case .cannotReach(let a):
            "no interface has a connected network containing \(a) (--iface-can-reach)"
        case .noAddress(let f, let l):
            "interface \(l) has no global \(f.label) address for other nodes to route through"
        case .publicIPNotOnInterface(let ip, let l, let addrs):
            "public IP \(ip) is not an address of \(l) (\(addrs.isEmpty ? "none" : addrs.joined(separator: ", "))): host-gw needs the nodes on one L2 segment and cannot work through NAT; drop --public-ip or pick the interface that carries it"
        }
    }
}

extension InterfaceSelectionError {
    /// Whether the network coming up may still fix it, so `hostgw run` waits and picks again
    /// (backoff, a log line and sd_notify STATUS each time) rather than exit 78, which the unit
    /// does not restart: at boot the default route, the named interface (a bond or VLAN set up
    /// late) or its address (DHCP, SLAAC) may just not be there yet, whatever
    /// network-online.target promised. Only a public IP that the chosen interface does not carry
    /// while it carries others is the operator's to fix (host-gw cannot route through NAT).
    var mayResolveItself: Bool {
        switch self {
        case .noDefaultRoute, .noSuchInterface, .noMatch, .cannotReach, .noAddress: true
        case .publicIPNotOnInterface(_, _, let addresses): addresses.isEmpty
        }
    }
}

func selectInterface(
    _ choice: InterfaceChoice, publicIP: IPv4Address?, publicIPv6: IPv6Address?,
    needIPv4: Bool, needIPv6: Bool,
    links: [Link], addresses: [InterfaceAddress], routes: [Route]
) throws(InterfaceSelectionError) -> SelectedInterface {
    let global = addresses.filter { $0.scope == .universe }
    func addrs(_ l: Link) -> [InterfaceAddress] { global.filter { $0.interfaceIndex == l.index } }

    let link: Link
    switch choice {
    case .named(let name):
        guard let l = links.first(where: { $0.name == name }) else { throw .noSuchInterface(name) }
        link = l
    case .address(let ip):
        guard let a = global.first(where: { $0.address == ip }), let l = links.first(where: { $0.index == a.interfaceIndex })
        else { throw .noSuchInterface(ip.description) }
        link = l
    case .regex(let pattern):
        guard let regex = try? Regex(pattern),
            let l = links.first(where: { l in
                l.name.contains(regex) || addrs(l).contains { $0.address.description.contains(regex) }
            })
        else { throw .noMatch(regex: pattern) }
        link = l
    case .canReach(let ip):
        guard let a = global.first(where: { $0.network?.contains(ip) ?? false }),
            let l = links.first(where: { $0.index == a.interfaceIndex })
        else { throw .cannotReach(ip) }
        link = l
    case .defaultRoute:
        guard let l = defaultRouteLink(needIPv4: needIPv4, needIPv6: needIPv6, links: links, routes: routes) else {
            throw .noDefaultRoute(families: defaultRouteFamilies(needIPv4: needIPv4, needIPv6: needIPv6))
        }
        link = l
    }

    let mine = addrs(link)
    var v4: IPv4Address?
    var v6: IPv6Address?
    let own4 = mine.compactMap { if case .v4(let a) = $0.address { a } else { nil } }
    let own6 = mine.compactMap { if case .v6(let a) = $0.address, !a.isLinkLocal { a } else { nil } }
    if needIPv4 {
        if let publicIP {
            guard own4.contains(publicIP) else {
                throw .publicIPNotOnInterface(ip: .v4(publicIP), link: link.name, addresses: own4.map(\.description))
            }
            v4 = publicIP
        } else {
            guard let first = own4.first else { throw .noAddress(family: .v4, link: link.name) }
            v4 = first
        }
    }
    if needIPv6 {
        if let publicIPv6 {
            guard own6.contains(publicIPv6) else {
                throw .publicIPNotOnInterface(ip: .v6(publicIPv6), link: link.name, addresses: own6.map(\.description))
            }
            v6 = publicIPv6
        } else {
            guard let first = own6.first else { throw .noAddress(family: .v6, link: link.name) }
            v6 = first
        }
    }
    return SelectedInterface(link: link, publicIP: v4, publicIPv6: v6)
}

/// The families whose default route may name the interface, in the order tried: IPv4 first when
/// the network routes it (as flanneld does), IPv6 for an IPv6-only network or when a dual-stack
/// node has no IPv4 default route.
func defaultRouteFamilies(needIPv4: Bool, needIPv6: Bool) -> [IPFamily] {
    switch (needIPv4, needIPv6) {
    case (true, true): [.v4, .v6]
    case (false, true): [.v6]
    default: [.v4]
    }
}

/// The link of the lowest-metric default route of the first family in `defaultRouteFamilies`
/// that has one. Multipath defaults (no single output interface) name no link.
func defaultRouteLink(needIPv4: Bool, needIPv6: Bool, links: [Link], routes: [Route]) -> Link? {
    for family in defaultRouteFamilies(needIPv4: needIPv4, needIPv6: needIPv6) {
        let defaults = routes.filter { $0.destination.length == 0 && $0.family == family && $0.outputInterface != nil }
        // The kernel reports an unset IPv6 metric as 1024; compare effective metrics.
        let metric: (Route) -> UInt32 = { $0.priority ?? (family == .v6 ? 1024 : 0) }
        if let r = defaults.min(by: { metric($0) < metric($1) }), let l = links.first(where: { $0.index == r.outputInterface }) {
            return l
        }
    }
    return nil
}
