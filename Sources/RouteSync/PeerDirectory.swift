// What the datapath side follows per peer, kept current across lease snapshots: the gateways
// whose neighbour entries are watched, the link MTUs peers publish, and the addresses probed (the
// node IP, and the pod gateway through the pod route when the peer publishes one). This node's
// own lease is not a peer. Each update says what changed, so the watchers follow a lease event
// by its own entries (issue 15).
public import NetAddress
public import SubnetLease
public import Netlink

public struct PeerDirectory: Sendable {
    /// Gateway address -> peer name (`node-b (10.0.0.3)`).
    public private(set) var gateways: [IPAddress: String] = [:]
    /// How many gateways per family (the neighbour entries the peers' routes need), kept with
    /// `gateways` one gateway at a time: a lease event at 5,000 peers does not count them all.
    public private(set) var gatewayCounts: [IPFamily: Int] = [:]
    /// Peer name -> the link MTU it publishes (peers that publish none are absent).
    public private(set) var mtus: [String: UInt32] = [:]
    /// What is measured per peer route: its node IP, and its pod gateway through the pod route
    /// when it publishes one (inside its own subnet), in lease order.
    public var targets: [ProbeTarget] { leases.flatMap { entries[LeaseID($0)]?.targets ?? [] } }

    /// What one lease adds.
    private struct Entry: Sendable {
        var name: String
        var mtu: UInt32?
        var gateways: [IPAddress] = []
        var targets: [ProbeTarget] = []
    }

    private let localSubnets: Set<IPPrefix>
    private let families: [IPFamily]
    private var localPodGateways: [IPFamily: IPAddress]
    private var leases: [Lease] = []
    /// The stamp of the snapshot `leases` is from (see `LeaseSnapshot.changes`).
    private var lastStamp: LeaseSnapshot.Stamp?
    private var entries: [LeaseID: Entry] = [:]
    /// How many peers' entries name each gateway and each MTU-publishing name: two leases may
    /// share one (a lease being replaced), and the other's must stay.
    private var gatewayRefs: [IPAddress: Int] = [:]
    private var mtuRefs: [String: Int] = [:]

    /// - Parameter localPodGateways: this node's own pod gateway per family: pod-path probes leave
    ///   from it, so the reply travels the peer's route back to this node's subnet.
    public init(leases: [Lease] = [], localSubnets: [IPPrefix], families: [IPFamily], localPodGateways: [IPFamily: IPAddress] = [:]) {
        self.localSubnets = Set(localSubnets)
        self.families = families
        self.localPodGateways = localPodGateways
        update(leases: leases)
    }

    /// Follows a new snapshot: only the leases that changed since the last one (found by a walk
    /// of both, as the reconciler does) are looked at again, so a lease event at 5,000 peers
    /// costs its own entries, not 5,000. A change of this node's pod gateways re-reads every lease.
    @discardableResult
    public mutating func update(leases: [Lease], localPodGateways: [IPFamily: IPAddress]? = nil) -> PeerDirectoryChanges {
        update(LeaseSnapshot(revision: 0, leases: leases, skipped: []), localPodGateways: localPodGateways)
    }

    /// `update(leases:localPodGateways:)` with a watcher's snapshot: when it follows the last one
    /// given directly, only the leases it names as changed are looked at (no walk of every lease).
    @discardableResult
    public mutating func update(_ snapshot: LeaseSnapshot, localPodGateways: [IPFamily: IPAddress]? = nil) -> PeerDirectoryChanges {
        let leases = snapshot.leases
        var changes: LeaseChanges
        if let localPodGateways, localPodGateways != self.localPodGateways {
            self.localPodGateways = localPodGateways
            changes = [:]
            for lease in self.leases { changes[LeaseID(lease)] = .some(nil) }
            for lease in leases { changes[LeaseID(lease)] = .some(lease) }
        } else {
            changes = LeaseChanges.following(snapshot, after: lastStamp, from: self.leases)
        }
        lastStamp = snapshot.stamp
        self.leases = leases
        var out = PeerDirectoryChanges()
        // What the gateways and MTUs touched were before: a lease replaced by one with the same
        // gateway (or MTU) changed neither.
        var gatewaysBefore: [IPAddress: String?] = [:]
        var mtusBefore: [String: UInt32?] = [:]
        for (id, lease) in changes {
            let old = entries.removeValue(forKey: id)
            let new = lease.flatMap(entry(for:))
            for e in [old, new].compactMap({ $0 }) {
                for gateway in e.gateways where gatewaysBefore[gateway] == nil { gatewaysBefore[gateway] = .some(gateways[gateway]) }
                if e.mtu != nil, mtusBefore[e.name] == nil { mtusBefore[e.name] = .some(mtus[e.name]) }
            }
            if let old { remove(old, into: &out) }
            if let new {
                entries[id] = new
                add(new, into: &out)
            }
        }
        for (gateway, before) in gatewaysBefore where gateways[gateway] != before { out.gateways[gateway] = .some(gateways[gateway]) }
        out.mtusChanged = mtusBefore.contains { mtus[$0.key] != $0.value }
        // A target both removed (old entry) and added (new entry) did not change.
        let both = Set(out.removedTargets).intersection(out.addedTargets)
        if !both.isEmpty {
            out.addedTargets.removeAll(where: both.contains)
            out.removedTargets.removeAll(where: both.contains)
        }
        return out
    }

