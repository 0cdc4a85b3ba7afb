// Turns the route list into the document an external host's tooling consumes. Every format
// starts with where the routes came from (store, revision, time), so a stale copy on a database
// host can be recognised; stdout carries only the document, warnings are the caller's to print.
import NetAddress
public import Foundation
public import Netlink
import SubnetLease

/// The output formats of `hostgw routes --for-external --format`.
public enum ExternalRouteFormat: String, Sendable, Hashable, CaseIterable {
    /// A `#!/bin/sh` script of `ip route replace` commands: safe to run again.
    case ip
    /// Input for `ip -batch -`.
    case ipBatch = "ip-batch"
    /// A systemd-networkd `.network` drop-in (`[Route]` sections).
    case networkd
    /// A netplan YAML file.
    case netplan
    /// Ansible vars: `hostgw_external_routes`.
    case ansible
    /// A JSON object for other tooling.
    case json
}

/// Where the routes came from; printed at the top of every document.
public struct ExternalRouteSource: Sendable, Hashable {
    /// Human-readable store location, e.g. `etcd http://10.0.0.1:2379 prefix /coreos.com/network`.
    public var store: String
    /// The store revision the leases were read at.
    public var revision: Int64
    /// When the document was generated (injected so output is reproducible).
    public var generatedAt: Date

    public init(store: String, revision: Int64, generatedAt: Date) {
        self.store = store
        self.revision = revision
        self.generatedAt = generatedAt
    }
}

public struct ExternalRouteRenderOptions: Sendable, Hashable {
    /// The `proto N` marker on `ip` and `ip-batch` routes, so the external host can list and
    /// flush exactly these routes. Printed as a number: the name `hostgw` only resolves where
    /// packaging/rt_protos.d is installed. Nil prints routes without a protocol (`boot`).
    public var routeProtocol: RouteProtocol?
    /// The interface the netplan document attaches the routes to.
    public var interface: String

    public init(routeProtocol: RouteProtocol? = .hostgw, interface: String = "eth0") {
        self.routeProtocol = routeProtocol
        self.interface = interface
    }
}

public struct ExternalRouteRenderer: Sendable {
    public var options: ExternalRouteRenderOptions

    public init(options: ExternalRouteRenderOptions = ExternalRouteRenderOptions()) {
        self.options = options
    }

    /// The complete document, ending in a newline. Routes are printed sorted.
    public func render(
        _ routes: [ExternalRoute], as format: ExternalRouteFormat, source: ExternalRouteSource
    ) throws(ExternalPeersError) -> String {
        let routes = routes.sorted()
        switch format {
        case .ip: return renderIPScript(routes, source: source)
        case .ipBatch: return renderIPBatch(routes, source: source)
        case .networkd: return renderNetworkd(routes, source: source)
        case .netplan:
            try ExternalPeersError.validateInterfaceName(options.interface)
            return renderNetplan(routes, source: source)
        case .ansible: return renderAnsible(routes, source: source)
        case .json: return try renderJSON(routes, source: source)
        }
    }

    // MARK: - ip

    private func renderIPScript(_ routes: [ExternalRoute], source: ExternalRouteSource) -> String {
        var lines = ["#!/bin/sh"]
        lines += header(source, count: routes.count, usage: ipUsage(run: "sh FILE (as root)"))
        lines.append("set -e")
        lines += routes.map { "ip " + routeCommand($0) }
        return lines.joined(separator: "\n") + "\n"
    }

