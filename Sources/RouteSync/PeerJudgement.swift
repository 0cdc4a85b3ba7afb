// The one judgement of where every peer's route stands: one look at the leases and the kernel ->
// the desired routes, the plan, the drift the kernel shows, and (once the plan's outcome is
// known) every peer's state and reason. The reconciler makes it on every pass; `hostgw status`
// makes it on one look at the store and the kernel when the agent is down. Both run this code,
// so the same store and kernel get the same states, reasons and findings. Pure.
public import Foundation
import NetAddress
public import Netlink
public import SubnetLease

public struct PeerJudgement: Sendable {
    /// Why a plan's changes did not reach the kernel: the start of a `missing` or `changed`
    /// peer's reason.
    public enum Unapplied: String, Sendable, Hashable {
        /// The agent runs with `--observe-only`.
        case observeOnly = "observe-only"
        /// `hostgw status` or `check` judged without the agent.
        case agentNotRunning = "the agent is not running"
    }

    /// Every peer considered and the routes the routable ones need.
    public let desired: DesiredRoutes
    /// The changes that make hostgw's routes equal to `desired`, and the conflicts blocking some.
    public let plan: RoutePlan
    /// What the kernel shows against the memory given: with nothing remembered (a starting agent,
    /// or `hostgw status` without one) the hostgw routes no lease asks for and the foreign routes
    /// over a peer's subnet.
    public let findings: [DriftFinding]
    private let actual: [Route]
    private let links: [Link]
    private let routeProtocol: RouteProtocol

    /// - Parameters:
    ///   - leases: every lease in the store, this node's own included (`config.localSubnets`
    ///     tells it apart).
    ///   - actual: every route of `config.table`, whatever its protocol, so conflicts are seen.
    ///   - memory: what the agent last left in the kernel; empty for a look without the agent.
    public init(
        leases: [Lease], config: RouteSyncConfig, actual: [Route], links: [Link], addresses: [InterfaceAddress],
        memory: DriftMemory = DriftMemory()
    ) {
        self.init(
            desired: DesiredRoutes(leases: leases, config: config, links: links, addresses: addresses), config: config, actual: actual,
            links: links, memory: memory)
    }

    /// The judgement of `desired`, the `DesiredRoutes` of the leases for this node's `links` (and
    /// addresses): what the reconciler passes when it keeps them current across lease changes.
    public init(desired: DesiredRoutes, config: RouteSyncConfig, actual: [Route], links: [Link], memory: DriftMemory = DriftMemory()) {
        let plan = RouteSync.plan(
            desired: desired.routes, actual: actual, protocol: config.routeProtocol,
            podNetworks: Array(config.podNetworks.values), adopt: config.adoptProtocols)
        self.desired = desired
        self.plan = plan
        findings = memory.classify(desired: desired, actual: actual, plan: plan, protocol: config.routeProtocol)
        self.actual = actual
        self.links = links
        routeProtocol = config.routeProtocol
    }

    /// The judgement of the peers at `destinations` alone, the rest being as the last pass left
    /// them: what a lease-only pass needs after a pass whose every change reached the kernel
    /// (issue 15). `actual` holds the table's routes at `destinations` and every foreign route;
    /// `conflicts` are the last pass's (those away from `destinations` still hold, since nothing
    /// else changed). The plan, findings and peers are those of judging every destination.
    init(
        desired: DesiredRoutes, at destinations: Set<IPPrefix>, conflicts: [RouteConflict], config: RouteSyncConfig,
        actual: [Route], links: [Link], memory: DriftMemory
    ) {
        let wanted = desired.routes.at(destinations, by: \.destination)
        var plan = RouteSync.plan(
            desired: wanted, actual: actual, protocol: config.routeProtocol,
            podNetworks: Array(config.podNetworks.values), adopt: config.adoptProtocols)
        plan.conflicts = (conflicts.filter { !destinations.contains($0.desired.destination) } + plan.conflicts)
            .sorted { $0.desired.destination < $1.desired.destination }
        let local = DesiredRoutes(routes: wanted, peers: desired.peers.at(destinations, by: \.subnet))
        self.desired = desired
        self.plan = plan
        findings = memory.classify(desired: local, actual: actual, plan: plan, protocol: config.routeProtocol)
        self.actual = actual
        self.links = links
        routeProtocol = config.routeProtocol
    }

    /// The hostgw routes no lease asks for: a pass deletes them.
    public var unexpected: [Route] { findings.filter { $0.kind == .unexpected }.compactMap(\.actual) }

    /// Every peer's state once the plan's outcome is known.
    /// - Parameters:
    ///   - results: parallel to `plan.changes`; empty when nothing was applied.
    ///   - unapplied: why nothing was applied, when `results` is empty and the plan is not.
    ///   - previous: the last pass's states: a peer's last kernel error carries over while its
    ///     lease is the same and its route is not ok yet.
    public func peers(
        results: [Result<Void, NetlinkError>] = [], unapplied: Unapplied, previous: [PeerStatus] = []
    ) -> [PeerStatus] {
        desired.peers.map(judge(results: results, unapplied: unapplied, previous: previous))
    }

