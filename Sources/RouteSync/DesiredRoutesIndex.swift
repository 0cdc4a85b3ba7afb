// DesiredRoutes kept current across lease changes (issue 15): at 5,000 peers, judging every
// lease again on each lease event was most of the agent's CPU per update. A lease's peers and
// route depend on the lease, this node (config, links, addresses) and its claim's outcome, which
// depends only on the claims sharing a subnet with it (SubnetClaimIndex). So a changed lease
// re-judges itself and the leases sharing a subnet with its old or new self; the node must be
// the same as when the index was built, or the caller builds it again. Pure.
import NetAddress
import Netlink
import SubnetLease

/// A lease's identity: its subnets, which its store key is written from.
struct LeaseID: Hashable, Sendable {
    var subnet: IPPrefix?
    var ipv6Subnet: IPPrefix?

    init(_ lease: Lease) {
        subnet = lease.subnet
        ipv6Subnet = lease.ipv6Subnet
    }
}

/// What changed between two lease lists: by id, the new lease, or nil for one that went.
typealias LeaseChanges = [LeaseID: Lease?]

extension LeaseChanges {
    /// The changes from `old` to `new`: a walk of both when each is in snapshot order (every
    /// `LeaseSnapshot` is), so unchanged leases cost one comparison and nothing is hashed but the
    /// changes; by dictionary otherwise.
    static func between(_ old: [Lease], _ new: [Lease]) -> LeaseChanges {
        if let walked = walk(old, new) { return walked }
        var changes: LeaseChanges = [:]
        let before = Dictionary(old.map { (LeaseID($0), $0) }, uniquingKeysWith: { _, b in b })
        let after = Dictionary(new.map { (LeaseID($0), $0) }, uniquingKeysWith: { _, b in b })
        for (id, lease) in after where before[id] != lease { changes[id] = .some(lease) }
        for id in before.keys where after[id] == nil { changes[id] = .some(nil) }
        return changes
    }

    private static func walk(_ old: [Lease], _ new: [Lease]) -> LeaseChanges? {
        var changes: LeaseChanges = [:]
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if j > 0, j < new.count, !LeaseSnapshot.isOrdered(new[j - 1], before: new[j]) { return nil }
            if i > 0, i < old.count, !LeaseSnapshot.isOrdered(old[i - 1], before: old[i]) { return nil }
            if i == old.count {
                changes[LeaseID(new[j])] = .some(new[j])
                j += 1
            } else if j == new.count {
                changes[LeaseID(old[i])] = .some(nil)
                i += 1
            } else if LeaseID(old[i]) == LeaseID(new[j]) {
                if old[i] != new[j] { changes[LeaseID(new[j])] = .some(new[j]) }
                i += 1
                j += 1
            } else if LeaseSnapshot.isOrdered(old[i], before: new[j]) {
                changes[LeaseID(old[i])] = .some(nil)
                i += 1
            } else {
                changes[LeaseID(new[j])] = .some(new[j])
                j += 1
            }
        }
        return changes
    }

    /// The changes `snapshot` names from the snapshot stamped `previous` (the one the caller
    /// last followed), without comparing any other lease; `between` when it does not follow that
    /// one directly (a re-list, a snapshot skipped, a list made by hand).
    static func following(_ snapshot: LeaseSnapshot, after previous: LeaseSnapshot.Stamp?, from old: [Lease]) -> LeaseChanges {
        guard let named = snapshot.changes(after: previous) else { return between(old, snapshot.leases) }
        var changes: LeaseChanges = [:]
        for change in named {
            if let before = change.before { changes[LeaseID(before)] = .some(nil) }
            if let after = change.after { changes[LeaseID(after)] = .some(after) }
        }
        return changes
    }

    /// `later` applied after these changes.
    mutating func merge(_ later: LeaseChanges) {
        merge(later) { _, new in new }
    }
}

/// The `DesiredRoutes` of a set of leases and one node, updated one changed lease at a time.
struct DesiredRoutesIndex: Sendable {
    let config: RouteSyncConfig
    let links: [Link]
    let addresses: [InterfaceAddress]
    private(set) var desired: DesiredRoutes
    private let node: DesiredRoutes.Node
    private var leases: [LeaseID: Lease] = [:]
    private var claims = SubnetClaimIndex<LeaseID>()

