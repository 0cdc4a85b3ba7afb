// The reconcile decision: (desired, actual) -> the fewest changes that make hostgw's routes equal
// to the desired ones. Pure. Only routes carrying hostgw's marker are ever changed; another
// owner's route that overlaps a desired subnet is a conflict and blocks that route, unless the
// operator named its protocol for adoption and it is the desired route in every field but the
// protocol (flanneld's routes on a node moving to hostgw): that one is replaced in place.
public import NetAddress
public import Netlink

/// A foreign route hostgw takes over: one replace turns `foreign` into `desired` in place (the
/// kernel selects the route to replace by table, destination, tos and metric, not by protocol),
/// so the destination is never without a route.
public struct RouteAdoption: Sendable, Hashable, CustomStringConvertible {
    public var desired: Route
    public var foreign: Route

    public init(desired: Route, foreign: Route) {
        self.desired = desired
        self.foreign = foreign
    }

    public var description: String { "\(desired.destination) adopted from protocol \(foreign.protocol)" }
}

/// A desired route blocked by routes of another owner.
public struct RouteConflict: Sendable, Hashable, CustomStringConvertible {
    public var desired: Route
    /// The foreign routes overlapping `desired.destination`, in dump order.
    public var foreign: [Route]

    public init(desired: Route, foreign: [Route]) {
        self.desired = desired
        self.foreign = foreign
    }

    public var description: String {
        "\(desired.destination) overlaps \(foreign.map(\.description).joined(separator: "; "))"
    }
}

/// What one pass will do.
public struct RoutePlan: Sendable, Hashable {
    /// Deletes first (they free prefixes), then replaces, then adds; each group by destination.
    public var changes: [RouteChange]
    public var conflicts: [RouteConflict]
    /// Foreign routes whose replace is in `changes` (each as `RouteChange(.replace, desired)`).
    public var adoptions: [RouteAdoption]

    public init(changes: [RouteChange] = [], conflicts: [RouteConflict] = [], adoptions: [RouteAdoption] = []) {
        self.changes = changes
        self.conflicts = conflicts
        self.adoptions = adoptions
    }

    public var isEmpty: Bool { changes.isEmpty }

    /// The change touching `destination`'s desired route (add or replace), if any.
    public func upsert(for destination: IPPrefix) -> RouteChange? {
        changes.first { $0.kind != .delete && $0.route.destination == destination }
    }

    public func conflict(for destination: IPPrefix) -> RouteConflict? {
        conflicts.first { $0.desired.destination == destination }
    }

    /// `upsert(for:)` and `conflict(for:)` for every destination at once, the upsert as its
    /// position in `changes`: for callers that ask about each of thousands of peers.
    public func lookup() -> (upserts: [IPPrefix: Int], conflicts: [IPPrefix: RouteConflict]) {
        var upserts: [IPPrefix: Int] = [:]
        upserts.reserveCapacity(changes.count)
        for (index, change) in changes.enumerated() where change.kind != .delete && upserts[change.route.destination] == nil {
            upserts[change.route.destination] = index
        }
        var byDestination: [IPPrefix: RouteConflict] = [:]
        for conflict in conflicts where byDestination[conflict.desired.destination] == nil {
            byDestination[conflict.desired.destination] = conflict
        }
        return (upserts, byDestination)
    }
}

