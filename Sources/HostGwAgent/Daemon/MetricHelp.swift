// HELP lines for /metrics. The swift-metrics API the libraries emit through carries no help text
// (and swift-prometheus refuses two help texts for one name), so the exposition adds it here, from
// one table: every metric hostgw exports, what it means. promtool's linter checks it in the tests.
enum MetricHelp {
    static let texts: [String: String] = [
        "hostgw_build_info": "Always 1; the version label names the running hostgw build.",
        "hostgw_drift_events_total": "Route divergences the agent did not cause, by kind (missing, changed, unexpected, conflict).",
        "hostgw_peers": "Peer routes (one per lease and family) by state (ok, missing, changed, not-adjacent, invalid-lease, conflict, pending).",
        "hostgw_routes_installed": "Routes in the kernel carrying hostgw's protocol marker after the last pass.",
        "hostgw_reconcile_duration_seconds": "Wall time of one reconcile pass (dump, diff, apply).",
        "hostgw_netlink_errors_total": "Kernel errors answering hostgw's route changes, by errno name.",
        "hostgw_last_full_sync_timestamp_seconds": "Unix time at which the last full dump-and-diff pass finished.",
        "hostgw_route_changes_total": "Route changes hostgw sent to the kernel, by operation (add, replace, delete).",
        "hostgw_routes_adopted_total": "Foreign routes (--adopt-protocol) replaced in place by hostgw's, by the protocol they had.",
        "hostgw_lease_expiry_timestamp_seconds": "Unix time at which this node's lease expires unless renewed.",
        "hostgw_lease_repairs_total": "Times this node found its own lease key deleted or overwritten, by what it did (recreated, restored, yielded).",
        "hostgw_lease_name_clashes": "Leases under this node's name that another machine holds (1 or more: two machines share a node name).",
        "hostgw_route_deletions_held": "Peer routes kept although their leases vanished in a mass deletion, until the deletion grace runs out.",
        "hostgw_route_deletion_holds_total": "Snapshots that would have deleted more than half of the peer routes (at least two) at once, held.",
        "hostgw_datapath_condition": "1 while this node has the named datapath condition (ipv4-forwarding-off, forward-policy-drop, rp-filter-strict, bridge-nf-call-iptables, ...), else 0; see docs/operations.md.",
        "hostgw_peer_probe_rtt_seconds": "Round-trip time of answered peer probes, by path (node: the node IP; pod: the pod gateway through the pod route).",
        "hostgw_peer_probes_sent_total": "Peer probes sent, by path.",
        "hostgw_peer_probes_lost_total": "Peer probes unanswered within the timeout (late answers included), by path.",
        "hostgw_peers_unreachable": "Peer probe targets unreachable now (lost probes in a row), by path.",
        "hostgw_peer_probe_budget_limited": "1 while the probe budget stretches each peer's probe interval (many peers), else 0.",
        "hostgw_peer_probe_requests_answered_total": "Peer probe requests this node answered.",
        "hostgw_peer_probe_malformed_total": "Packets on the probe port that were not valid probes, dropped.",
        "hostgw_peer_probe_replies_unmatched_total": "Probe replies that matched no probe in flight (late, duplicated or forged), ignored.",
        "hostgw_peer_probe_socket_reopens_total": "Probe responder sockets closed under the agent and opened again (replies go out by sendmsg: a refused reply closes nothing).",
        "hostgw_peer_neighbours_unresolved": "Peer gateways whose neighbour (ARP/NDP) entry is FAILED or INCOMPLETE.",
        "hostgw_peer_gateway_lladdr_changes_total": "Times a peer gateway's link-layer address changed (its IP moved to another machine).",
        "hostgw_node_isolated": "1 while no peer at all is reachable from this node (neighbour entries failed or probes unanswered), else 0.",
        "hostgw_store_reachable": "1 when the last request to the store succeeded, 0 when it failed.",
        "hostgw_store_request_errors_total": "Failed store requests, by store and operation.",
        "hostgw_store_invalid_entries_total": "Store entries under the subnets prefix skipped as invalid leases, by reason.",
    ]

    /// `text` with a `# HELP` line before every `# TYPE` line of a known metric that lacks one.
    static func annotate(_ text: String) -> String {
        var out: [Substring] = []
        var helped = Set<Substring>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# HELP ") {
                helped.insert(line.dropFirst(7).prefix { $0 != " " })
            } else if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if !helped.contains(name), let help = texts[String(name)] {
                    out.append("# HELP \(name) \(help)")
                }
            }
            out.append(line)
        }
        return out.joined(separator: "\n")
    }
}