    /// Nil when two leases share an id (only a caller's hand-made list does): then every pass
    /// judges every lease.
    init?(leases list: [Lease], config: RouteSyncConfig, links: [Link], addresses: [InterfaceAddress]) {
        self.config = config
        self.links = links
        self.addresses = addresses
        node = DesiredRoutes.Node(config: config, links: links, addresses: addresses)
        desired = DesiredRoutes(leases: list, config: config, links: links, addresses: addresses)
        leases.reserveCapacity(list.count)
        for lease in list {
            let id = LeaseID(lease)
            guard leases.updateValue(lease, forKey: id) == nil else { return nil }
            claims.set(id, node.claim(lease))
        }
    }

    /// True when this index judges for `config`, `links` and `addresses`.
    func judges(config: RouteSyncConfig, links: [Link], addresses: [InterfaceAddress]) -> Bool {
        self.config == config && self.links == links && self.addresses == addresses
    }

    /// Applies `changes` and returns the subnets whose peers or routes it may have changed; nil
    /// when the index cannot (prefix lengths of one family now differ, or two routes would share
    /// a destination): build it again then.
    mutating func update(_ changes: LeaseChanges) -> Set<IPPrefix>? {
        var affected: Set<LeaseID> = []
        var touched: Set<IPPrefix> = []
        var before: [LeaseID: Lease] = [:]
        for (id, lease) in changes {
            affected.insert(id)
            affected.formUnion(claims.claiming(claims.claims[id]?.subnets ?? []))
            if let old = leases[id] { before[id] = old }
            leases[id] = lease
            claims.set(id, lease.flatMap(node.claim))
            affected.formUnion(claims.claiming(claims.claims[id]?.subnets ?? []))
        }
        if claims.isMixed { return nil }
        // Out first, every affected lease as it was, then back in as it is now.
        for id in affected {
            let unchanged = changes.index(forKey: id) == nil
            guard let old = unchanged ? leases[id] : before[id], node.isPeer(old) else { continue }
            touched.formUnion(config.families.compactMap(old.subnet(for:)))
            // The same for every lease of this id: the key is written from the subnets.
            let key = old.key
            for family in config.families {
                guard let subnet = old.subnet(for: family) else { continue }
                let p = desired.peers.firstIndex(notBefore: { DesiredRoutes.peerOrder($0, subnet, key) })
                guard p < desired.peers.count, desired.peers[p].subnet == subnet, desired.peers[p].leaseKey == key else { return nil }
                let routed = desired.peers[p].state == .pending
                desired.peers.remove(at: p)
                guard routed else { continue }
                let r = desired.routes.firstIndex(notBefore: { $0.destination < subnet })
                guard r < desired.routes.count, desired.routes[r].destination == subnet,
                    r + 1 == desired.routes.count || desired.routes[r + 1].destination != subnet
                else { return nil }
                desired.routes.remove(at: r)
            }
        }
        for id in affected {
            guard let lease = leases[id], node.isPeer(lease) else { continue }
            let key = lease.key
            touched.formUnion(config.families.compactMap(lease.subnet(for:)))
            let loss = claims.loss(of: id).map { claims.reason($0, holderNode: leases[$0.holder]?.attributes.nodeName) }
            for family in config.families {
                guard case let (status, route)? = node.judge(lease, key: key, family: family, claimLoss: loss) else { continue }
                let p = desired.peers.firstIndex(notBefore: { DesiredRoutes.peerOrder($0, status.subnet, key) })
                desired.peers.insert(status, at: p)
                guard let route else { continue }
                let r = desired.routes.firstIndex(notBefore: { $0.destination < route.destination })
                if r < desired.routes.count, desired.routes[r].destination == route.destination { return nil }
                desired.routes.insert(route, at: r)
            }
        }
        return touched
    }
}

extension DesiredRoutes {
    /// `peerOrder` against a peer not built yet.
    static func peerOrder(_ a: PeerStatus, _ subnet: IPPrefix, _ key: String) -> Bool {
        a.subnet != subnet ? a.subnet < subnet : a.leaseKey < key
    }
}