    private func renderIPBatch(_ routes: [ExternalRoute], source: ExternalRouteSource) -> String {
        var lines = header(source, count: routes.count, usage: ipUsage(run: "ip -batch FILE (as root)"))
        lines += routes.map { routeCommand($0) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `replace` creates or updates, so applying the same document twice changes nothing.
    private func routeCommand(_ route: ExternalRoute) -> String {
        var text = "route replace \(route.destination) via \(route.gateway)"
        if let routeProtocol = options.routeProtocol { text += " proto \(routeProtocol.rawValue)" }
        if let node = route.node { text += "  # node: \(Self.commentSafe(node))" }
        return text
    }

    private func ipUsage(run: String) -> [String] {
        var usage = ["apply: \(run); replacing makes a second run change nothing"]
        if let routeProtocol = options.routeProtocol {
            let p = routeProtocol.rawValue
            usage.append("list: ip route show proto \(p); ip -6 route show proto \(p)")
            usage.append("remove: ip route flush proto \(p); ip -6 route flush proto \(p)")
        }
        return usage
    }

    // MARK: - networkd

    private func renderNetworkd(_ routes: [ExternalRoute], source: ExternalRouteSource) -> String {
        var lines = header(source, count: routes.count, usage: [
            "install: /etc/systemd/network/<the link's .network file>.d/hostgw-routes.conf, then networkctl reload",
        ])
        for route in routes {
            lines.append("")
            lines.append("[Route]")
            if let node = route.node { lines.append("# node: \(Self.commentSafe(node))") }
            lines.append("Destination=\(route.destination)")
            lines.append("Gateway=\(route.gateway)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - YAML

    private func renderNetplan(_ routes: [ExternalRoute], source: ExternalRouteSource) -> String {
        var lines = header(source, count: routes.count, usage: [
            "install: /etc/netplan/90-hostgw-routes.yaml (mode 0600), then netplan apply",
        ])
        lines.append("network:")
        lines.append("  version: 2")
        lines.append("  ethernets:")
        lines.append("    \(Self.yamlString(options.interface)):")
        if routes.isEmpty {
            lines.append("      routes: []")
        } else {
            lines.append("      routes:")
            for route in routes {
                lines.append("        - to: \(Self.yamlString(route.destination.description))")
                lines.append("          via: \(Self.yamlString(route.gateway.description))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func renderAnsible(_ routes: [ExternalRoute], source: ExternalRouteSource) -> String {
        var lines = header(source, count: routes.count, usage: [
            "install: a vars file (group_vars/<group>/hostgw.yml) for a role that loops over hostgw_external_routes",
        ])
        if routes.isEmpty {
            lines.append("hostgw_external_routes: []")
        } else {
            lines.append("hostgw_external_routes:")
            for route in routes {
                lines.append("  - dest: \(Self.yamlString(route.destination.description))")
                lines.append("    via: \(Self.yamlString(route.gateway.description))")
                lines.append("    node: \(route.node.map(Self.yamlString) ?? "null")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML double-quoted scalar. Always quoted: IPv6 text starts with ':' at times, and node
    /// names are whatever the store holds.
    static func yamlString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value)
                    || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xfeff
                {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    // MARK: - JSON

    private struct JSONDocument: Encodable {
        struct Route: Encodable {
            var destination: String
            var gateway: String
            var family: String
            var node: String?

            enum CodingKeys: String, CodingKey { case destination, gateway, family, node }

            // Explicit null, so every route object has the same keys.
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(destination, forKey: .destination)
                try c.encode(gateway, forKey: .gateway)
                try c.encode(family, forKey: .family)
                try c.encode(node, forKey: .node)
            }
        }

        var store: String
        var revision: Int64
        var generated: String
        var routes: [Route]
    }

    private func renderJSON(_ routes: [ExternalRoute], source: ExternalRouteSource) throws(ExternalPeersError) -> String {
        let document = JSONDocument(
            store: source.store, revision: source.revision, generated: Self.timestamp(source.generatedAt),
            routes: routes.map {
                .init(destination: $0.destination.description, gateway: $0.gateway.description, family: $0.family.rawValue, node: $0.node)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
        } catch {
            throw .encoding(underlying: error)
        }
    }

    // MARK: - Header

    /// `#` comment lines: every format but JSON accepts them (sh, ip -batch, INI, YAML).
    private func header(_ source: ExternalRouteSource, count: Int, usage: [String]) -> [String] {
        [
            "hostgw external routes: every node's pod subnet via that node. Generated; do not edit.",
            "store: \(source.store)",
            "revision: \(source.revision)",
            "generated: \(Self.timestamp(source.generatedAt))",
            "routes: \(count)",
        ].map { "# " + Self.commentSafe($0) } + usage.map { "# " + Self.commentSafe($0) }
    }

    /// ISO 8601 in UTC with whole seconds: `2025-01-02T03:04:05Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0) ?? .gmt))
    }

    /// One comment line: a newline in a store URL or node name must not end the comment and turn
    /// the rest into a command (the shared escaping of store text, `displaySafe`).
    static func commentSafe(_ text: String) -> String { displaySafe(text, limit: 1024) }
}
