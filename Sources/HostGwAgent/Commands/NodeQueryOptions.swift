import NetAddress
import ArgumentParser
import Foundation
import Netlink

/// What `status`, `check` and `leave` need to know about the node beyond the store: which node,
/// where its agent listens, and how its routes are marked. Same names, environment variables and
/// config-file keys as `hostgw run`.
struct NodeQueryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The node to report on. Default: the hostname.", valueName: "name"))
    var nodeName: String?

    @Option(help: ArgumentHelp("Where the agent's HTTP listener is. Default 127.0.0.1:9447.", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("Route protocol of hostgw's routes. Default 77.", valueName: "number"))
    var `protocol`: String?

    @Option(help: ArgumentHelp("Routing table of peer routes. Default 254 (main).", valueName: "id"))
    var table: String?

    @Option(help: ArgumentHelp("The agent's state directory (for leave). Default /var/lib/hostgw.", valueName: "dir"))
    var stateDir: String?
}

struct NodeQuery: Sendable {
    var nodeName: String
    var listenHost: String
    var listenPort: Int
    var routeProtocol: RouteProtocol
    var table: UInt32
    var stateDir: String

    init(_ o: NodeQueryOptions, _ r: SettingsResolver) throws {
        nodeName = r.string("node-name", flag: o.nodeName, default: ProcessInfo.processInfo.hostName)
        (listenHost, listenPort) = try r.listen(flag: o.listen)
        routeProtocol = try r.routeProtocol(flag: o.protocol)
        table = try r.table(flag: o.table)
        stateDir = r.string("state-dir", flag: o.stateDir, default: "/var/lib/hostgw")
    }

    var statusURL: String {
        let host = listenHost.contains(":") ? "[\(listenHost)]" : listenHost
        return "http://\(host):\(listenPort)/status"
    }
}
