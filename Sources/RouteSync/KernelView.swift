// What the reconciler knows of its table between dumps: the last full dump plus the changes it
// applied since, each where the kernel put it. A lease pass plans against it instead of dumping
// the table again (at 5,000 peers a dump is most of a pass's cost); every other trigger, a
// failed change and a netlink overrun go back to a full dump, so drift detection stays exactly
// as strong: a change made by anyone else arrives as a kernel event, and that pass dumps.
import NetAddress
public import Netlink

/// The kernel's routes of one table as the reconciler last saw them, kept current by its own
/// changes. Pure: no kernel access.
public struct KernelView: Sendable {
    /// Where the kernel files a route: a replace selects by destination, TOS and metric, not by
    /// gateway or protocol (hostgw sets no TOS). A missing metric is the family's default.
    struct Slot: Hashable {
        var destination: IPPrefix
        var metric: UInt32

        init(_ route: Route) {
            destination = route.destination
            metric = route.priority ?? (route.family == .v6 ? 1024 : 0)
        }
    }

    private var routes: [Slot: Route]

    /// From a full dump of the table; nil when two routes share a slot (another TOS, a route
    /// type hostgw does not model): such a table is always dumped.
    public init?(dump: [Route]) {
        var routes: [Slot: Route] = [:]
        routes.reserveCapacity(dump.count)
        for route in dump {
            guard routes.updateValue(route, forKey: Slot(route)) == nil else { return nil }
        }
        self.routes = routes
    }

    /// The table's routes, in no particular order.
    public var all: [Route] { Array(routes.values) }

    /// The routes at `destinations`, and every route not of `routeProtocol` (anything another
    /// owner has may block a desired route): what a pass judging those destinations reads.
    func routes(at destinations: Set<IPPrefix>, orNot routeProtocol: RouteProtocol) -> [Route] {
        routes.values.filter { $0.protocol != routeProtocol || destinations.contains($0.destination) }
    }

    /// After `changes` went to the kernel with `results` (parallel): nil when any failed, since
    /// the kernel's state is then not known and the next pass must dump.
    public func applying(_ changes: [RouteChange], results: [Result<Void, NetlinkError>]) -> KernelView? {
        var next = self
        return next.apply(changes, results: results) ? next : nil
    }

    /// `applying` in place; false (and this view no longer the kernel's) when any change failed.
    mutating func apply(_ changes: [RouteChange], results: [Result<Void, NetlinkError>]) -> Bool {
        guard results.count == changes.count else { return changes.isEmpty }
        for (change, result) in zip(changes, results) {
            guard case .success = result else { return false }
            switch change.kind {
            case .add, .replace: routes[Slot(change.route)] = change.route
            case .delete: routes[Slot(change.route)] = nil
            }
        }
        return true
    }
}
