// Leases + this node's links and addresses -> the routes the kernel should hold, and for every
// peer that cannot have one, a named state and a reason. Pure: no kernel, no clock.
public import NetAddress
public import Netlink
public import SubnetLease

/// The routes a set of leases asks for, and the state of every peer considered.
public struct DesiredRoutes: Sendable, Hashable {
    /// One route per routable peer subnet, sorted by destination.
    public var routes: [Route]
    /// Every (lease, family) considered, sorted by subnet. Routable peers are `.pending`;
    /// the others carry `.invalidLease` or `.notAdjacent` and a reason.
    public var peers: [PeerStatus]

    public init(routes: [Route], peers: [PeerStatus]) {
        self.routes = routes
        self.peers = peers
    }

    /// Validates every other node's lease against the pod network and this node's links.
    /// A lease whose subnets are all in `config.localSubnets` is this node's own and is skipped;
    /// one that shares only some of them is another node claiming ours, and invalid.
    public init(leases: [Lease], config: RouteSyncConfig, links: [Link], addresses: [InterfaceAddress]) {
        // Memory: with thousands of peers this runs on every pass, so it works on indices into
        // `leases` (a Lease is ~150 bytes), sizes its two results up front and sorts them in place.
        let linkByIndex = Dictionary(links.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        let ownAddresses = Set(addresses.map(\.address))
        let localSubnets = Set(config.localSubnets)
        let keys = leases.map(\.key)
        let peerLeases = leases.indices
            .filter { i in
                let subnets = IPFamily.allCases.compactMap(leases[i].subnet(for:))
                return subnets.isEmpty || !subnets.allSatisfy(localSubnets.contains)
            }
            .sorted { keys[$0] < keys[$1] }

        // Two leases claiming one subnet: the younger gives way (SubnetClaims, the rule of the
        // lease snapshot and the claim check too). A malformed lease (say a /16) claims nothing:
        // it is already invalid and must not take every other peer down with it.
        // Only the families this network routes count.
        let wellFormed = leases.indices.filter { i in
            config.families.allSatisfy { family in
                guard let subnet = leases[i].subnet(for: family) else { return true }
                guard let net = config.podNetworks[family], net.contains(subnet) else { return false }
                return config.subnetLengths[family].map { $0 == subnet.length } ?? true
            }
        }
        let claims = wellFormed.map { i in
            var claim = leases[i].claim
            claim.subnets = config.families.compactMap(leases[i].subnet(for:))
            return claim
        }
        var losses: [Int: (loss: SubnetClaims.Loss, reason: String)] = [:]
        for (c, loss) in SubnetClaims.losses(claims) {
            losses[wellFormed[c]] = (loss, SubnetClaims.reason(loss, in: claims, holderNode: leases[wellFormed[loss.holder]].attributes.nodeName))
        }
        var routes: [Route] = []
        var peers: [PeerStatus] = []
        routes.reserveCapacity(peerLeases.count * config.families.count)
        peers.reserveCapacity(peerLeases.count * config.families.count)
        for family in config.families {
            guard let podNetwork = config.podNetworks[family] else { continue }
            let candidates = peerLeases.compactMap { i in leases[i].subnet(for: family).map { (lease: i, subnet: $0) } }
            for (index, subnet) in candidates {
                let lease = leases[index]
                let gateway = lease.gateway(for: family)
                var status = PeerStatus(
                    leaseKey: keys[index], node: lease.attributes.nodeName, family: family, subnet: subnet,
                    gateway: gateway, state: .pending)
                if !lease.attributes.published.conditions.isEmpty { status.published = lease.attributes.published.conditions }
                let verdict = Self.validate(
                    lease: index, subnet: subnet, gateway: gateway, podNetwork: podNetwork,
                    subnetLength: config.subnetLengths[family], config: config, claimLoss: losses[index]?.reason,
                    ownAddresses: ownAddresses, addresses: addresses, links: linkByIndex, leases: leases)
                switch verdict {
                case .failed(let state, let reason):
                    status.state = state
                    status.reason = reason
                case .routable(let gateway, let link):
                    status.interface = link.name
                    status.mtu = Self.routeMTU(published: lease.attributes.published.mtu, link: link)
                    routes.append(
                        Route(
                            destination: subnet, gateway: gateway, outputInterface: link.index,
                            table: config.table, protocol: config.routeProtocol, mtu: status.mtu))
                }
                peers.append(status)
            }
        }
        routes.sort { $0.destination < $1.destination }
        peers.sort { $0.subnet < $1.subnet }
        self.routes = routes
        self.peers = peers
    }

    /// A peer on a smaller MTU than the link its route leaves by (a 1500 segment next to jumbo
    /// frames) gets `mtu <its MTU>` on its route: the local stack then answers an oversized
    /// packet with ICMP "fragmentation needed" instead of the frame being dropped silently at
    /// the smaller hop. Equal or larger (or unknown): no attribute.
    public static func routeMTU(published: UInt32?, link: Link) -> UInt32? {
        guard let published, link.mtu > 0, published < link.mtu else { return nil }
        return published
    }

    /// The peer whose subnet is `subnet`.
    public func peer(for subnet: IPPrefix) -> PeerStatus? { peers.first { $0.subnet == subnet } }

    private enum Verdict {
        case routable(gateway: IPAddress, link: Link)
        case failed(PeerState, String)
    }

    private static func validate(
        lease: Int, subnet: IPPrefix, gateway: IPAddress?, podNetwork: IPPrefix, subnetLength: Int?,
        config: RouteSyncConfig, claimLoss: String?, ownAddresses: Set<IPAddress>,
        addresses: [InterfaceAddress], links: [UInt32: Link], leases: [Lease]
    ) -> Verdict {
        let field = subnet.family == .v4 ? "PublicIP" : "PublicIPv6"
        guard let gateway else {
            return .failed(.invalidLease, "lease has no \(field): nothing to route \(subnet) through; fix the peer's lease")
        }
        guard podNetwork.contains(subnet) else {
            return .failed(.invalidLease, "subnet \(subnet) is outside the pod network \(podNetwork)")
        }
        if let subnetLength, subnet.length != subnetLength {
            return .failed(.invalidLease, "subnet \(subnet) is not a /\(subnetLength) as the network config requires")
        }
        if let own = config.localSubnets.first(where: { $0.overlaps(subnet) }) {
            return .failed(.invalidLease, "subnet \(subnet) overlaps this node's own subnet \(own)")
        }
        if let local = addresses.first(where: { $0.network.map { $0.overlaps(subnet) } ?? false }),
            let network = local.network
        {
            let dev = links[local.interfaceIndex]?.name ?? "dev#\(local.interfaceIndex)"
            return .failed(.invalidLease, "subnet \(subnet) overlaps the connected network \(network) on \(dev)")
        }
        if let claimLoss {
            return .failed(.invalidLease, claimLoss)
        }
        if ownAddresses.contains(gateway) {
            return .failed(
                .invalidLease,
                "gateway \(gateway) is this node's own address (a stale lease of this node?); release or delete the lease")
        }
        return adjacency(of: gateway, addresses: addresses, links: links)
    }

    /// The link whose connected prefix holds the gateway, most specific prefix first: the kernel
    /// refuses a gateway outside every connected prefix (ENETUNREACH) unless onlink is set, and
    /// hostgw never sets onlink.
    private static func adjacency(of gateway: IPAddress, addresses: [InterfaceAddress], links: [UInt32: Link]) -> Verdict {
        let holding = addresses
            .filter { $0.scope != .host && ($0.network?.contains(gateway) ?? false) }
            .sorted { ($0.prefixLength, $1.interfaceIndex) > ($1.prefixLength, $0.interfaceIndex) }
        if let usable = holding.lazy.compactMap({ links[$0.interfaceIndex] }).first(where: \.isUsable) {
            return .routable(gateway: gateway, link: usable)
        }
        if let down = holding.lazy.compactMap({ links[$0.interfaceIndex] }).first {
            return .failed(
                .notAdjacent,
                "gateway \(gateway) is on link \(down.name), which is not usable (\(down.isUp ? "no carrier" : "down"), operstate \(down.operState))")
        }
        let connected = addresses.filter { $0.address.family == gateway.family && $0.scope != .host }
            .compactMap { a in a.network.map { "\($0) on \(links[a.interfaceIndex]?.name ?? "dev#\(a.interfaceIndex)")" } }
        let list = connected.isEmpty ? "none" : connected.joined(separator: ", ")
        return .failed(
            .notAdjacent,
            "gateway \(gateway) is not inside any connected network of this node (connected: \(list)); host-gw needs the peers on one L2 segment")
    }
}
