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
    /// Slots the dump found more than one route in: IPv6 keeps one route per device at the same
    /// destination and metric (every interface's `fe80::/64 metric 256`, so every node with a
    /// pod veth has them), and other TOS values or route types land here too. They are read as
    /// dumped; a change to one of these slots leaves the view unknown (the next pass dumps).
    private var shared: [Slot: [Route]] = [:]

    /// From a full dump of the table.
    public init(dump: [Route]) {
        var routes: [Slot: Route] = [:]
        var shared: [Slot: [Route]] = [:]
        routes.reserveCapacity(dump.count)
        for route in dump {
            let slot = Slot(route)
            if shared[slot] != nil {
                shared[slot]!.append(route)
            } else if let first = routes.updateValue(route, forKey: slot) {
                routes[slot] = nil
                shared[slot] = [first, route]
            }
        }
        self.routes = routes
        self.shared = shared
    }

    /// The table's routes, in no particular order.
    public var all: [Route] { Array(routes.values) + shared.values.joined() }

    /// The routes at `destinations`, and every route not of `routeProtocol` (anything another
    /// owner has may block a desired route): what a pass judging those destinations reads.
    func routes(at destinations: Set<IPPrefix>, orNot routeProtocol: RouteProtocol) -> [Route] {
        // A lease event names a destination or two: compared, not hashed, once per route.
        let few = destinations.count <= 8 ? Array(destinations) : nil
        let wanted = { (route: Route) in
            route.protocol != routeProtocol || (few?.contains(route.destination) ?? destinations.contains(route.destination))
        }
        return routes.values.filter(wanted) + shared.values.joined().filter(wanted)
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
            guard case .success = result, shared[Slot(change.route)] == nil else { return false }
            switch change.kind {
            case .add, .replace: routes[Slot(change.route)] = change.route
            case .delete: routes[Slot(change.route)] = nil
            }
        }
        return true
    }
}
