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
        let node = Node(config: config, links: links, addresses: addresses)
        let keys = leases.map(\.key)
        let peerLeases = leases.indices.filter { node.isPeer(leases[$0]) }.sorted { keys[$0] < keys[$1] }

        // Two leases claiming one subnet: the younger gives way (SubnetClaims, the rule of the
        // lease snapshot and the claim check too). A malformed lease (say a /16) claims nothing:
        // it is already invalid and must not take every other peer down with it.
        // Only the families this network routes count.
        let wellFormed = leases.indices.filter { node.claim(leases[$0]) != nil }
        let claims = wellFormed.map { node.claim(leases[$0])! }
        var losses: [Int: String] = [:]
        for (c, loss) in SubnetClaims.losses(claims) {
            losses[wellFormed[c]] = SubnetClaims.reason(loss, in: claims, holderNode: leases[wellFormed[loss.holder]].attributes.nodeName)
        }
        var routes: [Route] = []
        var peers: [PeerStatus] = []
        routes.reserveCapacity(peerLeases.count * config.families.count)
        peers.reserveCapacity(peerLeases.count * config.families.count)
        for family in config.families {
            for index in peerLeases {
                guard case let (status, route)? = node.judge(leases[index], key: keys[index], family: family, claimLoss: losses[index]) else { continue }
                if let route { routes.append(route) }
                peers.append(status)
            }
        }
        routes.sort { $0.destination < $1.destination }
        peers.sort(by: Self.peerOrder)
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

    /// The order of `peers`: by subnet, then by lease key (two leases claiming one subnet).
    static func peerOrder(_ a: PeerStatus, _ b: PeerStatus) -> Bool {
        a.subnet != b.subnet ? a.subnet < b.subnet : a.leaseKey < b.leaseKey
    }

    /// What judging a lease needs of this node and the network, looked up once per pass.
    struct Node {
        let config: RouteSyncConfig
        let addresses: [InterfaceAddress]
        let linkByIndex: [UInt32: Link]
        let ownAddresses: Set<IPAddress>
        let localSubnets: Set<IPPrefix>

        init(config: RouteSyncConfig, links: [Link], addresses: [InterfaceAddress]) {
            self.config = config
            self.addresses = addresses
            linkByIndex = Dictionary(links.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
            ownAddresses = Set(addresses.map(\.address))
            localSubnets = Set(config.localSubnets)
        }

        /// False for this node's own lease: one whose subnets are all `config.localSubnets`.
        func isPeer(_ lease: Lease) -> Bool {
            let subnets = IPFamily.allCases.compactMap(lease.subnet(for:))
            return subnets.isEmpty || !subnets.allSatisfy(localSubnets.contains)
        }

        /// The lease's claim on the subnets of the routed families; nil when one of them is not a
        /// subnet of the pod network at the configured length (such a lease claims nothing).
        func claim(_ lease: Lease) -> SubnetClaims.Claim? {
            let wellFormed = config.families.allSatisfy { family in
                guard let subnet = lease.subnet(for: family) else { return true }
                guard let net = config.podNetworks[family], net.contains(subnet) else { return false }
                return config.subnetLengths[family].map { $0 == subnet.length } ?? true
            }
            guard wellFormed else { return nil }
            var claim = lease.claim
            claim.subnets = config.families.compactMap(lease.subnet(for:))
            return claim
        }

        /// The peer (and its route, when routable) of `lease`'s subnet of `family`; nil when the
        /// lease has none or the network does not route the family.
        func judge(_ lease: Lease, key: String, family: IPFamily, claimLoss: String?) -> (PeerStatus, Route?)? {
            guard let podNetwork = config.podNetworks[family], let subnet = lease.subnet(for: family) else { return nil }
            let gateway = lease.gateway(for: family)
            var status = PeerStatus(
                leaseKey: key, node: lease.attributes.nodeName, family: family, subnet: subnet, gateway: gateway, state: .pending)
            if !lease.attributes.published.conditions.isEmpty { status.published = lease.attributes.published.conditions }
            let verdict = DesiredRoutes.validate(
                subnet: subnet, gateway: gateway, podNetwork: podNetwork, subnetLength: config.subnetLengths[family], config: config,
                claimLoss: claimLoss, ownAddresses: ownAddresses, addresses: addresses, links: linkByIndex)
            switch verdict {
            case .failed(let state, let reason):
                status.state = state
                status.reason = reason
                return (status, nil)
            case .routable(let gateway, let link):
                status.interface = link.name
                status.mtu = DesiredRoutes.routeMTU(published: lease.attributes.published.mtu, link: link)
                return (
                    status,
                    Route(
                        destination: subnet, gateway: gateway, outputInterface: link.index, table: config.table, protocol: config.routeProtocol,
                        mtu: status.mtu)
                )
            }
        }
    }

    /// The peer whose subnet is `subnet`.
    public func peer(for subnet: IPPrefix) -> PeerStatus? { peers.first { $0.subnet == subnet } }

    private enum Verdict {
        case routable(gateway: IPAddress, link: Link)
        case failed(PeerState, String)
    }

    private static func validate(
        subnet: IPPrefix, gateway: IPAddress?, podNetwork: IPPrefix, subnetLength: Int?,
        config: RouteSyncConfig, claimLoss: String?, ownAddresses: Set<IPAddress>,
        addresses: [InterfaceAddress], links: [UInt32: Link]
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
