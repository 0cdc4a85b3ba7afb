// Whether this node reaches a peer, from two kernel-level signs: the neighbour entry of the peer's
// gateway (FAILED / INCOMPLETE: nothing answers ARP or neighbour discovery for it) and the UDP
// probes (to the node IP, and to the pod gateway through the pod route). One judgement, used by
// status, check, health and the log. Reported, never acted on: no route is removed for it.
import Foundation
public import NetAddress
public import Logging
import SubnetLease

/// One peer route's reachability (one lease, one address family).
public struct PeerReachability: Codable, Sendable, Hashable {
    /// Which sign made a peer unreachable.
    public enum Cause: String, Codable, Sendable, Hashable {
        /// Its gateway's neighbour entry failed: nothing answers ARP / neighbour discovery.
        case neighbour
        /// Probes to its node address go unanswered.
        case node
        /// The node answers, its pod gateway does not through the pod route: unreachable for pods.
        case pod
    }

    public var state: Reachability
    /// Why it is unreachable, in words an operator can act on.
    public var reason: String?
    /// Which sign that was; nil unless unreachable.
    public var cause: Cause?
    /// The gateway's neighbour entry (`REACHABLE`, `STALE`, `FAILED`, ...); nil when there is none.
    public var neighbour: String?
    /// The probes to the node IP; nil when not probed.
    public var node: ProbeStats?
    /// The probes to the pod gateway through the pod route; nil when the peer publishes none.
    public var pod: ProbeStats?

    public init(state: Reachability, reason: String? = nil, neighbour: String? = nil, node: ProbeStats? = nil, pod: ProbeStats? = nil) {
        self.state = state
        self.reason = reason
        self.neighbour = neighbour
        self.node = node
        self.pod = pod
    }

    /// The judgement: a failed neighbour entry or a lost node path makes the peer unreachable; a
    /// node that answers while its pod gateway does not (through the pod route) is unreachable
    /// for pods; any answer makes it reachable; nothing measured yet is unknown.
    public static func judge(gateway: IPAddress?, neighbour: NeighbourWatcher.Entry?, node: ProbeStats?, pod: ProbeStats?) -> PeerReachability {
        var r = PeerReachability(state: .unknown, neighbour: neighbour?.state, node: node, pod: pod)
        let gw = gateway?.description ?? "the gateway"
        if let neighbour, neighbour.unresolved {
            r.state = .unreachable
            r.cause = .neighbour
            r.reason = "neighbour entry of \(gw) is \(neighbour.state ?? "unresolved"): nothing answers ARP/neighbour discovery for it on the node network"
        } else if let node, node.state == .unreachable {
            r.state = .unreachable
            r.cause = .node
            r.reason = "\(node.consecutiveLosses) probe(s) in a row to \(gw) unanswered: the node is dark on the node network, or UDP \(Self.portHint) is filtered"
        } else if let pod, pod.state == .unreachable {
            r.state = .unreachable
            r.cause = .pod
            r.reason = "the node answers but its pod gateway does not through the pod route (\(pod.consecutiveLosses) probe(s) lost): forwarding, a filter or a route on either node"
        } else if node?.state == .reachable || pod?.state == .reachable {
            r.state = .reachable
        }
        return r
    }

    static let portHint = "to the probe port"
}

