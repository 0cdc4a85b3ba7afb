// One look judged without the agent (what `hostgw status` does when the agent is down) says what
// an observe-only pass of the reconciler says, but for why nothing was repaired. Without a
// kernel; HostGwAgentTests' OfflineStatusAgreementTests holds the same against a real one.
import Foundation
import HostGwTestSupport
import MetricsTestKit
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing

@Suite struct PeerJudgementTests {
    @Test func aLookWithoutTheAgentJudgesAsAnObserveOnlyPass() async throws {
        let routes = try [
            hostgwRoute("10.244.2.0/24", via: "10.0.0.2"),
            hostgwRoute("10.244.3.0/24", via: "10.0.0.99"),
            hostgwRoute("fd10:244:0:2::/64", via: "fd00::22"),
            hostgwRoute("10.244.9.0/24", via: "10.0.0.9"),
            Route(destination: prefix("10.244.4.0/25"), gateway: ip("10.0.0.50"), outputInterface: 2, protocol: .static),
        ]
        let leases = try [
            lease("10.244.1.0/24", via: "10.0.0.1", node: "self", v6: "fd10:244:0:1::/64", gateway6: "fd00::1"),
            lease("10.244.2.0/24", via: "10.0.0.2", node: "b", v6: "fd10:244:0:2::/64", gateway6: "fd00::2"),
            lease("10.244.3.0/24", via: "10.0.0.3", node: "c", v6: "fd10:244:0:3::/64", gateway6: "fd00::3"),
            lease("10.244.4.0/24", via: "10.0.0.4", node: "d"),
        ]
        let own = try [prefix("10.244.1.0/24"), prefix("fd10:244:0:1::/64")]
        let config = try RouteSyncConfig(
            podNetworks: [.v4: prefix("10.244.0.0/16"), .v6: prefix("fd10:244::/56")], observeOnly: true, localSubnets: own)
        let reconciler = RouteReconciler(config: config, kernel: FakeKernel(routes: routes), logger: quietLogger, metricsFactory: TestMetrics())
        await reconciler.update(leases: leases, localSubnets: own)
        try #require(await reconciler.sync() != nil)
        let online = await reconciler.status()

        let judged = PeerJudgement(leases: leases, config: config, actual: routes, links: nodeLinks, addresses: nodeAddresses)
        let offline = judged.peers(unapplied: .agentNotRunning)

        #expect(online.peers.map { "\($0.subnet) \($0.state)" } == [
            "10.244.2.0/24 ok", "10.244.3.0/24 changed", "10.244.4.0/24 conflict",
            "fd10:244:0:2::/64 changed", "fd10:244:0:3::/64 missing",
        ])
        #expect(offline == online.peers.map { peer in
            var peer = peer
            peer.reason = peer.reason?.replacingOccurrences(of: "observe-only:", with: "the agent is not running:")
            return peer
        })
        let v6Missing = try prefix("fd10:244:0:3::/64")
        #expect(offline.first { $0.subnet == v6Missing }?.reason == "the agent is not running: no route in the kernel, not repaired")
        #expect(try judged.unexpected == [hostgwRoute("10.244.9.0/24", via: "10.0.0.9")])
        let untimed = { (events: [DriftEvent]) in events.map { e in var e = e; e.time = .distantPast; return e } }
        #expect(untimed(judged.driftEvents(time: .distantPast)) == untimed(online.recentDrift))
        #expect(online.recentDrift.map { "\($0.kind) \($0.subnet)" } == ["conflict 10.244.4.0/24", "unexpected 10.244.9.0/24"])
    }
}
