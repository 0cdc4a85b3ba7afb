// The watcher over a fake kernel: a NETCONF notification (which carries only what changed) flips
// the condition without a re-read, lost notifications mean a re-dump, an unreadable filter is a
// finding, and hostgw_datapath_condition follows every change.
import HostGwTestSupport
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
        var bridge = BridgeNetfilter.notLoaded
        var routeInterfaces: [UInt32: String] = [2: "eth0"]
        var mtu: UInt32? = 1500
        var podGateways: [IPFamily: IPAddress] = [:]
        var neighbourTable: NeighbourTable? = NeighbourTable(family: .v4, name: "arp_cache", gcThresh1: 128, gcThresh2: 512, gcThresh3: 1024, entries: 10, tableFulls: 0)
        var neighbourTableError: NetlinkError?
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
    func bridgeNetfilter() async -> BridgeNetfilter { state.withLock { $0.bridge } }
    func routeInterfaces() async -> [UInt32: String] { state.withLock { $0.routeInterfaces } }
    func linkMTU(index: UInt32) async -> UInt32? { state.withLock { $0.mtu } }
    func podGateways() async -> [IPFamily: IPAddress] { state.withLock { $0.podGateways } }
    func neighbourTable(family: IPFamily) async throws -> NeighbourTable? {
        try state.withLock { s in
            if let e = s.neighbourTableError { throw e }
            return family == .v4 ? s.neighbourTable : nil
        }
    }
}

@Suite struct DatapathWatcherTests {
    func make(_ fake: FakeDatapath, _ metrics: TestMetrics, table: UInt32 = RouteTableID.main) throws -> DatapathWatcher {
        try DatapathWatcher(
            config: .init(podNetworks: [.v4: prefix("10.244.0.0/16")], interfaceIndex: 2, interfaceName: "eth0", routeTable: table),
            access: fake, clock: ManualClock(), metrics: metrics, logger: quietLogger)
    }