/// The latest signs, and the judgement per peer route. The agent feeds it the prober's and the
/// neighbour watcher's updates; status reads it.
public actor PeerReachabilityBoard {
    /// lease key -> family -> (node target, pod target)
    private var byPeer: [String: [IPFamily: (node: ProbeTarget?, pod: ProbeTarget?)]] = [:]
    /// Gateway (a node target's address) -> the peers probed there: who a neighbour verdict is about.
    private var peersAtGateway: [IPAddress: Set<String>] = [:]
    private var neighbours: [IPAddress: NeighbourWatcher.Entry] = [:]
    private var probes: [ProbeTarget: ProbeStats] = [:]
    /// Unreachable peers: the reason, and whether only for pods (every family's cause `.pod`).
    private var unreachable: [String: (reason: String, podsOnly: Bool)] = [:]
    private var measured: Set<String> = []
    private let logger: Logger
    private let broadcast = Broadcast<ReachabilitySummary>()
    public private(set) var summary = ReachabilitySummary()
    private var logBudget: ReachabilityLogBudget
    private let clock: any Clock<Duration>
    /// A summary line of the changes held back is due at the end of the log budget's window.
    private var summaryScheduled = false

    public init(logger: Logger, clock: any Clock<Duration> = ContinuousClock()) {
        self.logger = logger
        self.clock = clock
        logBudget = ReachabilityLogBudget(clock: clock)
    }

    /// The peer routes measured: the prober's targets (node path per family, pod path where published).
    public func setTargets(_ targets: [ProbeTarget]) {
        let wanted = Set(targets)
        var gone: [ProbeTarget] = []
        for families in byPeer.values {
            for entry in families.values {
                for t in [entry.node, entry.pod] { if let t, !wanted.contains(t) { gone.append(t) } }
            }
        }
        updateTargets(adding: targets, removing: gone)
    }

    /// Adds and drops targets, judging again only the peers they belong to.
    public func updateTargets(adding: [ProbeTarget], removing: [ProbeTarget]) {
        var touched: Set<String> = []
        for t in removing {
            guard var families = byPeer[t.peer], var entry = families[t.address.family] else { continue }
            if t.path == .node, entry.node == t {
                entry.node = nil
                peersAtGateway[t.address]?.remove(t.peer)
                if peersAtGateway[t.address]?.isEmpty == true { peersAtGateway[t.address] = nil }
            } else if t.path == .pod, entry.pod == t {
                entry.pod = nil
            } else {
                continue
            }
            families[t.address.family] = entry.node == nil && entry.pod == nil ? nil : entry
            byPeer[t.peer] = families.isEmpty ? nil : families
            probes[t] = nil
            touched.insert(t.peer)
        }
        for t in adding {
            var entry = byPeer[t.peer]?[t.address.family] ?? (nil, nil)
            if t.path == .node {
                if entry.node == t { continue }
                if let old = entry.node { peersAtGateway[old.address]?.remove(t.peer) }
                entry.node = t
                peersAtGateway[t.address, default: []].insert(t.peer)
            } else {
                if entry.pod == t { continue }
                entry.pod = t
            }
            byPeer[t.peer, default: [:]][t.address.family] = entry
            touched.insert(t.peer)
        }
        rejudge(touched)
    }

    /// The neighbour watcher's view: the peers whose gateway's verdict changed are judged again.
    public func update(neighbours: [IPAddress: NeighbourWatcher.Entry]) {
        var touched: Set<String> = []
        for (address, entry) in neighbours where self.neighbours[address] != entry {
            touched.formUnion(peersAtGateway[address] ?? [])
        }
        for address in self.neighbours.keys where neighbours[address] == nil {
            touched.formUnion(peersAtGateway[address] ?? [])
        }
        self.neighbours = neighbours
        rejudge(touched)
    }

    /// The prober's stats, all at once (tests, and a prober that replaced its targets).
    public func update(probes: [ProbeTarget: ProbeStats]) {
        self.probes = probes
        rejudge(byPeer.keys)
    }

    /// What `PeerProber.stateChanges()` yields.
    public func update(probeChanges: ProbeStateChange) {
        switch probeChanges {
        case .all(let all):
            update(probes: all)
        case .some(let changed):
            for (target, stats) in changed { probes[target] = stats }
            rejudge(changed.keys.map(\.peer))
        }
    }

    /// One peer route's reachability; nil when it is not measured (no target for it). `live`: the
    /// prober's stats now (the board keeps the ones of the last state change, whose counts and
    /// RTT are old), for status.
    public func reachability(leaseKey: String, family: IPFamily, live: [ProbeTarget: ProbeStats]? = nil) -> PeerReachability? {
        guard let entry = byPeer[leaseKey]?[family] else { return nil }
        return judge(entry, probes: live ?? probes)
    }

    /// The summary now, then on every change of which peers are unreachable.
    public func summaryUpdates() -> AsyncStream<ReachabilitySummary> { broadcast.subscribe(current: summary) }

    private func judge(_ entry: (node: ProbeTarget?, pod: ProbeTarget?), probes: [ProbeTarget: ProbeStats]? = nil) -> PeerReachability {
        let probes = probes ?? self.probes
        let gateway = entry.node?.address
        return PeerReachability.judge(
            gateway: gateway, neighbour: gateway.flatMap { neighbours[$0] }, node: entry.node.flatMap { probes[$0] },
            pod: entry.pod.flatMap { probes[$0] })
    }

    /// Judges `peers` again (the others' verdicts stand: nothing they depend on changed) and
    /// pushes the summary when it changed.
    private func rejudge(_ peers: some Sequence<String>) {
        var next = summary
        // The summary's sorted lists change one peer at a time: sorting every unreachable peer
        // on each change cost a node cut off from 5,000 peers a sort of 5,000 keys per tick.
        func set(_ peer: String, unreachable isIn: Bool, podsOnly: Bool) {
            next.unreachable.setMembership(of: peer, isIn)
            next.unreachableForPodsOnly.setMembership(of: peer, isIn && podsOnly)
        }
        for peer in peers {
            guard let families = byPeer[peer] else {
                measured.remove(peer)
                if unreachable.removeValue(forKey: peer) != nil { set(peer, unreachable: false, podsOnly: false) }
                continue
            }
            var known = false
            var reason: String?
            var podsOnly = true
            for (_, entry) in families {
                let r = judge(entry)
                if r.state != .unknown { known = true }
                if r.state == .unreachable, reason == nil { reason = r.reason ?? "unreachable" }
                if r.state == .unreachable, r.cause != .pod { podsOnly = false }
            }
            if known { measured.insert(peer) } else { measured.remove(peer) }
            if let reason {
                let old = unreachable.updateValue((reason, podsOnly), forKey: peer)
                if old == nil {
                    if logBudget.admit(lost: true) {
                        logger.warning("peer unreachable; its route stays installed", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
                    } else {
                        scheduleSummary()
                    }
                }
                if old == nil || old?.podsOnly != podsOnly { set(peer, unreachable: true, podsOnly: podsOnly) }
            } else if unreachable.removeValue(forKey: peer) != nil {
                set(peer, unreachable: false, podsOnly: false)
                if logBudget.admit(lost: false) {
                    logger.notice("peer reachable again", metadata: ["peer": "\(peer)"])
                } else {
                    scheduleSummary()
                }
            }
        }
        next.peers = byPeer.count
        next.measured = measured.count
        guard next != summary else { return }
        summary = next
        broadcast.publish(next)
    }

    /// One summary line, at the end of the log budget's window, for every change held back.
    private func scheduleSummary() {
        guard !summaryScheduled else { return }
        summaryScheduled = true
        let wait = logBudget.untilWindowEnds
        let clock = self.clock
        Task {
            try? await clock.sleep(for: wait)
            self.logHeldChanges()
        }
    }

    /// The changes held back, counted, with the totals now: warning while peers are unreachable.
    func logHeldChanges() {
        summaryScheduled = false
        let held = logBudget.takeHeld()
        guard held.lost + held.back > 0 else { return }
        let metadata: Logger.Metadata = [
            "unreachable": "\(held.lost)", "reachableAgain": "\(held.back)",
            "unreachableNow": "\(summary.unreachable.count)", "peers": "\(summary.peers)",
        ]
        let message: Logger.Message = "peer reachability changed for \(held.lost + held.back) more peers (not logged one by one); `hostgw status` lists them"
        if summary.unreachable.isEmpty { logger.notice(message, metadata: metadata) } else { logger.warning(message, metadata: metadata) }
    }
}

/// Which peer reachability changes get a log line of their own: the first `budget` in each
/// `interval`. The rest are counted and told in one summary line when the window ends, with the
/// totals then, so a node cut off from 5,000 peers logs a dozen lines, not 5,000. The metrics,
/// status and `hostgw check` still see every change.
struct ReachabilityLogBudget: Sendable {
    struct Held: Equatable, Sendable {
        var lost = 0
        var back = 0
    }

    let budget: Int
    let interval: Duration
    private let now: @Sendable () -> Duration
    private var windowStart: Duration?
    private var used = 0
    private var held = Held()

    init(budget: Int = 10, interval: Duration = .seconds(10), clock: some Clock<Duration>) {
        self.budget = budget
        self.interval = interval
        now = elapsedReader(clock)
    }

    /// True: log this change on its own line. False: it is held for the window's summary.
    mutating func admit(lost: Bool) -> Bool {
        let t = now()
        if let start = windowStart, t - start < interval {
            if used < budget {
                used += 1
                return true
            }
            if lost { held.lost += 1 } else { held.back += 1 }
            return false
        }
        windowStart = t
        used = 1
        return true
    }

    /// How long until the current window ends (zero when none is open).
    var untilWindowEnds: Duration {
        guard let start = windowStart else { return .zero }
        return max(.zero, interval - (now() - start))
    }

    /// The changes held so far, and none held after.
    mutating func takeHeld() -> Held {
        defer { held = Held() }
        return held
    }
}

/// How many peers this node reaches: what health and `hostgw check` judge from.
public struct ReachabilitySummary: Sendable, Hashable, Codable {
    /// Peers with a probe target or gateway.
    public var peers = 0
    /// Of those, the ones with a verdict (reachable or unreachable).
    public var measured = 0
    /// Lease keys of the unreachable ones, sorted.
    public var unreachable: [String] = []
    /// Of those, the ones whose node answers while its pod gateway does not (sorted).
    public var unreachableForPodsOnly: [String] = []

    public init(peers: Int = 0, measured: Int = 0, unreachable: [String] = [], unreachableForPodsOnly: [String] = []) {
        self.peers = peers
        self.measured = measured
        self.unreachable = unreachable
        self.unreachableForPodsOnly = unreachableForPodsOnly
    }

    /// Every peer measured is unreachable (at least one): this node is cut off, not its peers:
    /// on the node network, or (where the nodes answer) on the pod path through this node.
    public var isolated: Bool { !unreachable.isEmpty && unreachable.count == peers }
}

extension Array where Element: Comparable {
    /// In a sorted array, `element` put in (where it belongs) or taken out.
    mutating func setMembership(of element: Element, _ isIn: Bool) {
        let i = firstIndex(notBefore: { $0 < element })
        let present = i < count && self[i] == element
        if isIn, !present { insert(element, at: i) }
        if !isIn, present { remove(at: i) }
    }
}
