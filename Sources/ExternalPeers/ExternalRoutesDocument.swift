// The whole `hostgw routes --for-external` pipeline in one call, so the CLI only parses flags and
// prints: leases -> routes -> on-link filter -> aggregation -> document, with every note on the way.
public import Foundation
public import NetAddress
public import Netlink
public import SubnetLease

/// Everything the CLI's flags decide.
public struct ExternalRoutesSettings: Sendable, Hashable {
    public var format: ExternalRouteFormat
    public var render: ExternalRouteRenderOptions
    /// `--external-ip` (repeatable) or the addresses of `--external-iface`; nil skips the on-link
    /// check.
    public var hostAddresses: [InterfaceAddress]?
    /// `--include-unreachable`: print routes whose gateway is not on-link from the host anyway.
    public var includeUnreachable: Bool
    /// `--aggregate`.
    public var aggregate: Bool
    /// The configured pod network(s), the preferred covering prefix for `--aggregate`.
    public var podNetworks: [IPPrefix]
    /// Skip leases expired before this time; nil keeps every lease the store returned.
    public var now: Date?

    public init(
        format: ExternalRouteFormat, render: ExternalRouteRenderOptions = ExternalRouteRenderOptions(),
        hostAddresses: [InterfaceAddress]? = nil, includeUnreachable: Bool = false, aggregate: Bool = false,
        podNetworks: [IPPrefix] = [], now: Date? = nil
    ) {
        self.format = format
        self.render = render
        self.hostAddresses = hostAddresses
        self.includeUnreachable = includeUnreachable
        self.aggregate = aggregate
        self.podNetworks = podNetworks
        self.now = now
    }
}

/// Something the operator should read (on stderr): why a lease or route is missing or changed.
public enum ExternalRoutesNotice: Sendable, Hashable, CustomStringConvertible {
    case lease(ExternalRouteWarning)
    /// `included`: printed anyway because of `--include-unreachable`.
    case unreachable(UnreachableRoute, included: Bool)
    case aggregation(AggregationNote)

    public var description: String {
        switch self {
        case .lease(let warning): warning.description
        case .unreachable(let route, let included):
            included ? "route \(route.route) printed although \(route.reason) (--include-unreachable)" : route.description
        case .aggregation(let note): note.description
        }
    }
}

public struct ExternalRoutesDocument: Sendable, Hashable {
    /// For stdout, exactly as rendered.
    public var text: String
    /// The routes in `text`.
    public var routes: [ExternalRoute]
    /// For stderr, in pipeline order.
    public var notices: [ExternalRoutesNotice]

    /// Runs the pipeline. On-link filtering comes before aggregation, so a covering route is only
    /// built from gateways the host can reach.
    public init(leases: [Lease], source: ExternalRouteSource, settings: ExternalRoutesSettings) throws(ExternalPeersError) {
        let set = ExternalRouteSet(leases: leases, now: settings.now)
        var notices = set.warnings.map(ExternalRoutesNotice.lease)
        var routes = set.routes
        if let hostAddresses = settings.hostAddresses {
            let split = OnLinkSplit(routes: routes, hostAddresses: hostAddresses)
            notices += split.unreachable.map { .unreachable($0, included: settings.includeUnreachable) }
            routes = split.routes(includeUnreachable: settings.includeUnreachable)
        }
        if settings.aggregate {
            let aggregated = ExternalRouteSet.aggregate(routes, podNetworks: settings.podNetworks)
            notices += aggregated.notes.map(ExternalRoutesNotice.aggregation)
            routes = aggregated.routes
        }
        self.text = try ExternalRouteRenderer(options: settings.render).render(routes, as: settings.format, source: source)
        self.routes = routes
        self.notices = notices
    }
}
