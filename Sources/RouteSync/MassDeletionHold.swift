// The guard against one wrong `etcdctl del --prefix`: a snapshot that would remove more than half
// of the peer routes (at least two) at once is far more likely an accident than that many nodes
// leaving in the same instant, and every node re-leases its own subnet within seconds. So those
// deletions wait for a grace period; leases that come back end the hold for their subnet, and
// whatever is still gone when it runs out is removed then. One node leaving is never held.
// Pure: the caller passes each snapshot in and reads the leases to route by.
public import NetAddress
public import SubnetLease

/// Which peer leases stay routed although the store no longer has them.
public struct MassDeletionHold: Sendable {
    /// How long deletions are held once a mass deletion is seen.
    public let grace: Duration
    private let elapsed: @Sendable () -> Duration

    /// Peer leases (not this node's) last admitted, by lease id; held ones included.
    private var baseline: [LeaseID: Lease] = [:]
    /// Leases gone from the store whose routes are kept until `deadline`.
    private var held: [LeaseID: Lease] = [:]
    /// The local subnets of the last admission: changes since it are judged with them.
    private var localSubnets: [IPPrefix]?
    private var started: Duration?
    private var deadline: Duration?

    /// What one snapshot changed about the hold, for the caller to log (once) and count.
    public enum Event: Sendable, Hashable {
        /// `held` of `peers` peer leases vanished at once: their routes are kept.
        case started(held: Int, peers: Int)
        /// Every held lease came back before the grace ran out.
        case resolved
        /// The grace ran out; the routes of `removed` leases still gone are deleted now.
        case expired(removed: Int)

        public var isStart: Bool { if case .started = self { true } else { false } }
    }

    public struct Decision: Sendable {
        /// The leases to route by: the snapshot's, plus the held ones.
        public var leases: [Lease]
        public var event: Event?
    }

    /// - Parameters:
    ///   - clock: measures the grace (tests inject a manual clock).
    public init<C: Clock>(grace: Duration, clock: C) where C.Duration == Duration {
        self.grace = grace
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
    }

    /// The held leases by id.
    var heldLeases: [LeaseID: Lease] { held }

    /// True while some deletion is held.
    public var isHolding: Bool { deadline != nil }

    /// How long until the held deletions are due; nil when nothing is held.
    public var remaining: Duration? { deadline.map { max($0 - elapsed(), .zero) } }

    /// The held leases and when the hold started and ends, as offsets from now (for status).
    public var status: (held: [Lease], since: Duration, until: Duration)? {
        guard let started, let deadline else { return nil }
        let now = elapsed()
        return (held.values.sorted { $0.key < $1.key }, now - started, deadline - now)
    }

    /// Admits one snapshot (every lease in the store; `localSubnets` are this node's own, which
    /// are not peer routes). Also the way a caller lets a due hold expire: admit the same leases again.
    public mutating func admit(_ leases: [Lease], localSubnets: [IPPrefix]) -> Decision {
        let isPeer = Self.isPeer(localSubnets)
        var present: [LeaseID: Lease] = [:]
        for lease in leases where isPeer(lease) && present[LeaseID(lease)] == nil { present[LeaseID(lease)] = lease }
        // What changed since the last admission: the peers routed from the store then are the
        // baseline's leases that are not held.
        var changes: LeaseChanges = [:]
        for (id, lease) in present where held[id] != nil || baseline[id] != lease { changes[id] = .some(lease) }
        for id in baseline.keys where held[id] == nil && present[id] == nil { changes[id] = .some(nil) }
        self.localSubnets = localSubnets
        return admit(leases, changes: changes, localSubnets: localSubnets)
    }

    /// `admit(_:localSubnets:)` given what changed in the store since the last admission
    /// (`LeaseChanges.between` the two snapshots): costs the changes, not the snapshot, and
    /// decides the same.
    mutating func admit(_ leases: [Lease], changes: LeaseChanges, localSubnets: [IPPrefix]) -> Decision {
        guard self.localSubnets == localSubnets else {
            self.localSubnets = localSubnets
            return admit(leases, localSubnets: localSubnets)
        }
        let isPeer = Self.isPeer(localSubnets)
        // A held lease is present again only by a change; an unchanged one stays as it was.
        let arrived = changes.filter { $0.value.map(isPeer) ?? false }
        let removed = changes.keys.filter { id in changes[id]! == nil && baseline[id] != nil && held[id] == nil }
        let now = elapsed()
        var event: Event?
        if let due = deadline, now >= due {
            event = .expired(removed: held.keys.filter { arrived[$0] == nil }.count)
            for id in held.keys where arrived[id] == nil { baseline[id] = nil }
            for id in removed { baseline[id] = nil }
            held = [:]
            deadline = nil
            started = nil
        }
        var vanished: [LeaseID: Lease] = [:]
        if event == nil {
            for id in removed { vanished[id] = baseline[id] }
            for (id, lease) in held where arrived[id] == nil { vanished[id] = lease }
        }
        if deadline == nil, vanished.count >= 2, vanished.count * 2 > baseline.count {
            held = vanished
            started = now
            deadline = now + grace
            event = .started(held: vanished.count, peers: baseline.count)
        } else if deadline != nil {
            // While holding, every further deletion waits for the same deadline too.
            held.merge(vanished) { old, _ in old }
        }
        // A lease that came back is routed from the store again.
        for id in arrived.keys { held[id] = nil }
        if deadline != nil, held.isEmpty {
            deadline = nil
            started = nil
            event = .resolved
        }
        for (id, lease) in changes { baseline[id] = lease.flatMap { isPeer($0) ? $0 : nil } ?? held[id] }
        self.localSubnets = localSubnets
        return Decision(leases: held.isEmpty ? leases : leases + held.values.sorted { $0.key < $1.key }, event: event)
    }

    /// True for a lease that is not this node's own.
    private static func isPeer(_ localSubnets: [IPPrefix]) -> (Lease) -> Bool {
        { lease in ![lease.subnet, lease.ipv6Subnet].contains { s in s.map { localSubnets.contains($0) } ?? false } }
    }
}
