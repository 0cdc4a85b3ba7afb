// Reachability in health and in `hostgw check` (issue 13): one unreachable peer is a WARNING that
// names it and why, while /healthz stays up (it is the peer's problem); every peer unreachable is
// this node's problem: /healthz fails, the watchdog keeps being fed (a restart fixes no cable).
import Foundation
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing

@testable import HostGwAgent

@Suite struct PeerReachabilityHealthTests {
    let policy = HealthPolicy(stuckAfter: .seconds(90), storeGrace: .seconds(60), leaseExpiryMargin: .seconds(3600))
    let now = Date(timeIntervalSince1970: 2_000_000)

    func snapshot(_ summary: ReachabilitySummary) -> HealthSnapshot {
        var s = HealthSnapshot()
        s.startedAt = now.addingTimeInterval(-100)
        s.lastReconcile = now.addingTimeInterval(-1)
        s.lastProgress = now.addingTimeInterval(-1)
        s.reachability = summary
        return s
    }

    @Test func onlyEveryPeerUnreachableIsUnhealthy() {
        let some = snapshot(ReachabilitySummary(peers: 3, measured: 3, unreachable: ["10.244.3.0-24"]))
        #expect(healthProblems(some, policy: policy, now: now).isEmpty)
        let all = snapshot(ReachabilitySummary(peers: 2, measured: 2, unreachable: ["10.244.2.0-24", "10.244.3.0-24"]))
        #expect(healthProblems(all, policy: policy, now: now) == [.isolated(peers: 2, podsOnly: 0)])
        #expect(healthProblems(all, policy: policy, now: now).map(\.description) == [
            "none of the 2 peer(s) is reachable (neighbour entries failed or probes unanswered): this node is cut off on the node network; routes are kept"
        ])
        #expect(watchdogShouldPing(all, policy: policy, now: now))
        #expect(healthProblems(snapshot(ReachabilitySummary()), policy: policy, now: now).isEmpty)
    }

    /// Every node answering while no pod gateway does is not "cut off on the node network": it
    /// names the pod path through this node (rp_filter, forwarding, a filter, the routes).
    @Test func everyPeerUnreachableForPodsOnlyNamesThePodPath() {
        let pods = snapshot(ReachabilitySummary(peers: 2, measured: 2, unreachable: ["a", "b"], unreachableForPodsOnly: ["a", "b"]))
        let problems = healthProblems(pods, policy: policy, now: now)
        #expect(problems == [.isolated(peers: 2, podsOnly: 2)])
        #expect(problems.first?.description.hasPrefix("none of the 2 peer(s) is reachable for pods: every node answers on the node network") == true)
        #expect(problems.first?.description.contains("cut off on the node network") == false)
        let mixed = snapshot(ReachabilitySummary(peers: 3, measured: 3, unreachable: ["a", "b", "c"], unreachableForPodsOnly: ["b"]))
        #expect(healthProblems(mixed, policy: policy, now: now).map(\.description) == [
            "none of the 3 peer(s) is reachable: 1 answer on the node network but not through the pod route, the other 2 not at all (neighbour entries failed or probes unanswered); routes are kept"
        ])
        // Some peers unreachable for pods, not all: the peers' problem, a WARNING in check only.
        let some = snapshot(ReachabilitySummary(peers: 3, measured: 3, unreachable: ["a"], unreachableForPodsOnly: ["a"]))
        #expect(healthProblems(some, policy: policy, now: now).isEmpty)
    }

    func peer(_ subnet: String, node: String, gateway: String, _ reachability: PeerReachability?) -> PeerStatus {
        var p = PeerStatus(
            leaseKey: subnet.replacingOccurrences(of: "/", with: "-"), node: node, family: .v4, subnet: IPPrefix(subnet)!,
            gateway: IPAddress(gateway), interface: "eth0", state: .ok)
        p.reachability = reachability
        return p
    }

    func report(_ peers: [PeerStatus]) -> NodeStatusReport {
        NodeStatusReport(
            generatedAt: now, node: "n1", agentRunning: true, agentVersion: "t", interface: "eth0", publicIP: nil, publicIPv6: nil,
            lease: .init(subnet: IPPrefix("10.244.1.0/24"), ipv6Subnet: nil, expiration: nil, reservation: true, lastRenewal: nil, renewalFailures: 0, lastError: nil),
            store: .init(backend: "embedded", reachable: true), ready: true, healthProblems: [],
            routeSync: RouteSyncStatus(
                observeOnly: false, peers: peers, routesInstalled: peers.count, recentDrift: [], driftCounts: [:], peerCounts: [:],
                lastFullSync: now, lastPassDurationSeconds: nil, lastPassError: nil, passes: 1),
            notes: [])
    }

    @Test func checkWarnsPerUnreachablePeerWithTheReason() {
        let dark = PeerReachability.judge(
            gateway: IPAddress("10.0.0.3"), neighbour: .init(state: "FAILED", linkAddress: nil, unresolved: true), node: nil, pod: nil)
        let fine = PeerReachability.judge(gateway: IPAddress("10.0.0.2"), neighbour: nil, node: ProbeStats(state: .reachable, sent: 3, received: 3, lastRTT: 0.0004), pod: nil)
        let r = evaluateCheck(report([peer("10.244.2.0/24", node: "b", gateway: "10.0.0.2", fine), peer("10.244.3.0/24", node: "c", gateway: "10.0.0.3", dark)]), CheckThresholds(), now: now)
        #expect(r.state == .warning)
        #expect(r.line.contains("1 peer(s) unreachable (c (10.0.0.3) neighbour entry of 10.0.0.3 is FAILED"), "\(r.line)")
        #expect(r.line.contains("peers_unreachable=1"))
        let ok = evaluateCheck(report([peer("10.244.2.0/24", node: "b", gateway: "10.0.0.2", fine)]), CheckThresholds(), now: now)
        #expect(ok.state == .ok, "\(ok.line)")
        #expect(reachCell(fine) == "ok 0.4ms")
        #expect(reachCell(dark) == "UNREACHABLE")
        #expect(reachCell(nil) == "-")
    }
}
