// `hostgw status --cluster`: every node of the store on one screen, with what it publishes about
// itself (agent version, MTU, conditions) and what this node sees of it (its route's state and,
// with the agent running, whether it is reachable). Where the cluster is broken, in one look.
import Foundation
import NetAddress
import RouteSync
import SubnetLease

struct ClusterStatusReport: Codable, Sendable {
    struct Node: Codable, Sendable {
        var node: String?
        var leaseKey: String
        var subnet: IPPrefix?
        var ipv6Subnet: IPPrefix?
        var publicIP: String?
        var publicIPv6: String?
        var agentVersion: String?
        /// What the node publishes: its link MTU and pod gateway, its own datapath conditions.
        var mtu: UInt32?
        var podGateway: String?
        var conditions: [PublishedCondition]
        /// True for the node this report was made on.
        var thisNode: Bool
        var reservation: Bool
        /// This node's route toward it, per family (`ok`, `missing`, ...); absent for this node.
        var routes: [String: PeerState]?
        /// Whether this node reaches it (`reachable`, `unreachable`, `unknown`), with why; absent
        /// when the agent is not running (only the agent measures).
        var reachability: String?
        var reachabilityReason: String?
    }

    var generatedAt: Date
    /// The node this report was made on.
    var node: String
    var agentRunning: Bool
    var store: String
    var nodes: [Node]
    var notes: [String]

    func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }

    /// Every lease of the snapshot, joined with this node's own report (route states, reachability).
    static func make(snapshot: LeaseSnapshot, local: NodeStatusReport, store: String, now: Date = Date()) -> ClusterStatusReport {
        let peers = Dictionary(grouping: local.routeSync.peers, by: \.leaseKey)
        let ownSubnets = Set([local.lease?.subnet, local.lease?.ipv6Subnet].compactMap { $0 })
        var nodes: [Node] = []
        for lease in snapshot.leases {
            let a = lease.attributes
            let mine = !ownSubnets.isEmpty && [lease.subnet, lease.ipv6Subnet].compactMap { $0 }.allSatisfy(ownSubnets.contains)
            let routes = peers[lease.key].map { list in
                Dictionary(list.map { ($0.family.rawValue, $0.state) }, uniquingKeysWith: { a, _ in a })
            }
            let measured = peers[lease.key]?.compactMap(\.reachability) ?? []
            let worst = measured.first { $0.state == .unreachable } ?? measured.first { $0.state == .reachable } ?? measured.first
            nodes.append(
                Node(
                    node: a.nodeName, leaseKey: lease.key, subnet: lease.subnet, ipv6Subnet: lease.ipv6Subnet,
                    publicIP: a.publicIP?.description, publicIPv6: a.publicIPv6?.description, agentVersion: a.agentVersion,
                    mtu: a.published.mtu, podGateway: (a.published.podGateway?.description ?? a.published.podGatewayV6?.description),
                    conditions: a.published.conditions, thisNode: mine, reservation: lease.isReservation,
                    routes: mine ? nil : routes, reachability: mine ? nil : worst?.state.rawValue, reachabilityReason: mine ? nil : worst?.reason))
        }
        nodes.sort { ($0.subnet ?? $0.ipv6Subnet).map(\.description) ?? $0.leaseKey < ($1.subnet ?? $1.ipv6Subnet).map(\.description) ?? $1.leaseKey }
        var notes: [String] = []
        if !local.agentRunning { notes.append("the agent is not running on this node: route states are computed from the kernel, reachability is not measured") }
        if !snapshot.skipped.isEmpty { notes.append("\(snapshot.skipped.count) store entr(ies) are not valid leases (see hostgw leases)") }
        return ClusterStatusReport(generatedAt: now, node: local.node, agentRunning: local.agentRunning, store: store, nodes: nodes, notes: notes)
    }
}

/// The table of `hostgw status --cluster`.
func renderCluster(_ r: ClusterStatusReport) -> String {
    var out: [String] = []
    let header = ["NODE", "SUBNET", "IP", "VERSION", "MTU", "ROUTE", "REACH", "CONDITIONS"]
    let rows = r.nodes.map { n in
        let name = (n.node ?? "(flanneld)") + (n.thisNode ? " *" : "")
        let subnets = [n.subnet?.description, n.ipv6Subnet?.description].compactMap { $0 }.joined(separator: " ")
        let ips = [n.publicIP, n.publicIPv6].compactMap { $0 }.joined(separator: " ")
        let route: String
        if n.thisNode {
            route = "(this node)"
        } else if let routes = n.routes, !routes.isEmpty {
            let states = Set(routes.values)
            route = states.count == 1 ? states.first!.rawValue : routes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" }.joined(separator: ", ")
        } else {
            route = "-"
        }
        var reach = n.thisNode ? "-" : (n.reachability.map { $0 == "unreachable" ? "UNREACHABLE" : $0 } ?? "-")
        if let why = n.reachabilityReason, n.reachability == "unreachable" { reach += " (\(why))" }
        let conditions = n.conditions.isEmpty ? "-" : n.conditions.map { c in c.severity == .critical ? c.name.uppercased() : c.name }.joined(separator: ", ")
        return [name, subnets.isEmpty ? "-" : subnets, ips.isEmpty ? "-" : ips, n.agentVersion ?? "-", n.mtu.map(String.init) ?? "-", route, reach, conditions]
    }
    out.append(contentsOf: table(header, rows.isEmpty ? [["(no leases)", "", "", "", "", "", "", ""]] : rows))
    out.append("")
    let broken = r.nodes.filter { n in
        !n.conditions.isEmpty || n.reachability == "unreachable" || (n.routes?.values.contains { $0 != .ok } ?? false)
    }
    out.append("\(r.nodes.count) node(s) in \(r.store), seen from \(r.node) (*); \(broken.isEmpty ? "none shows a problem" : "\(broken.count) with a problem")")
    for n in r.notes { out.append("note: \(n)") }
    return out.map { displaySafe($0, limit: 4096) }.joined(separator: "\n") + "\n"
}
