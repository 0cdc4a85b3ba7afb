// The document behind `hostgw status`, `/status` and `hostgw check`: what this node leased, the
// store's health, every peer and its route state, recent drift. The JSON field names are an
// interface for scripts: add fields, never rename one.
import Foundation
import SubnetLease
import NetAddress
import Netlink
import RouteSync
import SubnetLease

struct NodeStatusReport: Codable, Sendable {
    struct LeaseReport: Codable, Sendable {
        var subnet: IPPrefix?
        var ipv6Subnet: IPPrefix?
        var expiration: Date?
        var reservation: Bool
        var lastRenewal: Date?
        var renewalFailures: Int
        var lastError: String?
        /// This machine's holder id (`<state-dir>/holder-id`, machine id), as recorded in the lease.
        var holder: String?
        /// Repairs of the own key since start, by kind (recreated, restored, yielded).
        var repairs: [String: Int]?
        var lastRepair: RepairReport?
        /// Other machines holding a lease under this node's name.
        var nameClashes: [String]?
    }

    struct RepairReport: Codable, Sendable {
        var time: Date
        var kind: String
        var found: String
    }

    struct StoreReport: Codable, Sendable {
        var backend: String
        var reachable: Bool
        var unreachableSince: Date?
        var lastError: String?
        var invalidEntries: Int?
        /// The etcd member (or embedded file) the lease watch reads from, and when it last heard
        /// from it (a message, or an answered idle check); absent when the agent is not running.
        var watchMember: String?
        var watchLastHeard: Date?
    }

    var generatedAt: Date
    var node: String
    /// False when `hostgw status` had to read the store and the kernel itself.
    var agentRunning: Bool
    var agentVersion: String?
    var interface: String?
    var publicIP: String?
    var publicIPv6: String?
    var lease: LeaseReport?
    var store: StoreReport
    var ready: Bool?
    /// Why /healthz fails, one line each; empty when healthy.
    var healthProblems: [String]
    var routeSync: RouteSyncStatus
    /// Things an operator should know that fit nowhere else (observe-only, a deletion hold...).
    var notes: [String]
    /// Forwarding settings, forward-path filter chains and the conditions found in them; absent
    /// when the agent is not running or has no interface yet (and for external-sync).
    var datapath: DatapathReport? = nil
}

extension NodeStatusReport {
    func jsonData(pretty: Bool = true) throws -> Data {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }

    static func decode(_ data: Data) throws -> NodeStatusReport {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return try d.decode(NodeStatusReport.self, from: data)
    }

    var badPeers: [PeerStatus] { routeSync.peers.filter { $0.state != .ok } }

    func recentDrift(within window: Duration, now: Date) -> [DriftEvent] {
        routeSync.recentDrift.filter { now.timeIntervalSince($0.time) <= window.seconds }
    }
}

/// `2h 5m`, `45s`, `3d 4h`: a coarse, readable span.
func humanSpan(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if abs(s) < 60 { return "\(s)s" }
    if abs(s) < 3600 { return "\(s / 60)m \(abs(s) % 60)s" }
    if abs(s) < 86400 { return "\(s / 3600)h \(abs(s) % 3600 / 60)m" }
    return "\(s / 86400)d \(abs(s) % 86400 / 3600)h"
}

/// `2026-12-03T09:11:20Z` (RFC 3339 in UTC, whole seconds): the one spelling of a time in logs,
/// status and check. Built from gmtime_r, not an ISO8601DateFormatter: making one per log line
/// was an eighth of the agent's CPU while 5,000 peers' verdicts were logged.
func isoTime(_ d: Date) -> String {
    var seconds = time_t(d.timeIntervalSince1970.rounded(.down))
    var t = tm()
    guard gmtime_r(&seconds, &t) != nil else { return "\(d.timeIntervalSince1970)" }
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let year = t.tm_year + 1900
    let yyyy = year >= 1000 ? "\(year)" : String(repeating: "0", count: 4 - "\(max(year, 0))".count) + "\(max(year, 0))"
    return "\(yyyy)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec))Z"
}

