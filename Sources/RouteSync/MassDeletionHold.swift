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

    /// Peer leases (not this node's) last admitted, by lease key; held ones included.
    private var baseline: [String: Lease] = [:]
    /// Leases gone from the store whose routes are kept until `deadline`.
    private var held: [String: Lease] = [:]
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
        let now = elapsed()
        var event: Event?
        let peers = leases.filter { lease in
            ![lease.subnet, lease.ipv6Subnet].contains { s in s.map { localSubnets.contains($0) } ?? false }
        }
        let present = Set(peers.map(\.key))
        if let due = deadline, now >= due {
            let stillGone = held.keys.filter { !present.contains($0) }.count
            event = .expired(removed: stillGone)
            held = [:]
            deadline = nil
            started = nil
            for key in baseline.keys where !present.contains(key) { baseline[key] = nil }
        }
        let vanished = baseline.filter { !present.contains($0.key) }
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
        for key in held.keys where present.contains(key) { held[key] = nil }
        if deadline != nil, held.isEmpty {
            deadline = nil
            started = nil
            event = .resolved
        }
        let routed = peers + held.values.sorted { $0.key < $1.key }
        baseline = Dictionary(routed.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        return Decision(leases: leases + held.values.sorted { $0.key < $1.key }, event: event)
    }
}
