// The watcher over a fake kernel: a NETCONF notification (which carries only what changed) flips
// the condition without a re-read, lost notifications mean a re-dump, an unreadable filter is a
// finding, and hostgw_datapath_condition follows every change.
import Foundation
import NetAddress
import Netlink
@testable import RouteSync
import Synchronization
import Testing
import MetricsTestKit

final class FakeDatapath: DatapathAccess {
    struct State {
        var v4: [NetconfEntry] = [.init(family: .v4, scope: .all, forwarding: true), .init(family: .v4, scope: .interface(2), forwarding: true)]
        var chains: Result<[FilterChain], NetlinkError> = .success([])
        var netconfReads = 0
    }
    let state = Mutex(State())

    func netconf(family: IPFamily) async throws -> [NetconfEntry] {
        state.withLock { s in
            s.netconfReads += 1
            return family == .v4 ? s.v4 : []
        }
    }
    func filterChains() async throws -> [FilterChain] { try state.withLock { $0.chains }.get() }
    func legacyTables() async -> [String]? { [] }
}

@Suite struct DatapathWatcherTests {
    func make(_ fake: FakeDatapath, _ metrics: TestMetrics) -> DatapathWatcher {
        DatapathWatcher(
            config: .init(podNetworks: [.v4: prefix("10.244.0.0/16")], interfaceIndex: 2, interfaceName: "eth0"),
            access: fake, clock: ManualClock(), metrics: metrics, logger: silentLogger)
    }

    @Test func notificationFlipsForwardingWithoutARead() async {
        let fake = FakeDatapath()
        let metrics = TestMetrics()
        let w = make(fake, metrics)
        await w.refresh()
        #expect(await w.findings.isEmpty)
        #expect(metrics.gauge("hostgw_datapath_condition{condition=ipv4-forwarding-off}") == 0)
        let reads = fake.state.withLock { $0.netconfReads }

        // The kernel's message after `sysctl -w net.ipv4.ip_forward=0`: forwarding only.
        await w.handle(.netconfChanged(.init(family: .v4, scope: .all, forwarding: false)))
        #expect(await w.findings.map(\.condition) == [.ipv4ForwardingOff])
        #expect(metrics.gauge("hostgw_datapath_condition{condition=ipv4-forwarding-off}") == 1)
        #expect(fake.state.withLock { $0.netconfReads } == reads)

        // Lost notifications: the truth is read again (forwarding was on all along in the fake).
        await w.handle(.overrun)
        #expect(fake.state.withLock { $0.netconfReads } == reads + 1)
        #expect(await w.findings.isEmpty)
        #expect(metrics.gauge("hostgw_datapath_condition{condition=ipv4-forwarding-off}") == 0)
    }

    @Test func unreadableFilterIsAFindingAndADropPolicyClearsWhenAccepted() async {
        let fake = FakeDatapath()
        let metrics = TestMetrics()
        let w = make(fake, metrics)
        fake.state.withLock { $0.chains = .failure(NetlinkError(kind: .kernel, errno: .EPERM, request: "dump nftables chains")) }
        await w.refresh()
        #expect(await w.findings.map(\.condition) == [.filterUnreadable])
        #expect(await w.report().filterError?.contains("EPERM") == true)

        fake.state.withLock { $0.chains = .success([FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .drop)]) }
        await w.refresh()
        #expect(await w.findings.map(\.condition) == [.forwardPolicyDrop])
        #expect(metrics.gauge("hostgw_datapath_condition{condition=filter-unreadable}") == 0)
        #expect(metrics.gauge("hostgw_datapath_condition{condition=forward-policy-drop}") == 1)
        #expect(await w.report().forwardChains.map(\.policy) == ["drop"])

        fake.state.withLock { $0.chains = .success([FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .accept)]) }
        await w.refresh()
        #expect(await w.findings.isEmpty)
        #expect(metrics.gauge("hostgw_datapath_condition{condition=forward-policy-drop}") == 0)
    }
}