/// The human table of `hostgw status`.
func renderStatus(_ r: NodeStatusReport, now: Date = Date()) -> String {
    var out: [String] = []
    let agent = r.agentRunning
        ? "agent running\(r.agentVersion.map { ", hostgw \($0)" } ?? "")\(r.ready == false ? ", not ready yet" : "")"
        : "AGENT NOT RUNNING (states below computed from the store and the kernel)"
    out.append("node       \(r.node) (\(agent))")
    if let iface = r.interface {
        out.append("interface  \(iface) \([r.publicIP, r.publicIPv6].compactMap { $0 }.joined(separator: " "))")
    }
    if let l = r.lease {
        let subnets = [l.subnet, l.ipv6Subnet].compactMap { $0?.description }.joined(separator: " ")
        var line = "lease      \(subnets)"
        if l.reservation {
            line += "  reservation (no expiry)"
        } else if let exp = l.expiration {
            line += "  expires \(isoTime(exp)) (in \(humanSpan(exp.timeIntervalSince(now))))"
        }
        if l.renewalFailures > 0 { line += "  RENEWAL FAILING x\(l.renewalFailures): \(l.lastError ?? "")" }
        out.append(line)
        if let last = l.lastRepair {
            let counts = (l.repairs ?? [:]).filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            out.append("           own key \(last.kind) \(humanSpan(now.timeIntervalSince(last.time))) ago (found: \(last.found)); totals \(counts.joined(separator: " "))")
        }
    } else {
        out.append("lease      none held by this node")
    }
    var store = "store      \(r.store.backend)  \(r.store.reachable ? "reachable" : "UNREACHABLE")"
    if !r.store.reachable, let since = r.store.unreachableSince { store += " for \(humanSpan(now.timeIntervalSince(since)))" }
    if let e = r.store.lastError, !r.store.reachable { store += ": \(e)" }
    if let n = r.store.invalidEntries, n > 0 { store += "  (\(n) invalid entries skipped)" }
    out.append(store)
    if let member = r.store.watchMember {
        var watch = "watch      on \(member)"
        if let heard = r.store.watchLastHeard { watch += ", last heard \(humanSpan(now.timeIntervalSince(heard))) ago" }
        out.append(watch)
    }
    let rs = r.routeSync
    var routes = "routes     \(rs.routesInstalled) installed"
    let ok = rs.peers.filter { $0.state == .ok }.count
    routes += ", \(ok)/\(rs.peers.count) peer routes ok"
    if let last = rs.lastFullSync { routes += ", last full sync \(humanSpan(now.timeIntervalSince(last))) ago" }
    if rs.observeOnly { routes += "  OBSERVE-ONLY (drift reported, not repaired)" }
    out.append(routes)
    for p in r.healthProblems { out.append("health     UNHEALTHY: \(p)") }
    if let d = r.datapath { out.append(contentsOf: renderDatapath(d)) }
    for n in r.notes { out.append("note       \(n)") }
    out.append("")

    let header = ["PEER", "SUBNET", "GATEWAY", "DEV", "STATE", "REACH", "DETAIL"]
    let rows = rs.peers.map { p in
        [p.node ?? "-", p.subnet.description, p.gateway?.description ?? "-", p.interface ?? "-", p.state.rawValue,
         reachCell(p.reachability), peerDetail(p).joined(separator: "; ")]
    }
    out.append(contentsOf: table(header, rows.isEmpty ? [["(no peers)", "", "", "", "", "", ""]] : rows))

    let drift = rs.recentDrift.suffix(10)
    out.append("")
    if drift.isEmpty {
        out.append("RECENT DRIFT: none")
    } else {
        out.append("RECENT DRIFT (newest last; totals: \(rs.driftCounts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")))")
        out.append(contentsOf: table(
            ["TIME", "KIND", "SUBNET", "PEER", "EXPECTED", "ACTUAL", "REPAIRED"],
            drift.map { d in
                [isoTime(d.time), d.kind.rawValue, d.subnet.description, d.peer ?? "-", d.expected ?? "-", d.actual ?? "-", d.repaired ? "yes" : "no"]
            }))
    }
    // Every line holds store text (node names, reasons, errors quoting keys): one line each.
    return out.map { displaySafe($0, limit: 4096) }.joined(separator: "\n") + "\n"
}

/// The REACH cell: `ok 0.3ms`, `UNREACHABLE`, `unknown`, or `-` when not measured.
func reachCell(_ r: PeerReachability?) -> String {
    guard let r else { return "-" }
    switch r.state {
    case .unreachable: return "UNREACHABLE"
    case .unknown: return "unknown"
    case .reachable:
        guard let rtt = (r.node ?? r.pod)?.lastRTT else { return "ok" }
        let loss = [r.node, r.pod].compactMap { $0?.lossRatio }.max() ?? 0
        return String(format: "ok %.1fms", rtt * 1000) + (loss > 0 ? String(format: " %.0f%% loss", loss * 100) : "")
    }
}