    /// Rebuilds every entry from the leases held and says what that changed: the backstop behind
    /// named changes (the agent runs it every 30 s, as the reconciler's periodic resync rebuilds
    /// the desired routes). Empty unless a change was missed.
    public mutating func resync() -> PeerDirectoryChanges {
        let fresh = PeerDirectory(leases: leases, localSubnets: Array(localSubnets), families: families, localPodGateways: localPodGateways)
        var out = PeerDirectoryChanges()
        let before = Set(targets)
        let after = Set(fresh.targets)
        out.addedTargets = fresh.targets.filter { !before.contains($0) }
        out.removedTargets = targets.filter { !after.contains($0) }
        for (gateway, name) in fresh.gateways where gateways[gateway] != name { out.gateways[gateway] = .some(name) }
        for gateway in gateways.keys where fresh.gateways[gateway] == nil { out.gateways[gateway] = .some(nil) }
        out.mtusChanged = fresh.mtus != mtus
        let stamp = lastStamp
        self = fresh
        lastStamp = stamp
        return out
    }

    private func entry(for lease: Lease) -> Entry? {
        let subnets = families.compactMap(lease.subnet(for:))
        guard !subnets.isEmpty, !subnets.allSatisfy(localSubnets.contains) else { return nil }
        let key = lease.key
        let name = lease.attributes.nodeName ?? lease.gateway(for: families.first ?? .v4)?.description ?? key
        var e = Entry(name: name, mtu: lease.attributes.published.mtu)
        for family in families where lease.subnet(for: family) != nil {
            guard let gateway = lease.gateway(for: family) else { continue }
            e.gateways.append(gateway)
            e.targets.append(ProbeTarget(peer: key, path: .node, address: gateway))
            if let pod = lease.attributes.published.podGateway(for: family), let subnet = lease.subnet(for: family), subnet.contains(pod) {
                e.targets.append(ProbeTarget(peer: key, path: .pod, address: pod, source: localPodGateways[family]))
            }
        }
        return e
    }

    private mutating func add(_ e: Entry, into out: inout PeerDirectoryChanges) {
        for gateway in e.gateways {
            gatewayRefs[gateway, default: 0] += 1
            if gateways.updateValue(e.name, forKey: gateway) == nil { gatewayCounts[gateway.family, default: 0] += 1 }
        }
        if let mtu = e.mtu {
            mtuRefs[e.name, default: 0] += 1
            mtus[e.name] = mtu
        }
        out.addedTargets.append(contentsOf: e.targets)
    }

    private mutating func remove(_ e: Entry, into out: inout PeerDirectoryChanges) {
        for gateway in e.gateways {
            gatewayRefs[gateway, default: 1] -= 1
            if gatewayRefs[gateway] == 0 {
                gatewayRefs[gateway] = nil
                if gateways.removeValue(forKey: gateway) != nil { gatewayCounts[gateway.family, default: 1] -= 1 }
                if gatewayCounts[gateway.family] == 0 { gatewayCounts[gateway.family] = nil }
            }
        }
        if e.mtu != nil {
            mtuRefs[e.name, default: 1] -= 1
            if mtuRefs[e.name] == 0 {
                mtuRefs[e.name] = nil
                mtus[e.name] = nil
            }
        }
        out.removedTargets.append(contentsOf: e.targets)
    }
}

/// What one `PeerDirectory.update` changed.
public struct PeerDirectoryChanges: Sendable, Hashable {
    /// Gateways whose peer name is new (the name) or that no peer has any more (nil).
    public var gateways: [IPAddress: String?] = [:]
    public var mtusChanged = false
    public var addedTargets: [ProbeTarget] = []
    public var removedTargets: [ProbeTarget] = []

    public init() {}

    public var isEmpty: Bool { gateways.isEmpty && !mtusChanged && addedTargets.isEmpty && removedTargets.isEmpty }
}

extension PeerDirectory {
    /// This node's own addresses inside its pod subnets (the CNI bridge's gateway), per family:
    /// what peers probe through the pod route. The lowest one when there are several.
    public static func localPodGateways(localSubnets: [IPPrefix], addresses: [InterfaceAddress]) -> [IPFamily: IPAddress] {
        var out: [IPFamily: IPAddress] = [:]
        for subnet in localSubnets {
            let inside = addresses.map(\.address).filter { subnet.contains($0) && $0 != subnet.address }
            if let first = inside.min() { out[subnet.family] = first }
        }
        return out
    }

    /// The links `routes` of `family` leave by (index -> name).
    public static func interfaces(of routes: some Sequence<Route>, family: IPFamily, links: [Link]) -> [UInt32: String] {
        var out: [UInt32: String] = [:]
        for route in routes where route.family == family {
            guard let index = route.outputInterface, out[index] == nil else { continue }
            out[index] = links.first { $0.index == index }?.name ?? "dev#\(index)"
        }
        return out
    }
}
