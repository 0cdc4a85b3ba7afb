import NetAddress
import ArgumentParser
import ExternalPeers
import Foundation
import Netlink
import SubnetLease

struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "Print the routes a host outside the cluster needs to reach every node's pods.",
        discussion: """
            Reads the leases from the store (no agent needed) and prints one route per node subnet via \
            that node's IP, sorted and stable, for IPv4 and IPv6. Formats: ip (a shell script of \
            idempotent `ip route replace` lines), ip-batch (input for `ip -batch -`), networkd (a \
            systemd-networkd .network drop-in), netplan (routes YAML), ansible (a vars list), json. \
            Warnings (skipped leases, unreachable nodes) go to stderr; stdout is only the document.
            """)

    @OptionGroup(title: "Store") var storeOptions: StoreOptions

    @Flag(help: "Routes for a host outside the cluster (required: this node's own routes are in `hostgw status`).")
    var forExternal = false

    @Option(
        help: ArgumentHelp("Output format: \(ExternalRouteFormat.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"),
        transform: { text in
            guard let f = ExternalRouteFormat(rawValue: text) else {
                throw ValidationError("unknown format '\(text)': use one of \(ExternalRouteFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return f
        })
    var format: ExternalRouteFormat = .ip

    @Option(help: ArgumentHelp("The external host's address and prefix length (ADDR/LEN): nodes not on-link from it are left out, with a warning.", valueName: "addr/len"))
    var externalIP: String?

    @Option(help: ArgumentHelp("Like --external-ip, with the addresses of this local interface (run on the external host).", valueName: "name"))
    var externalIface: String?

    @Flag(help: "Keep routes via nodes that are not on-link from the external host.")
    var includeUnreachable = false

    @Flag(help: "Print one covering route per family when every subnet shares one gateway (a router).")
    var aggregate = false

    @Option(help: ArgumentHelp("Interface name for the netplan format.", valueName: "name"))
    var interface = "eth0"

    @Option(help: ArgumentHelp("Route protocol on ip/ip-batch routes, so the host can list and flush them. Default 77; 0 for none.", valueName: "number"))
    var `protocol`: UInt8 = RouteProtocol.hostgw.rawValue

    func validate() throws {
        guard forExternal else {
            throw ValidationError("hostgw routes prints routes for hosts outside the cluster: add --for-external (this node's own routes are in `hostgw status`)")
        }
        if externalIP != nil && externalIface != nil {
            throw ValidationError("give --external-ip or --external-iface, not both")
        }
        if let ip = externalIP, InterfaceAddress(externalIP: ip) == nil {
            throw ValidationError("--external-ip '\(ip)' must be an address with its prefix length, e.g. 10.0.0.50/24")
        }
    }

    func run() async throws {
        let (s, _) = try storeOptions.settingsOrExit()
        var hostAddresses: [InterfaceAddress]?
        if let ip = externalIP { hostAddresses = InterfaceAddress(externalIP: ip).map { [$0] } }
        if let name = externalIface {
            do {
                hostAddresses = try await ExternalHostAddresses.addresses(ofInterface: name)
            } catch {
                try fail("--external-iface \(name): \(error)", code: ExitStatus.usage)
            }
        }
        try await withStore(s, access: .readOnly) { store in
            let keys = LeaseKeys(prefix: s.prefix)
            let config = try await store.getConfig(keys: keys)
            let snap = try await store.listLeases(config: config, keys: keys)
            for skipped in snap.skipped {
                FileHandle.standardError.write(Data("hostgw: warning: skipped \(displaySafe(skipped.key)): \(displaySafe(skipped.reason, limit: 1024))\n".utf8))
            }
            let settings = ExternalRoutesSettings(
                format: format,
                render: ExternalRouteRenderOptions(routeProtocol: `protocol` == 0 ? nil : RouteProtocol(`protocol`), interface: interface),
                hostAddresses: hostAddresses, includeUnreachable: includeUnreachable, aggregate: aggregate,
                podNetworks: [config.network, config.ipv6Network].compactMap { $0 }, now: Date())
            let doc = try ExternalRoutesDocument(
                leases: snap.leases, source: ExternalRouteSource(store: s.summary, revision: snap.revision, generatedAt: Date()),
                settings: settings)
            for n in doc.notices { FileHandle.standardError.write(Data("hostgw: warning: \(displaySafe("\(n)", limit: 1024))\n".utf8)) }
            print(doc.text, terminator: doc.text.hasSuffix("\n") ? "" : "\n")
        }
    }
}
