// Drift: a difference between the kernel and what this agent last installed or observed, caused
// by someone else. Changes the agent made itself (a lease appeared, moved or went away) are not
// drift, so the classifier compares the kernel with the agent's memory, not only with the leases.
public import Foundation
public import NetAddress
public import Netlink

/// One drift, as status, logs and metrics report it.
public struct DriftEvent: Sendable, Hashable, Codable {
    public var time: Date
    public var kind: DriftKind
    public var subnet: IPPrefix
    /// `node-b (10.0.0.3)`: the peer whose route drifted; nil for a route no lease asks for.
    public var peer: String?
    public var gateway: IPAddress?
    /// The route hostgw wants (iproute2-like text); nil for `unexpected`.
    public var expected: String?
    /// The route found; nil for `missing`.
    public var actual: String?
    /// The pass put it right (false in observe-only mode, on a kernel error, and for conflicts,
    /// which hostgw never overrides).
    public var repaired: Bool

    public init(
        time: Date, kind: DriftKind, subnet: IPPrefix, peer: String?, gateway: IPAddress?, expected: String?,
        actual: String?, repaired: Bool
    ) {
        self.time = time
        self.kind = kind
        self.subnet = subnet
        self.peer = peer
        self.gateway = gateway
        self.expected = expected
        self.actual = actual
        self.repaired = repaired
    }
}

/// A drift found by comparing the kernel with the agent's memory, before anything is applied.
public struct DriftFinding: Sendable, Hashable {
    public var kind: DriftKind
    public var subnet: IPPrefix
    public var expected: Route?
    public var actual: Route?

    public init(kind: DriftKind, subnet: IPPrefix, expected: Route?, actual: Route?) {
        self.kind = kind
        self.subnet = subnet
        self.expected = expected
        self.actual = actual
    }
}

/// What the agent last left in (or saw in) the kernel. Starts empty: after a restart nothing is
/// drift until seen once, except hostgw routes no lease asks for.
public struct DriftMemory: Sendable, Hashable {
    /// hostgw's routes by destination, as they stood after the last pass.
    public var routes: [IPPrefix: Route]
    /// Conflicts already reported, as (desired subnet, foreign prefix): reported once, again only
    /// after they went away and came back.
    public var conflicts: Set<ConflictKey>

    public struct ConflictKey: Sendable, Hashable {
        public var subnet: IPPrefix
        public var foreign: IPPrefix
        public init(subnet: IPPrefix, foreign: IPPrefix) {
            self.subnet = subnet
            self.foreign = foreign
        }
    }

    public init(routes: [IPPrefix: Route] = [:], conflicts: Set<ConflictKey> = []) {
        self.routes = routes
        self.conflicts = conflicts
    }

    /// Compares the kernel (`actual`, every protocol) with this memory.
    public func classify(
        desired: DesiredRoutes, actual: [Route], plan: RoutePlan, protocol routeProtocol: RouteProtocol
    ) -> [DriftFinding] {
        var ours: [IPPrefix: [Route]] = [:]
        for route in actual where route.protocol == routeProtocol { ours[route.destination, default: []].append(route) }
        let blocked = Set(plan.conflicts.map(\.desired.destination))
        let leased = Set(desired.peers.map(\.subnet))
        var findings: [DriftFinding] = []

        for want in desired.routes where !blocked.contains(want.destination) {
            guard let known = routes[want.destination] else { continue }
            let present = ours[want.destination] ?? []
            if present.isEmpty {
                findings.append(DriftFinding(kind: .missing, subnet: want.destination, expected: want, actual: nil))
            } else if !present.contains(where: { routeMatches($0, known) || routeMatches($0, want) }) {
                findings.append(DriftFinding(kind: .changed, subnet: want.destination, expected: want, actual: present.first))
            }
        }
        for (destination, present) in ours where !leased.contains(destination) && routes[destination] == nil {
            for route in present {
                findings.append(DriftFinding(kind: .unexpected, subnet: destination, expected: nil, actual: route))
            }
        }
        for conflict in plan.conflicts {
            for route in conflict.foreign
            where !conflicts.contains(ConflictKey(subnet: conflict.desired.destination, foreign: route.destination)) {
                findings.append(
                    DriftFinding(kind: .conflict, subnet: conflict.desired.destination, expected: conflict.desired, actual: route))
            }
        }
        return findings.sorted { ($0.subnet, $0.kind.rawValue) < ($1.subnet, $1.kind.rawValue) }
    }

    /// The memory after a pass: the kernel as dumped, with the changes that succeeded applied
    /// (and deletes of routes the kernel no longer had).
    /// `results` is parallel to `plan.changes`; pass an empty array when nothing was applied.
    public func updated(
        actual: [Route], plan: RoutePlan, results: [Result<Void, NetlinkError>], protocol routeProtocol: RouteProtocol
    ) -> DriftMemory {
        var next = self
        next.update(actual: actual, plan: plan, results: results, protocol: routeProtocol, at: nil)
        return next
    }

    /// `updated` for a pass that judged only `destinations` (nil: all), `actual` holding the
    /// table's routes there: the memory elsewhere stays as it is. Changed in place: at 5,000
    /// routes a copy of the memory per lease event was a twentieth of the agent's CPU per update.
    mutating func update(
        actual: [Route], plan: RoutePlan, results: [Result<Void, NetlinkError>], protocol routeProtocol: RouteProtocol,
        at destinations: Set<IPPrefix>?
    ) {
        // What was remembered where this pass judged: taken out, and put back from the kernel.
        var known: [IPPrefix: Route] = [:]
        if let destinations {
            for destination in destinations { known[destination] = routes.removeValue(forKey: destination) }
        } else {
            known = routes
            routes = [:]
            routes.reserveCapacity(max(known.count, plan.changes.count))
        }
        for route in actual where route.protocol == routeProtocol && destinations?.contains(route.destination) != false {
            // Keep the one we remember when several share a prefix, so a stray second route at
            // another metric does not mask ours.
            if let held = routes[route.destination], let was = known[route.destination], routeMatches(held, was) { continue }
            routes[route.destination] = route
        }
        for (change, result) in zip(plan.changes, results) {
            if case .failure(let error) = result {
                // ESRCH on a delete: the kernel holds no such route (it went with a link or an
                // address after the dump). Remembering it would report "missing" drift later.
                guard change.kind == .delete, error.errno == .ESRCH else { continue }
            }
            switch change.kind {
            case .add, .replace: routes[change.route.destination] = change.route
            case .delete:
                if let held = routes[change.route.destination], routeMatches(held, change.route) {
                    routes[change.route.destination] = nil
                }
            }
        }
        conflicts = Set(plan.conflicts.flatMap { c in c.foreign.map { ConflictKey(subnet: c.desired.destination, foreign: $0.destination) } })
    }
}