    /// `peers(...)` of the peers at `destinations` alone, in subnet order: what a pass that
    /// judged only those changes in the last pass's peers (`Array.replace(at:with:by:)`).
    func peers(
        at destinations: Set<IPPrefix>, results: [Result<Void, NetlinkError>], unapplied: Unapplied, previous: [PeerStatus]
    ) -> [PeerStatus] {
        desired.peers.at(destinations, by: \.subnet).map(judge(results: results, unapplied: unapplied, previous: previous))
    }

    private func judge(results: [Result<Void, NetlinkError>], unapplied: Unapplied, previous: [PeerStatus]) -> (PeerStatus) -> PeerStatus {
        // Only the last kernel errors carry over (fresh statuses have none), so only peers that
        // have one are indexed: no copy of every peer per pass.
        var carried: [IPPrefix: PeerStatus] = [:]
        for old in previous where (old.lastError != nil || old.lastErrno != nil) && carried[old.subnet] == nil {
            carried[old.subnet] = old
        }
        // Looked up once: a startup with thousands of peers must not scan the plan per peer.
        let (upserts, conflicts) = plan.lookup()
        return { [carried] candidate in
            var peer = candidate
            if let old = carried[peer.subnet], old.leaseKey == peer.leaseKey {
                peer.lastError = old.lastError
                peer.lastErrno = old.lastErrno
            }
            guard peer.state == .pending else { return peer }
            if let conflict = conflicts[peer.subnet] {
                peer.state = .conflict
                peer.reason =
                    "another owner's route overlaps: \(conflict.foreign.map { render($0, links) }.joined(separator: "; ")); hostgw installs nothing over it: remove that route or fix the lease"
                return peer
            }
            guard let index = upserts[peer.subnet] else {
                peer.state = .ok
                peer.reason = nil
                peer.lastError = nil
                peer.lastErrno = nil
                return peer
            }
            let change = plan.changes[index]
            let current = actual.first { $0.protocol == routeProtocol && $0.destination == peer.subnet }
            let unfixed: PeerState = change.kind == .add ? .missing : .changed
            let adopting = change.kind == .replace ? plan.adoptions.first(where: { $0.desired.destination == peer.subnet }) : nil
            let found =
                adopting.map { "the kernel has \(render($0.foreign, links)), to be adopted" }
                ?? current.map { "the kernel has \(render($0, links))" } ?? "no route in the kernel"
            guard index < results.count else {
                peer.state = unfixed
                peer.reason = "\(unapplied.rawValue): \(found), not repaired"
                return peer
            }
            switch results[index] {
            case .success:
                peer.state = .ok
                peer.reason = nil
                peer.lastError = nil
                peer.lastErrno = nil
            case .failure(let error):
                peer.state = unfixed
                peer.reason = "\(change.kind.rawValue) failed with \(error.errno.name); \(found)"
                peer.lastError = error.description
                peer.lastErrno = error.errno
            }
            return peer
        }
    }

    /// The findings as drift events at `time`; one is repaired when the change that puts it
    /// right succeeded (never a conflict: hostgw does not override another owner's route).
    /// - Parameter results: parallel to `plan.changes`; empty when nothing was applied.
    public func driftEvents(results: [Result<Void, NetlinkError>] = [], time: Date) -> [DriftEvent] {
        let succeeded: (RouteChange) -> Bool = { change in
            guard let index = plan.changes.firstIndex(of: change), index < results.count,
                case .success = results[index]
            else { return false }
            return true
        }
        return findings.map { finding in
            let repaired: Bool
            switch finding.kind {
            case .missing, .changed:
                repaired = plan.upsert(for: finding.subnet).map(succeeded) ?? false
            case .unexpected:
                repaired =
                    finding.actual.flatMap { stray in
                        plan.changes.first { $0.kind == .delete && routeMatches($0.route, stray) }
                    }.map(succeeded) ?? false
            case .conflict:
                repaired = false
            }
            let peer = desired.peer(for: finding.subnet)
            return DriftEvent(
                time: time, kind: finding.kind, subnet: finding.subnet, peer: peer?.peerName,
                gateway: peer?.gateway ?? finding.actual?.gateway, expected: finding.expected.map { render($0, links) },
                actual: finding.actual.map { render($0, links) }, repaired: repaired)
        }
    }
}

extension Array {
    /// In an array sorted by `key`, the elements whose key is one of `keys` replaced by
    /// `replacements` (sorted by `key`, each key one of `keys`): in place, so a pass that judged
    /// one peer of 5,000 does not build a new list of them.
    mutating func replace<Key: Comparable & Hashable>(at keys: Set<Key>, with replacements: [Element], by key: (Element) -> Key) {
        var next = replacements.startIndex
        for k in keys.sorted() {
            let start = firstIndex(notBefore: { key($0) < k })
            var end = start
            while end < count, key(self[end]) == k { end += 1 }
            var last = next
            while last < replacements.endIndex, key(replacements[last]) == k { last += 1 }
            replaceSubrange(start..<end, with: replacements[next..<last])
            next = last
        }
    }

    /// The elements whose `key` is one of `keys`, in order; the array is sorted by `key`.
    func at<Key: Comparable & Hashable>(_ keys: Set<Key>, by key: (Element) -> Key) -> [Element] {
        var out: [Element] = []
        for k in keys.sorted() {
            var i = firstIndex(notBefore: { key($0) < k })
            while i < count, key(self[i]) == k {
                out.append(self[i])
                i += 1
            }
        }
        return out
    }
}
