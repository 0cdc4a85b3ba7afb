// RouteSync's metrics through the swift-metrics API. The factory is injected so tests (which run
// in parallel in one process) each get their own; the agent passes the bootstrapped one.
import NetAddress
import Metrics
import Netlink

/// Metric handles, created once per label set. Owned by the reconciler actor.
struct RouteSyncMetrics {
    private let factory: any MetricsFactory
    private var driftCounters: [DriftKind: Counter] = [:]
    private var peerGauges: [PeerState: Gauge] = [:]
    private var errnoCounters: [String: Counter] = [:]
    private var changeCounters: [RouteChange.Kind: Counter] = [:]
    private var adoptedCounters: [RouteProtocol: Counter] = [:]
    private let routesInstalled: Gauge
    private let reconcileDuration: Timer
    private let lastFullSync: Gauge
    private let deletionsHeld: Gauge
    private let deletionHolds: Counter

    init(factory: any MetricsFactory) {
        self.factory = factory
        routesInstalled = Gauge(label: "hostgw_routes_installed", factory: factory)
        reconcileDuration = Timer(label: "hostgw_reconcile_duration_seconds", factory: factory)
        lastFullSync = Gauge(label: "hostgw_last_full_sync_timestamp_seconds", factory: factory)
        deletionsHeld = Gauge(label: "hostgw_route_deletions_held", factory: factory)
        deletionHolds = Counter(label: "hostgw_route_deletion_holds_total", factory: factory)
        for kind in DriftKind.allCases {
            driftCounters[kind] = Counter(label: "hostgw_drift_events_total", dimensions: [("kind", kind.rawValue)], factory: factory)
        }
        for state in PeerState.allCases {
            peerGauges[state] = Gauge(label: "hostgw_peers", dimensions: [("state", state.rawValue)], factory: factory)
        }
        for op in [RouteChange.Kind.add, .replace, .delete] {
            changeCounters[op] = Counter(label: "hostgw_route_changes_total", dimensions: [("op", op.rawValue)], factory: factory)
        }
    }

    func drift(_ kind: DriftKind) { driftCounters[kind]?.increment() }

    func peers(_ counts: [PeerState: Int]) {
        for state in PeerState.allCases { peerGauges[state]?.record(counts[state] ?? 0) }
    }

    func installed(_ count: Int) { routesInstalled.record(count) }

    func passDuration(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        reconcileDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    func fullSync(at secondsSince1970: Double) { lastFullSync.record(secondsSince1970) }

    func changed(_ op: RouteChange.Kind) { changeCounters[op]?.increment() }

    /// A foreign route replaced by hostgw's, labelled with the protocol it had.
    mutating func adopted(from routeProtocol: RouteProtocol) {
        let counter: Counter
        if let existing = adoptedCounters[routeProtocol] {
            counter = existing
        } else {
            counter = Counter(
                label: "hostgw_routes_adopted_total", dimensions: [("protocol", routeProtocol.description)], factory: factory)
            adoptedCounters[routeProtocol] = counter
        }
        counter.increment()
    }

    /// A mass deletion started a hold (`started`), and how many deletions are held now.
    func deletionHold(held: Int, started: Bool) {
        if started { deletionHolds.increment() }
        deletionsHeld.record(held)
    }

    mutating func netlinkError(_ errno: Errno) {
        let counter: Counter
        if let existing = errnoCounters[errno.name] {
            counter = existing
        } else {
            counter = Counter(label: "hostgw_netlink_errors_total", dimensions: [("errno", errno.name)], factory: factory)
            errnoCounters[errno.name] = counter
        }
        counter.increment()
    }
}
