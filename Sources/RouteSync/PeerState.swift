// The words status, metrics and logs use for a peer's route and for drift. The raw strings are
// an interface (dashboards, alerts, `hostgw status` scripts): never rename one.
public import NetAddress
public import Netlink
public import SubnetLease

/// Where one peer's route (one lease, one address family) stands.
public enum PeerState: String, Sendable, Hashable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    /// The kernel holds exactly the route the lease asks for.
    case ok
    /// The route should exist and does not (observe-only, or the add failed).
    case missing
    /// A hostgw route for the subnet exists but differs (gateway, device, metric, ...).
    case changed
    /// The gateway is not inside a connected prefix of a usable local link.
    case notAdjacent = "not-adjacent"
    /// The lease itself cannot be routed (no gateway, wrong subnet, overlaps, our own address).
    case invalidLease = "invalid-lease"
    /// Another owner's route overlaps the subnet; hostgw installs nothing over it.
    case conflict
    /// Known from a lease snapshot, not yet through a reconcile pass.
    case pending

    public var description: String { rawValue }
}

/// What kind of drift a pass found, relative to what this agent last installed or observed.
public enum DriftKind: String, Sendable, Hashable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    /// A route this agent installed (or observed correct) is gone.
    case missing
    /// A route this agent installed was altered by someone else.
    case changed
    /// A hostgw-marked route exists that no lease asks for.
    case unexpected
    /// Another owner's route overlaps a peer's pod subnet.
    case conflict

    public var description: String { rawValue }
}

/// One peer route's status: one lease, one address family.
public struct PeerStatus: Sendable, Hashable, Codable {
    /// The lease's store key (`10.244.3.0-24`), stable across passes.
    public var leaseKey: String
    /// The node name the lease carries (hostgw leases only).
    public var node: String?
    public var family: IPFamily
    public var subnet: IPPrefix
    public var gateway: IPAddress?
    /// The link the route leaves through, when the gateway is adjacent.
    public var interface: String?
    public var state: PeerState
    /// Why the state is not `ok`, in words an operator can act on.
    public var reason: String?
    /// The last kernel error for this route (`EEXIST: add 10.244.3.0/24 ...`), cleared once the route is ok.
    public var lastError: String?
    /// The errno of `lastError`; in JSON its name (`ENETUNREACH`).
    public var lastErrno: Errno?
    /// The route's MTU attribute, when the peer publishes a smaller link MTU than ours.
    public var mtu: UInt32? = nil
    /// The conditions the peer publishes about its own datapath (forwarding off, ...), as it
    /// published them; nil when none.
    public var published: [PublishedCondition]? = nil
    /// Whether this node reaches the peer (neighbour entry and probes); nil when not measured
    /// (the agent is not running, or external-sync). Kept out of line: it is 208 bytes, set only
    /// on the copies status shows, and the reconciler holds 5,000 peer statuses without it (a
    /// peer status is 184 bytes instead of 384).
    public var reachability: PeerReachability? {
        get { measured?.value }
        set { measured = newValue.map(OutOfLine.init) }
    }
    private var measured: OutOfLine<PeerReachability>?

    enum CodingKeys: String, CodingKey {
        case leaseKey, node, family, subnet, gateway, interface, state, reason, lastError, lastErrno, mtu, published
        case measured = "reachability"
    }

    public init(
        leaseKey: String, node: String?, family: IPFamily, subnet: IPPrefix, gateway: IPAddress?,
        interface: String? = nil, state: PeerState, reason: String? = nil, lastError: String? = nil,
        lastErrno: Errno? = nil
    ) {
        self.leaseKey = leaseKey
        self.node = node
        self.family = family
        self.subnet = subnet
        self.gateway = gateway
        self.interface = interface
        self.state = state
        self.reason = reason
        self.lastError = lastError
        self.lastErrno = lastErrno
    }

    /// `node-b (10.0.0.3)`, or the gateway alone, or the lease key: how logs name the peer.
    public var peerName: String {
        switch (node, gateway) {
        case (let n?, let g?): "\(n) (\(g))"
        case (let n?, nil): n
        case (nil, let g?): g.description
        case (nil, nil): leaseKey
        }
    }
}

/// A value stored behind one reference (an indirect enum case), coded as the value itself: for a
/// large, rarely set field of a value held by the thousand.
enum OutOfLine<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    indirect case boxed(Value)

    init(_ value: Value) { self = .boxed(value) }

    var value: Value {
        switch self { case .boxed(let v): v }
    }

    init(from decoder: any Decoder) throws { self = .boxed(try decoder.singleValueContainer().decode(Value.self)) }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
