// Flags that several commands share, declared and resolved once: the agent's own commands
// (`run`, `external-sync`) and the ones that ask about it (`status`, `check`, `leave`, ...) must
// mean the same thing by --node-name, --listen, --protocol, --table and --state-dir. Every one
// also reads HOSTGW_<FLAG> and the config-file key of the same name.
import ArgumentParser
import Foundation
import Netlink

/// --node-name and --listen: which node, and where its agent answers.
struct AgentAddressOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The node's name (what its lease carries). Default: the hostname.", valueName: "name"))
    var nodeName: String?

    @Option(help: ArgumentHelp("The agent's loopback address for /healthz, /readyz, /metrics, /status. Default 127.0.0.1:9447.", valueName: "host:port"))
    var listen: String?

    func resolvedNodeName(_ r: SettingsResolver) -> String {
        r.string("node-name", flag: nodeName, default: ProcessInfo.processInfo.hostName)
    }

    func resolvedListen(_ r: SettingsResolver) throws -> (host: String, port: Int) {
        try r.listen(flag: listen)
    }
}

/// --protocol and --table: which kernel routes are hostgw's.
struct RouteMarkOptions: ParsableArguments {
    @Option(help: ArgumentHelp("rtm_protocol marking hostgw's routes (5-255). Default 77 (`hostgw` in rt_protos.d).", valueName: "number"))
    var `protocol`: String?

    @Option(help: ArgumentHelp("Routing table for peer routes. Default 254 (main).", valueName: "id"))
    var table: String?

    func resolved(_ r: SettingsResolver) throws -> (routeProtocol: RouteProtocol, table: UInt32) {
        (try r.routeProtocol(flag: `protocol`), try r.table(flag: table))
    }
}

/// --state-dir: the agent's persistent state (remembered subnet, lease holder id).
struct StateDirOptions: ParsableArguments {
    static let defaultPath = "/var/lib/hostgw"

    @Option(help: ArgumentHelp("The agent's state directory (remembered subnet, lease holder id). Default /var/lib/hostgw.", valueName: "dir"))
    var stateDir: String?

    func resolved(_ r: SettingsResolver) -> String { r.string("state-dir", flag: stateDir, default: Self.defaultPath) }
}