/// The DETAIL cell of a peer: why its route is not ok, the route's MTU, what the peer publishes
/// about its own datapath.
func peerDetail(_ p: PeerStatus) -> [String] {
    var detail = [p.reason, p.lastError].compactMap { $0 }
    if let r = p.reachability, r.state == .unreachable, let why = r.reason { detail.append(why) }
    if let mtu = p.mtu { detail.append("route mtu \(mtu) (the peer's link MTU)") }
    if let published = p.published, !published.isEmpty {
        detail.append("peer reports " + published.map { $0.severity == .critical ? "\($0.name) (CRITICAL)" : $0.name }.joined(separator: ", "))
    }
    return detail
}

/// The `datapath` lines: what was read, then one line per condition with its fix.
func renderDatapath(_ d: DatapathReport) -> [String] {
    var out: [String] = []
    let fwd = d.forwarding.map { f in
        "\(f.family.rawValue) \(f.scope) \(f.enabled.map { $0 ? "on" : "OFF" } ?? "unknown")"
    }
    out.append("datapath   forwarding \(fwd.joined(separator: ", "))")
    var filter: String
    if let e = d.filterError {
        filter = "nftables UNREADABLE: \(e)"
    } else if d.forwardChains.isEmpty {
        filter = "nftables: no forward-hook chain"
    } else {
        filter = "nftables forward-hook chains " + d.forwardChains.map { "\($0.family) \($0.table)/\($0.chain) policy \($0.policy ?? "-")" }.joined(separator: ", ")
    }
    switch d.legacyTables {
    case nil: filter += "; iptables-legacy: unknown"
    case let t? where t.isEmpty: filter += "; iptables-legacy: not in use"
    case let t?: filter += "; iptables-legacy IN USE (\(t.joined(separator: ", ")), not readable)"
    }
    out.append("           \(filter)")
    var more: [String] = []
    if let rp = d.rpFilter {
        let iface = d.forwarding.first { $0.family == .v4 && $0.scope != "all" }?.scope ?? "node interface"
        var line = "rp_filter \(iface) \(ReversePathFilter.mode(rp.effective)) (all \(rp.all.map(String.init) ?? "?"), \(iface) \(rp.interface.map(String.init) ?? "?"))"
        if let t = d.routeTable, t != RouteTableID.main { line += ", hostgw's routes in table \(t)" }
        more.append(line)
    }
    switch d.bridgeNetfilter {
    case nil: break
    case let b? where !b.loaded: more.append("br_netfilter: not loaded (no /proc/sys/net/bridge), bridged pod traffic skips iptables/nft")
    case let b?:
        func v(_ x: Bool?) -> String { x.map { $0 ? "1" : "0" } ?? "unreadable" }
        more.append("br_netfilter: bridge-nf-call-iptables \(v(b.callIptables)), bridge-nf-call-ip6tables \(v(b.callIp6tables))")
    }
    if !more.isEmpty { out.append("           \(more.joined(separator: "; "))") }
    let tables = (d.neighbourTables ?? []).map { use in
        let t = use.table
        let entries = t.entries.map { "\($0) \($0 == 1 ? "entry" : "entries"), " } ?? ""
        let refused = use.recentRefusals > 0 ? ", REFUSED \(use.recentRefusals) in \(use.recentWindowSeconds) s" : ""
        return "\(t.name) \(entries)gc_thresh2 \(t.gcThresh2) / gc_thresh3 \(t.gcThresh3) for \(use.peerGateways) peer gateways\(refused)"
    }
    if !tables.isEmpty { out.append("           neighbour tables (the host's): \(tables.joined(separator: "; "))") }
    for c in d.conditions {
        out.append("           \(c.severity.rawValue.uppercased()) \(c.condition.rawValue): \(c.detail)")
        out.append("             fix: \(c.fix)")
    }
    return out
}

/// Left-aligned columns, two spaces apart; the last column is not padded. Cells are store text
/// made safe (`displaySafe`): one line, no terminal escapes, bounded width.
func table(_ header: [String], _ rows: [[String]]) -> [String] {
    let all = [header] + rows.map { $0.map { displaySafe($0, limit: 256) } }
    let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
}