    @Test func notificationFlipsForwardingWithoutARead() async throws {
        let fake = FakeDatapath()
        let metrics = TestMetrics()
        let w = try make(fake, metrics)
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

    @Test func unreadableFilterIsAFindingAndADropPolicyClearsWhenAccepted() async throws {
        let fake = FakeDatapath()
        let metrics = TestMetrics()
        let w = try make(fake, metrics)
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

    @Test func rpFilterNotificationsFlipStrictModeLiveWithTheLargerValue() async throws {
        let fake = FakeDatapath()
        fake.state.withLock {
            $0.v4 = [
                .init(family: .v4, scope: .all, forwarding: true, rpFilter: 0),
                .init(family: .v4, scope: .interface(2), forwarding: true, rpFilter: 0),
            ]
        }
        let metrics = TestMetrics()
        let w = try make(fake, metrics, table: 100)
        await w.refresh()
        #expect(await w.findings.isEmpty)
        #expect(await w.report().rpFilter == ReversePathFilter(all: 0, interface: 0))
        let reads = fake.state.withLock { $0.netconfReads }

        // `sysctl -w net.ipv4.conf.eth0.rp_filter=1`: the message carries rp_filter only.
        await w.handle(.netconfChanged(.init(family: .v4, scope: .interface(2), rpFilter: 1)))
        #expect(await w.findings.map(\.condition) == [.rpFilterStrict])
        #expect(metrics.gauge("hostgw_datapath_condition{condition=rp-filter-strict}") == 1)
        #expect(await w.report().rpFilter?.effective == 1)
        #expect(await w.report().routeTable == 100)
        // Forwarding is kept from the dump: the notification merged, it did not replace.
        #expect(await w.facts.netconf[.v4].flatMap { try? $0.get() }?.first { $0.scope == .interface(2) }?.forwarding == true)

        // Loose on the interface wins over nothing: max(0, 2) = 2.
        await w.handle(.netconfChanged(.init(family: .v4, scope: .interface(2), rpFilter: 2)))
        #expect(await w.findings.isEmpty)
        #expect(metrics.gauge("hostgw_datapath_condition{condition=rp-filter-strict}") == 0)

        // conf.all strict with the interface off: the kernel applies 1.
        await w.handle(.netconfChanged(.init(family: .v4, scope: .interface(2), rpFilter: 0)))
        await w.handle(.netconfChanged(.init(family: .v4, scope: .all, rpFilter: 1)))
        #expect(await w.findings.map(\.condition) == [.rpFilterStrict])
        await w.handle(.netconfChanged(.init(family: .v4, scope: .all, rpFilter: 0)))
        #expect(await w.findings.isEmpty)
        #expect(fake.state.withLock { $0.netconfReads } == reads)
    }

    @Test func rpFilterStrictInTheMainTableIsJudgedByTheRoutesEgress() async throws {
        let fake = FakeDatapath()
        fake.state.withLock {
            $0.v4 = [
                .init(family: .v4, scope: .all, forwarding: true, rpFilter: 1),
                .init(family: .v4, scope: .interface(2), forwarding: true, rpFilter: 1),
            ]
        }
        let metrics = TestMetrics()
        let w = try make(fake, metrics)
        await w.refresh()
        #expect(await w.findings.isEmpty)  // main table, every route leaves by eth0

        fake.state.withLock { $0.routeInterfaces = [2: "eth0", 3: "eth1"] }
        await w.refresh()
        let found = await w.findings
        #expect(found.map(\.condition) == [.rpFilterStrict])
        #expect(found.first?.detail.contains("peer routes leave by eth1, not eth0") == true)
    }

    @Test func bridgeNetfilterIsReadEachPeriodAndCountsOnlyWithADropPolicy() async throws {
        let fake = FakeDatapath()
        fake.state.withLock { $0.bridge = BridgeNetfilter(loaded: true, callIptables: true, callIp6tables: true) }
        let metrics = TestMetrics()
        let w = try make(fake, metrics)
        await w.refresh()
        #expect(await w.findings.isEmpty)
        #expect(await w.report().bridgeNetfilter == BridgeNetfilter(loaded: true, callIptables: true, callIp6tables: true))

        fake.state.withLock { $0.chains = .success([FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .drop)]) }
        await w.refresh()
        #expect(await w.findings.map(\.condition) == [.forwardPolicyDrop, .bridgeCallIptables])
        #expect(metrics.gauge("hostgw_datapath_condition{condition=bridge-nf-call-iptables}") == 1)
        #expect(metrics.gauge("hostgw_datapath_condition{condition=bridge-nf-call-ip6tables}") == 0)

        fake.state.withLock { $0.bridge = BridgeNetfilter(loaded: true, callIptables: false, callIp6tables: true) }
        await w.refresh()
        #expect(await w.findings.map(\.condition) == [.forwardPolicyDrop])
        #expect(metrics.gauge("hostgw_datapath_condition{condition=bridge-nf-call-iptables}") == 0)
    }

    @Test func aRisingRefusalCounterIsCriticalUntilItStaysStillForTheReadsKept() async throws {
        let fake = FakeDatapath()
        let metrics = TestMetrics()
        let w = try make(fake, metrics)
        let gauge = "hostgw_datapath_condition{condition=neighbour-table-full}"
        await w.refresh()
        await w.refresh()
        #expect(await w.findings.isEmpty)
        fake.state.withLock { $0.neighbourTable?.tableFulls = 12 }
        await w.refresh()
        #expect(await w.findings.map(\.condition) == [.neighbourTableFull])
        #expect(metrics.gauge(gauge) == 1)
        #expect(await w.findings.first?.detail.contains("refused 12 new entries") == true)
        let table = try #require(await w.report().neighbourTables?.first)
        #expect(table.table.name == "arp_cache" && table.recentRefusals == 12 && table.table.gcThresh3 == 1024)
        // The counter stays at 12: the rise is still within the reads kept, then it is not.
        for _ in 1..<DatapathWatcher.refusalReads - 1 {
            await w.refresh()
            #expect(await w.findings.map(\.condition) == [.neighbourTableFull])
        }
        await w.refresh()
        #expect(await w.findings.isEmpty)
        #expect(metrics.gauge(gauge) == 0)
        // Gateways past gc_thresh2 are judged at once, without a read.
        await w.setPeerGateways([.v4: 600])
        #expect(await w.findings.map(\.condition) == [.neighbourTableSmall])
    }

    /// The peers' gateways and MTUs can arrive before the first read (the first lease snapshot):
    /// facts not read yet are no findings, and nothing is logged, counted or published for them.
    @Test func anUnreadableNeighbourTableIsALimitOfTheReportUntilItIsReadAgain() async throws {
        let fake = FakeDatapath()
        let w = try make(fake, TestMetrics())
        await w.refresh()
        let base = await w.report().limits
        #expect(!base.contains { $0.contains("neighbour table") })
        #expect(await w.report().neighbourTables?.count == 1)

        fake.state.withLock { $0.neighbourTableError = NetlinkError(kind: .kernel, errno: .EPERM, request: "dump neighbour tables") }
        await w.refresh()
        let limits = await w.report().limits
        #expect(limits.count == base.count + 1)
        #expect(limits.last?.contains("IPv4 neighbour table could not be read") == true)
        #expect(limits.last?.contains("EPERM") == true)
        #expect(await w.report().neighbourTables?.isEmpty != false)

        fake.state.withLock { $0.neighbourTableError = nil }
        await w.refresh()
        #expect(await w.report().limits == base)
    }

    @Test func peerFactsBeforeTheFirstReadJudgeNothing() async throws {
        let fake = FakeDatapath()
        let metrics = TestMetrics()
        let changes = Mutex(0)
        let w = DatapathWatcher(
            config: .init(podNetworks: [.v4: try prefix("10.244.0.0/16")], interfaceIndex: 2, interfaceName: "eth0"),
            access: fake, clock: ManualClock(), metrics: metrics, logger: quietLogger,
            onChange: { _ in changes.withLock { $0 += 1 } })
        await w.setPeerGateways([.v4: 3])
        await w.setPeerMTUs(["node-b": 1500])
        #expect(await w.findings.isEmpty)
        #expect(changes.withLock { $0 } == 0)
        #expect(metrics.gauge("hostgw_datapath_condition{condition=filter-unreadable}") == 0)
        await w.refresh()
        #expect(await w.findings.isEmpty, "a healthy node after its first read")
        fake.state.withLock { $0.chains = .failure(NetlinkError(kind: .system, errno: .EPERM, request: "nft")) }
        await w.refresh()
        #expect(await w.findings.map(\.condition) == [.filterUnreadable])
    }
}
