import NetAddress
import ArgumentParser
import Foundation
import Netlink

/// What `status`, `check` and `leave` need to know about the node beyond the store: which node,
/// where its agent listens, and how its routes are marked. Same names, environment variables and
/// config-file keys as `hostgw run`.
struct NodeQueryOptions: ParsableArguments {
    @OptionGroup var agent: AgentAddressOptions
    @OptionGroup var routes: RouteMarkOptions
    @OptionGroup var state: StateDirOptions
}

struct NodeQuery: Sendable {
    var nodeName: String
    var listenHost: String
    var listenPort: Int
    var routeProtocol: RouteProtocol
    var table: UInt32
    var stateDir: String
    /// `adopt-protocol` from the environment or the config file, as `hostgw run` reads it (no
    /// flag here): offline status judges a flanneld route the agent would adopt as it would.
    var adoptProtocols: Set<RouteProtocol>

    init(_ o: NodeQueryOptions, _ r: SettingsResolver) throws {
        nodeName = o.agent.resolvedNodeName(r)
        (listenHost, listenPort) = try o.agent.resolvedListen(r)
        (routeProtocol, table) = try o.routes.resolved(r)
        stateDir = o.state.resolved(r)
        adoptProtocols = try r.adoptProtocols(flag: nil, own: routeProtocol)
    }

    var statusURL: String {
        let host = listenHost.contains(":") ? "[\(listenHost)]" : listenHost
        return "http://\(host):\(listenPort)/status"
    }
}
