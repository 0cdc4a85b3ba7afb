// `hostgw check`: the route-drift alert for cron, Nagios, Icinga, Zabbix or any monitoring
// agent. Nagios plugin conventions: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and one line
// `HOSTGW STATE - summary | perfdata`.
import NetAddress
import Foundation
import SubnetLease
import RouteSync
import SubnetLease

enum CheckState: Int32, Comparable {
    case ok = 0, warning = 1, critical = 2, unknown = 3

    var word: String {
        switch self {
        case .ok: "OK"
        case .warning: "WARNING"
        case .critical: "CRITICAL"
        case .unknown: "UNKNOWN"
        }
    }

    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

struct CheckThresholds: Sendable {
    /// Drift events in `window` at or above which the check warns / is critical (0 = never).
    var driftWarning = 1
    var driftCritical = 0
    var window: Duration = .seconds(600)
    /// Peers not `ok` at or above which the check warns / is critical (0 = never).
    var badPeersWarning = 1
    var badPeersCritical = 0
    /// Lease lifetime left below which the check warns / is critical.
    var leaseWarning: Duration = .seconds(3600)
    var leaseCritical: Duration = .seconds(600)
}

struct CheckResult: Equatable {
    var state: CheckState
    var line: String
}

func evaluateCheck(_ r: NodeStatusReport, _ t: CheckThresholds, now: Date) -> CheckResult {
    var state = CheckState.ok
    var reasons: [String] = []
    func raise(_ s: CheckState, _ reason: String) {
        state = max(state, s)
        reasons.append(reason)
    }

    if !r.agentRunning { raise(.critical, "agent not running") }
    if !r.store.reachable { raise(.critical, "store unreachable\(r.store.lastError.map { " (\($0))" } ?? "")") }
    for p in r.healthProblems where r.agentRunning { raise(.critical, p) }

    var leaseLeft: Double?
    if let lease = r.lease {
        if let exp = lease.expiration, !lease.reservation {
            let left = exp.timeIntervalSince(now)
            leaseLeft = left
            if left < t.leaseCritical.seconds {
                raise(.critical, "lease expires in \(humanSpan(left))")
            } else if left < t.leaseWarning.seconds {
                raise(.warning, "lease expires in \(humanSpan(left))")
            }
        }
    } else {
        raise(.critical, "no lease held")
    }

    // The store lost leases that routes still depend on, or two machines share this node's name:
    // nothing is down yet, but the cluster is not as it should be.
    if let hold = r.routeSync.deletionHold {
        raise(.warning, "\(hold.subnets.count) peer route(s) kept after their leases vanished at once, until \(isoTime(hold.until))")
    }
    for clash in r.lease?.nameClashes ?? [] { raise(.warning, "another machine holds a lease under this node's name: \(clash)") }
    // Critical datapath conditions are health problems (raised above, once); the warnings are
    // the check's alone.
    for finding in r.datapath?.conditions ?? [] where finding.severity == .warning || !r.agentRunning {
        raise(finding.severity == .critical ? .critical : .warning, finding.description)
    }

    // Peers this node cannot reach, whatever their routes say (every one at once is a health
    // problem, raised above).
    let unreachable = r.routeSync.peers.filter { $0.reachability?.state == .unreachable }
    if !unreachable.isEmpty {
        let listed = unreachable.prefix(3).map { "\($0.peerName) \($0.reachability?.reason ?? "unreachable")" }.joined(separator: "; ")
        raise(.warning, "\(unreachable.count) peer(s) unreachable (\(listed)\(unreachable.count > 3 ? "; ..." : ""))")
    }

    let bad = r.badPeers
    if t.badPeersCritical > 0, bad.count >= t.badPeersCritical {
        raise(.critical, describePeers(bad))
    } else if t.badPeersWarning > 0, bad.count >= t.badPeersWarning {
        raise(.warning, describePeers(bad))
    }

    let drift = r.recentDrift(within: t.window, now: now)
    let window = humanSpan(t.window.seconds).replacingOccurrences(of: " 0s", with: "")
    if !drift.isEmpty {
        let what = "\(drift.count) drift in \(window) (\(drift.suffix(3).map { "\($0.kind.rawValue) \($0.subnet)" }.joined(separator: ", ")))"
        if t.driftCritical > 0, drift.count >= t.driftCritical {
            raise(.critical, what)
        } else if t.driftWarning > 0, drift.count >= t.driftWarning {
            raise(.warning, what)
        }
    }

    let okPeers = r.routeSync.peers.count - bad.count
    let summary =
        reasons.isEmpty
        ? "\(okPeers)/\(r.routeSync.peers.count) peer routes ok, 0 drift in \(window), store reachable"
        : reasons.joined(separator: "; ")
    var perf = [
        "peers_ok=\(okPeers)", "peers_bad=\(bad.count)", "drift_recent=\(drift.count)",
        "routes=\(r.routeSync.routesInstalled)", "peers_unreachable=\(unreachable.count)",
    ]
    if let leaseLeft { perf.append("lease_ttl_s=\(Int(leaseLeft));\(Int(t.leaseWarning.seconds)):;\(Int(t.leaseCritical.seconds)):") }
    // A monitoring line is one line: reasons quote store text (node names, keys, errors).
    return CheckResult(state: state, line: "HOSTGW \(state.word) - \(displaySafe(summary, limit: 2048)) | \(perf.joined(separator: " "))")
}

private func describePeers(_ bad: [PeerStatus]) -> String {
    let listed = bad.prefix(3).map { "\($0.subnet) \($0.state.rawValue)" }.joined(separator: ", ")
    return "\(bad.count) peer route(s) not ok (\(listed)\(bad.count > 3 ? ", ..." : ""))"
}
