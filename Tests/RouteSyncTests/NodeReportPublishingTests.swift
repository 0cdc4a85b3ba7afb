import HostGwTestSupport
import Foundation
import NetAddress
import Netlink
@testable import RouteSync
import SubnetLease
import Synchronization
import Testing
import MetricsTestKit

/// The datapath watcher is the one home of what this node publishes: its MTU, pod gateway and own
/// conditions, pushed on change only (never per read), and peers' MTUs judged as they come.
@Suite struct NodeReportPublishingTests {
    final class Reports: Sendable {
        let list = Mutex<[NodeReport]>([])
        func append(_ r: NodeReport) { list.withLock { $0.append(r) } }
        var all: [NodeReport] { list.withLock { $0 } }
    }

    @Test func theReportIsPushedOnChangeOnly() async throws {
        let fake = FakeDatapath()
        fake.state.withLock { $0.podGateways = [.v4: .v4(IPv4Address(10, 244, 1, 1))] }
        let reports = Reports()
        let w = try DatapathWatcher(
            config: .init(podNetworks: [.v4: prefix("10.244.0.0/16")], interfaceIndex: 2, interfaceName: "eth0"),
            access: fake, clock: ManualClock(), metrics: TestMetrics(), logger: quietLogger,
            onReport: { reports.append($0) })
        await w.refresh()
        await w.refresh()
        #expect(reports.all == [NodeReport(mtu: 1500, podGateway: IPv4Address(10, 244, 1, 1))])

        // Forwarding off: published as this node's own condition; the peers' MTU view is not.
        await w.handle(.netconfChanged(.init(family: .v4, scope: .all, forwarding: false)))
        await w.setPeerMTUs(["node-b": 1400])
        #expect(await w.findings.map(\.condition).sorted { $0.rawValue < $1.rawValue } == [.ipv4ForwardingOff, .mtuMismatch])
        #expect(reports.all.count == 2)
        #expect(reports.all.last?.conditions == [PublishedCondition(name: "ipv4-forwarding-off", severity: .critical)])
        await w.setPeerMTUs(["node-b": 1400])
        await w.handle(.netconfChanged(.init(family: .v4, scope: .all, forwarding: true)))
        #expect(reports.all.count == 3)
        #expect(reports.all.last?.conditions == [])
        #expect(await w.findings.map(\.condition) == [.mtuMismatch])
    }
}
