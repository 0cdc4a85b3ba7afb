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
    public var state: Reachability
    /// Why it is unreachable, in words an operator can act on.
    public var reason: String?
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
            r.reason = "neighbour entry of \(gw) is \(neighbour.state ?? "unresolved"): nothing answers ARP/neighbour discovery for it on the node network"
        } else if let node, node.state == .unreachable {
            r.state = .unreachable
            r.reason = "\(node.consecutiveLosses) probe(s) in a row to \(gw) unanswered: the node is dark on the node network, or UDP \(Self.portHint) is filtered"
        } else if let pod, pod.state == .unreachable {
            r.state = .unreachable
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
    private var targets: [ProbeTarget] = []
    /// lease key -> family -> (node target, pod target)
    private var byPeer: [String: [IPFamily: (node: ProbeTarget?, pod: ProbeTarget?)]] = [:]
    private var neighbours: [IPAddress: NeighbourWatcher.Entry] = [:]
    private var probes: [ProbeTarget: ProbeStats] = [:]
    private var unreachable: [String: String] = [:]
    private let logger: Logger
    private let broadcast = Broadcast<ReachabilitySummary>()
    public private(set) var summary = ReachabilitySummary()

    public init(logger: Logger) { self.logger = logger }

    /// The peer routes measured: the prober's targets (node path per family, pod path where published).
    public func setTargets(_ targets: [ProbeTarget]) {
        guard targets != self.targets else { return }
        self.targets = targets
        var map: [String: [IPFamily: (node: ProbeTarget?, pod: ProbeTarget?)]] = [:]
        for t in targets {
            var entry = map[t.peer]?[t.address.family] ?? (nil, nil)
            if t.path == .node { entry.node = t } else { entry.pod = t }
            map[t.peer, default: [:]][t.address.family] = entry
        }
        byPeer = map
        rejudge()
    }

    public func update(neighbours: [IPAddress: NeighbourWatcher.Entry]) {
        self.neighbours = neighbours
        rejudge()
    }

    public func update(probes: [ProbeTarget: ProbeStats]) {
        self.probes = probes
        rejudge()
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

    private func rejudge() {
        var now: [String: String] = [:]
        var measured = 0
        for (peer, families) in byPeer {
            var known = false
            for (_, entry) in families {
                let r = judge(entry)
                if r.state != .unknown { known = true }
                if r.state == .unreachable, now[peer] == nil { now[peer] = r.reason ?? "unreachable" }
            }
            if known { measured += 1 }
        }
        for (peer, reason) in now where unreachable[peer] == nil {
            logger.warning("peer unreachable; its route stays installed", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        }
        for peer in unreachable.keys where now[peer] == nil && byPeer[peer] != nil {
            logger.notice("peer reachable again", metadata: ["peer": "\(peer)"])
        }
        unreachable = now
        let next = ReachabilitySummary(peers: byPeer.count, measured: measured, unreachable: now.keys.sorted())
        guard next != summary else { return }
        summary = next
        broadcast.publish(next)
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

    public init(peers: Int = 0, measured: Int = 0, unreachable: [String] = []) {
        self.peers = peers
        self.measured = measured
        self.unreachable = unreachable
    }

    /// Every peer measured is unreachable (at least one): this node is cut off, not its peers.
    public var isolated: Bool { !unreachable.isEmpty && unreachable.count == peers }
}
