// `--aggregate`: when every subnet of a family sits behind one gateway (a router in front of the
// cluster), the external host needs one covering route instead of one per node. Families whose
// routes use several gateways stay per subnet: a covering route could only pick one of them.
public import NetAddress
import Netlink

/// What `--aggregate` did per family, for the CLI to report on stderr.
public enum AggregationNote: Sendable, Hashable, CustomStringConvertible {
    /// `count` routes became `route`.
    case aggregated(family: IPFamily, count: Int, route: ExternalRoute)
    /// The family's routes use several gateways; they are printed one per subnet.
    case severalGateways(family: IPFamily, gateways: [IPAddress])
    /// The pod network passed in does not cover every subnet, so the smallest covering prefix
    /// was used instead.
    case podNetworkDoesNotCover(podNetwork: IPPrefix, subnet: IPPrefix)
    /// The only covering prefix is the whole address space: printing it would replace the
    /// external host's default route, so the routes stay per subnet.
    case coversEverything(family: IPFamily)

    public var description: String {
        switch self {
        case .aggregated(let family, let count, let route):
            "aggregated \(count) \(family) route(s) into \(route.destination) via \(route.gateway)"
        case .severalGateways(let family, let gateways):
            "not aggregating \(family): its routes use \(gateways.count) gateways (\(gateways.map(\.description).joined(separator: ", "))); "
                + "aggregation needs one router in front of every node"
        case .podNetworkDoesNotCover(let podNetwork, let subnet):
            "pod network \(podNetwork) does not contain lease subnet \(subnet); using the smallest covering prefix. "
                + "Check the Network in the store's config"
        case .coversEverything(let family):
            "not aggregating \(family): the subnets only fit in /0, which would replace the default route"
        }
    }
}

public struct AggregatedRoutes: Sendable, Hashable {
    public var routes: [ExternalRoute]
    public var notes: [AggregationNote]

    public init(routes: [ExternalRoute], notes: [AggregationNote]) {
        self.routes = routes
        self.notes = notes
    }
}

extension ExternalRouteSet {
    /// The routes with each single-gateway family collapsed into one covering route.
    ///
    /// - Parameter podNetworks: the configured pod network(s) (net-conf `Network`/`IPv6Network`);
    ///   used as the covering prefix of their family when they contain every subnet of it.
    public func aggregated(podNetworks: [IPPrefix] = []) -> AggregatedRoutes {
        Self.aggregate(routes, podNetworks: podNetworks)
    }

    public static func aggregate(_ routes: [ExternalRoute], podNetworks: [IPPrefix] = []) -> AggregatedRoutes {
        var result: [ExternalRoute] = []
        var notes: [AggregationNote] = []
        for family in IPFamily.allCases {
            let members = routes.filter { $0.family == family }
            guard let first = members.first else { continue }
            let gateways = Set(members.map(\.gateway)).sorted()
            guard gateways.count == 1 else {
                notes.append(.severalGateways(family: family, gateways: gateways))
                result += members
                continue
            }
            var cover: IPPrefix?
            if let pod = podNetworks.first(where: { $0.family == family }) {
                if let outside = members.first(where: { !pod.contains($0.destination) }) {
                    notes.append(.podNetworkDoesNotCover(podNetwork: pod, subnet: outside.destination))
                } else {
                    cover = pod
                }
            }
            let covering = cover ?? smallestCoveringPrefix(members.map(\.destination))
            guard let covering, covering.length > 0 else {
                notes.append(.coversEverything(family: family))
                result += members
                continue
            }
            // A lone route keeps its node; an aggregate stands for many nodes, so it names none.
            let route = ExternalRoute(destination: covering, gateway: first.gateway, node: members.count == 1 && covering == first.destination ? first.node : nil)
            notes.append(.aggregated(family: family, count: members.count, route: route))
            result.append(route)
        }
        return AggregatedRoutes(routes: result.sorted(), notes: notes)
    }

    /// The longest prefix containing every one of `prefixes` (all of one family); nil when empty
    /// or mixed families.
    public static func smallestCoveringPrefix(_ prefixes: [IPPrefix]) -> IPPrefix? {
        guard var cover = prefixes.first else { return nil }
        for prefix in prefixes.dropFirst() {
            guard prefix.family == cover.family else { return nil }
            var length = min(cover.length, prefix.length)
            while length > 0, !(IPPrefix(address: cover.address, length: length).map { $0.contains(prefix) } ?? false) {
                length -= 1
            }
            guard let widened = IPPrefix(address: cover.address, length: length) else { return nil }
            cover = widened
        }
        return cover
    }
}
