// What RouteSync needs to know about the network, filled in by the agent from its own config.
// Deliberately independent of SubnetLease's NetworkConfig so the two can evolve apart.
public import NetAddress
public import Netlink
public import SubnetLease

public struct RouteSyncConfig: Sendable, Hashable {
    /// The pod network of each family in use (`10.244.0.0/16`, `fd00:10:244::/56`). A family
    /// absent here gets no routes, even when leases carry subnets of it.
    public var podNetworks: [IPFamily: IPPrefix]
    /// The length of one node's subnet per family (24 for IPv4, 64 for IPv6 in flannel's defaults).
    public var subnetLengths: [IPFamily: Int]
    /// The rtm_protocol marker on every route hostgw owns.
    public var routeProtocol: RouteProtocol
    /// The routing table hostgw's routes live in.
    public var table: UInt32
    /// How often a full dump-and-diff runs even without events (notifications can be lost).
    public var resyncPeriod: Duration
    /// Report drift and peer states, never change the kernel.
    public var observeOnly: Bool
    /// This node's own pod subnets: never routed via a peer.
    public var localSubnets: [IPPrefix]
    /// How many drift events the status keeps.
    public var driftHistoryLimit: Int
    /// Requests per netlink batch.
    public var batchSize: Int
    /// Foreign protocols whose routes hostgw takes over when they equal the desired route in all
    /// but the protocol (`--adopt-protocol boot` for flanneld's). Empty: adopt nothing.
    public var adoptProtocols: Set<RouteProtocol>
    /// How long deletions wait when a snapshot would remove more than half of the peer routes
    /// at once (`MassDeletionHold`): a little longer than a node takes to re-claim its lease.
    public var deletionGrace: Duration

    public init(
        podNetworks: [IPFamily: IPPrefix],
        subnetLengths: [IPFamily: Int] = [.v4: 24, .v6: 64],
        routeProtocol: RouteProtocol = .hostgw,
        table: UInt32 = RouteTableID.main,
        resyncPeriod: Duration = .seconds(30),
        observeOnly: Bool = false,
        localSubnets: [IPPrefix] = [],
        driftHistoryLimit: Int = 100,
        batchSize: Int = 256,
        adoptProtocols: Set<RouteProtocol> = [],
        deletionGrace: Duration = .seconds(10)
    ) {
        self.podNetworks = podNetworks
        self.subnetLengths = subnetLengths
        self.routeProtocol = routeProtocol
        self.table = table
        self.resyncPeriod = resyncPeriod
        self.observeOnly = observeOnly
        self.localSubnets = localSubnets
        self.driftHistoryLimit = driftHistoryLimit
        self.batchSize = batchSize
        self.adoptProtocols = adoptProtocols
        self.deletionGrace = deletionGrace
    }

    /// The families routed, IPv4 first.
    public var families: [IPFamily] { IPFamily.allCases.filter { podNetworks[$0] != nil } }
}

extension RouteSyncConfig {
    /// The pod networks and subnet lengths of the cluster's network config (families it enables).
    /// The agent and `hostgw status` both build their config here, so both judge routes alike.
    public init(
        network: NetworkConfig, routeProtocol: RouteProtocol = .hostgw, table: UInt32 = RouteTableID.main,
        resyncPeriod: Duration = .seconds(30), observeOnly: Bool = false, localSubnets: [IPPrefix] = [],
        adoptProtocols: Set<RouteProtocol> = [],
        deletionGrace: Duration = .seconds(10)
    ) {
        self.init(
            podNetworks: Dictionary(uniqueKeysWithValues: IPFamily.allCases.compactMap { f in network.network(for: f).map { (f, $0) } }),
            subnetLengths: Dictionary(uniqueKeysWithValues: IPFamily.allCases.map { ($0, network.subnetLength(for: $0)) }),
            routeProtocol: routeProtocol, table: table, resyncPeriod: resyncPeriod, observeOnly: observeOnly,
            localSubnets: localSubnets, adoptProtocols: adoptProtocols,
            deletionGrace: deletionGrace)
    }
}