/// The changes that turn `actual` into `desired` for routes marked `protocol`.
///
/// - Parameters:
///   - desired: at most one route per destination, all carrying `protocol`.
///   - actual: every route of hostgw's table, whatever its protocol, so conflicts are seen.
///   - podNetworks: a foreign route strictly inside a pod network that contains a desired
///     subnet is a conflict too (ours would shadow part of it); routes covering a whole pod
///     network or more (default, aggregates) are what peer routes are meant to refine.
///   - adopt: foreign protocols hostgw may take routes over from (`--adopt-protocol boot`). A
///     foreign route of one of them that is the only route blocking a desired one and equals it
///     in every field but the protocol is adopted; any other foreign route stays a conflict.
public func plan(
    desired: [Route], actual: [Route], protocol routeProtocol: RouteProtocol, podNetworks: [IPPrefix] = [],
    adopt: Set<RouteProtocol> = []
) -> RoutePlan {
    let ours = actual.filter { $0.protocol == routeProtocol }
    let foreign = actual.filter { $0.protocol != routeProtocol }
    var oursByDestination: [IPPrefix: [Route]] = [:]
    for route in ours { oursByDestination[route.destination, default: []].append(route) }

    let overlapping = OverlapIndex(foreign, lengths: Set(desired.map(\.destination.length)), podNetworks: podNetworks)

    var deletes: [RouteChange] = []
    var replaces: [RouteChange] = []
    var adds: [RouteChange] = []
    var conflicts: [RouteConflict] = []
    var adoptions: [RouteAdoption] = []
    var handled: Set<IPPrefix> = []

    for want in desired {
        handled.insert(want.destination)
        let existing = oursByDestination[want.destination] ?? []
        let blocking = overlapping.routes(overlapping: want.destination)
            .filter { isConflicting(foreign: $0.destination, with: want.destination, podNetworks: podNetworks) }
        if blocking.count == 1, let foreign = blocking.first, isAdoptable(foreign, as: want, adopt: adopt) {
            adoptions.append(RouteAdoption(desired: want, foreign: foreign))
            replaces.append(RouteChange(.replace, want))
            // A route of ours at that prefix is a stray beside the foreign one (another metric, or an
            // appended alias): it goes, and the destination keeps the foreign route until the replace.
            deletes += existing.map { RouteChange(.delete, $0) }
            continue
        }
        if !blocking.isEmpty {
            conflicts.append(RouteConflict(desired: want, foreign: blocking))
            // Ours at that prefix would shadow or be shadowed by another owner's route: remove it.
            deletes += existing.map { RouteChange(.delete, $0) }
            continue
        }
        // The kernel keys a route by (table, destination, tos, metric): a route of ours at another
        // metric is a second route that replace cannot reach, so it goes.
        let sameSlot = existing.filter { sameMetric($0, want) }
        deletes += existing.filter { !sameMetric($0, want) }.map { RouteChange(.delete, $0) }
        if let current = sameSlot.first {
            if !routeMatches(current, want) { replaces.append(RouteChange(.replace, want)) }
            deletes += sameSlot.dropFirst().map { RouteChange(.delete, $0) }
        } else {
            adds.append(RouteChange(.add, want))
        }
    }
    for (destination, routes) in oursByDestination where !handled.contains(destination) {
        deletes += routes.map { RouteChange(.delete, $0) }
    }

    let byDestination: (RouteChange, RouteChange) -> Bool = {
        ($0.route.destination, $0.route.priority ?? 0) < ($1.route.destination, $1.route.priority ?? 0)
    }
    return RoutePlan(
        changes: deletes.sorted(by: byDestination) + replaces.sorted(by: byDestination) + adds.sorted(by: byDestination),
        conflicts: conflicts.sorted { $0.desired.destination < $1.desired.destination },
        adoptions: adoptions.sorted { $0.desired.destination < $1.desired.destination })
}

/// True when `foreign` carries an adoptable protocol and is `want` in every other field, so
/// replacing it changes the owner and nothing about where traffic goes.
func isAdoptable(_ foreign: Route, as want: Route, adopt: Set<RouteProtocol>) -> Bool {
    guard adopt.contains(foreign.protocol), foreign.protocol != want.protocol else { return false }
    var relabelled = foreign
    relabelled.protocol = want.protocol
    return routeMatches(relabelled, want)
}

/// Foreign routes looked up by the desired subnet they could overlap, so a pass costs
/// O(desired + foreign) rather than their product (thousands of peers, big tables).
struct OverlapIndex {
    /// Routes at or inside a prefix of one of the desired lengths, keyed by that prefix.
    private var inside: [Int: [IPPrefix: [(Int, Route)]]] = [:]
    /// Routes wider than some desired length; few (aggregates, defaults).
    private var wider: [(Int, Route)] = []

    init(_ routes: [Route], lengths: Set<Int>, podNetworks: [IPPrefix]) {
        let widest = lengths.max() ?? 0
        for (order, route) in routes.enumerated() {
            // Outside every pod network, a route cannot touch a peer's subnet.
            if !podNetworks.isEmpty && !podNetworks.contains(where: { $0.overlaps(route.destination) }) { continue }
            for length in lengths where route.destination.length >= length {
                if let key = IPPrefix(address: route.destination.address, length: length) {
                    inside[length, default: [:]][key, default: []].append((order, route))
                }
            }
            if route.destination.length < widest { wider.append((order, route)) }
        }
    }

    /// Candidates overlapping `subnet`, in their original order.
    func routes(overlapping subnet: IPPrefix) -> [Route] {
        let within = inside[subnet.length]?[subnet] ?? []
        let around = wider.filter { $0.1.destination.length < subnet.length && $0.1.destination.overlaps(subnet) }
        return (within + around).sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// A foreign route conflicts when it takes traffic of the subnet (equal or more specific), or
/// when it is a partial route inside the pod network that ours would shadow.
func isConflicting(foreign: IPPrefix, with subnet: IPPrefix, podNetworks: [IPPrefix]) -> Bool {
    guard foreign.overlaps(subnet) else { return false }
    if subnet.contains(foreign) { return true }
    return podNetworks.contains { $0.contains(foreign) && $0.length < foreign.length }
}

/// The metric the kernel reports when none was given: 0 for IPv4, 1024 for IPv6.
func effectiveMetric(_ route: Route) -> UInt32 {
    route.priority ?? (route.family == .v6 ? 1024 : 0)
}

func sameMetric(_ a: Route, _ b: Route) -> Bool { effectiveMetric(a) == effectiveMetric(b) }

/// True when `actual` is `expected` in every field hostgw sets or must keep unset.
public func routeMatches(_ actual: Route, _ expected: Route) -> Bool {
    actual.destination == expected.destination && actual.gateway == expected.gateway
        && actual.outputInterface == expected.outputInterface && actual.table == expected.table
        && actual.protocol == expected.protocol && actual.scope == expected.scope && actual.type == expected.type
        && actual.onLink == expected.onLink && sameMetric(actual, expected) && actual.mtu == expected.mtu
        && actual.preferredSource == expected.preferredSource
}
