import NetAddress
import HostGwTestSupport
import Foundation
import Netlink
import RouteSync
import SubnetLease
import Testing
import MetricsTestKit

/// The reconcile loop against an in-memory kernel: repairs, drift counting, observe-only, errors.
@Suite struct ReconcilerRepairTests {
    let leases: [Lease]
    let b: Route
    let c: Route
    let connected: Route

    init() throws {
        leases = [
            try lease("10.244.1.0/24", via: "10.0.0.1", node: "self"),
            try lease("10.244.2.0/24", via: "10.0.0.2", node: "b"),
            try lease("10.244.3.0/24", via: "10.0.0.3", node: "c"),
        ]
        b = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2")
        c = try hostgwRoute("10.244.3.0/24", via: "10.0.0.3")
        connected = Route(destination: try prefix("10.0.0.0/24"), outputInterface: 2, protocol: .kernel, scope: .link)
    }

    func make(_ kernel: FakeKernel, config: RouteSyncConfig? = nil, metrics: TestMetrics = TestMetrics()) throws -> RouteReconciler {
        RouteReconciler(config: try config ?? v4Config, kernel: kernel, logger: quietLogger, metricsFactory: metrics)
    }

    func ours(_ kernel: FakeKernel) async -> Set<Route> { Set(await kernel.table.filter { $0.protocol == .hostgw }) }

    @Test func nothingHappensBeforeTheFirstLeaseSnapshot() async throws {
        let stale = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let kernel = FakeKernel(routes: [stale])
        let r = try make(kernel)
        #expect(await r.sync() == nil)
        #expect(await kernel.applied.isEmpty)
        #expect(await ours(kernel) == [stale])
    }

    @Test func startupInstallsRoutesAndRemovesStaleOnesAsUnexpected() async throws {
        let stale = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let foreign = try Route(destination: prefix("10.96.0.0/12"), gateway: ip("10.0.0.254"), protocol: .static)
        let kernel = FakeKernel(routes: [connected, foreign, stale])
        let metrics = TestMetrics()
        let r = try make(kernel, metrics: metrics)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        let report = try #require(await r.sync())
        #expect(await ours(kernel) == [b, c])
        #expect(await kernel.table.contains(foreign))
        #expect(report.drift.map(\.kind) == [.unexpected])
        #expect(report.drift.first?.repaired == true)
        #expect(report.drift.first?.actual == "10.244.9.0/24 via 10.0.0.9 dev eth0 proto 77")
        let status = await r.status()
        #expect(status.peers.map(\.state) == [.ok, .ok])
        #expect(status.routesInstalled == 2)
        #expect(status.driftCounts[.unexpected] == 1)
        #expect(metrics.counter("hostgw_drift_events_total{kind=unexpected}") == 1)
        #expect(metrics.counter("hostgw_route_changes_total{op=add}") == 2)
        #expect(metrics.counter("hostgw_route_changes_total{op=delete}") == 1)
        #expect(metrics.gauge("hostgw_routes_installed") == 2)
        #expect(metrics.gauge("hostgw_peers{state=ok}") == 2)
        #expect(metrics.gauge("hostgw_peers{state=missing}") == 0)
        #expect((metrics.gauge("hostgw_last_full_sync_timestamp_seconds") ?? 0) > 1_700_000_000)
        #expect(metrics.timer("hostgw_reconcile_duration_seconds") != nil)
        // A second pass over an unchanged kernel changes nothing.
        let again = try #require(await r.sync())
        #expect(again.plan.isEmpty)
        #expect(again.drift.isEmpty)
    }

    @Test func deletedRouteIsRestoredAndCountedOnceAsMissing() async throws {
        let kernel = FakeKernel(routes: [connected])
        let metrics = TestMetrics()
        let r = try make(kernel, metrics: metrics)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        await kernel.remove("10.244.2.0/24")
        let report = try #require(await r.sync())
        #expect(report.drift.count == 1)
        let event = try #require(report.drift.first)
        #expect(event.kind == .missing)
        #expect(event.repaired)
        #expect(event.peer == "b (10.0.0.2)")
        #expect(event.expected == "10.244.2.0/24 via 10.0.0.2 dev eth0 proto 77")
        #expect(await ours(kernel) == [b, c])
        await r.sync()
        #expect(metrics.counter("hostgw_drift_events_total{kind=missing}") == 1)
        #expect(await r.status().driftCounts[.missing] == 1)
    }

    @Test func alteredGatewayIsRestoredAndCountedOnceAsChanged() async throws {
        let kernel = FakeKernel(routes: [connected])
        let r = try make(kernel)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        var wrong = c
        wrong.gateway = try ip("10.0.0.99")
        await kernel.remove("10.244.3.0/24")
        await kernel.insert(wrong)
        let report = try #require(await r.sync())
        #expect(report.drift.map(\.kind) == [.changed])
        #expect(report.drift.first?.actual == "10.244.3.0/24 via 10.0.0.99 dev eth0 proto 77")
        #expect(report.drift.first?.repaired == true)
        #expect(await ours(kernel) == [b, c])
        #expect(await r.status().driftCounts == [.missing: 0, .changed: 1, .unexpected: 0, .conflict: 0])
    }

    @Test func foreignOverlapIsLeftAloneAndReportedAsConflict() async throws {
        let kernel = FakeKernel(routes: [connected])
        let r = try make(kernel)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        let foreign = try Route(destination: prefix("10.244.3.0/24"), gateway: ip("10.0.0.50"), outputInterface: 2, protocol: .static, priority: 10)
        await kernel.insert(foreign)
        let report = try #require(await r.sync())
        #expect(report.drift.map(\.kind) == [.conflict])
        #expect(report.drift.first?.repaired == false)
        #expect(await kernel.table.contains(foreign))
        #expect(await ours(kernel) == [b])
        let conflicted = try prefix("10.244.3.0/24")
        let peer = try #require(await r.status().peers.first { $0.subnet == conflicted })
        #expect(peer.state == .conflict)
        #expect(peer.reason?.contains("10.244.3.0/24 via 10.0.0.50 dev eth0 proto static") == true)
        // Reported once while it lasts.
        #expect(try #require(await r.sync()).drift.isEmpty)
        // Gone: the route comes back, and that is the agent's doing, not drift.
        await kernel.remove("10.244.3.0/24")
        let after = try #require(await r.sync())
        #expect(after.drift.isEmpty)
        #expect(await ours(kernel) == [b, c])
    }

    @Test func leaseDeletedRemovesItsRouteWithoutDrift() async throws {
        let kernel = FakeKernel(routes: [connected])
        let r = try make(kernel)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        try await r.update(leases: Array(leases.dropLast()), localSubnets: [prefix("10.244.1.0/24")])
        let report = try #require(await r.sync())
        #expect(report.drift.isEmpty)
        #expect(await ours(kernel) == [b])
        #expect(try await r.status().peers.map(\.subnet) == [prefix("10.244.2.0/24")])
    }

    /// The store removes expired keys (etcd on lease expiry, the embedded store by purging), and
    /// those deletions reach the reconciler as new snapshots. The expiry a snapshot carries can be
    /// stale: an etcd keep-alive renews a lease without any watch event. A lease whose snapshot
    /// expiry has passed is therefore still routed until the store deletes it.
    @Test func leasePastItsSnapshotExpiryIsStillRouted() async throws {
        let kernel = FakeKernel(routes: [connected])
        let r = try make(kernel)
        let renewedMeanwhile = try lease("10.244.4.0/24", via: "10.0.0.4", expires: Date(timeIntervalSinceNow: -60))
        let live = try lease("10.244.5.0/24", via: "10.0.0.5", expires: Date(timeIntervalSinceNow: 600))
        await r.update(leases: [renewedMeanwhile, live], localSubnets: [])
        await r.sync()
        #expect(try Set(await ours(kernel).map(\.destination)) == [prefix("10.244.4.0/24"), prefix("10.244.5.0/24")])
    }

    @Test func observeOnlyReportsButNeverChangesTheKernel() async throws {
        var config = try v4Config
        config.observeOnly = true
        let stale = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let kernel = FakeKernel(routes: [connected, b, c, stale])
        let r = try make(kernel, config: config)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        let first = try #require(await r.sync())
        #expect(first.drift.map(\.kind) == [.unexpected])
        #expect(first.drift.first?.repaired == false)
        await kernel.remove("10.244.2.0/24")
        let second = try #require(await r.sync())
        #expect(second.drift.map(\.kind) == [.missing])
        #expect(second.drift.first?.repaired == false)
        #expect(await kernel.applied.isEmpty)
        #expect(await ours(kernel) == [c, stale])
        let status = await r.status()
        #expect(status.observeOnly)
        #expect(status.peers.map(\.state) == [.missing, .ok])
        #expect(status.peers.first?.reason?.contains("observe-only") == true)
        // Reported once, not on every pass.
        #expect(try #require(await r.sync()).drift.isEmpty)
    }

    @Test func perRouteErrorsAreRecordedPerPeerWithoutAbortingTheRest() async throws {
        let kernel = FakeKernel(routes: [connected])
        let metrics = TestMetrics()
        let r = try make(kernel, metrics: metrics)
        await kernel.setFailure("10.244.2.0/24", .ENETUNREACH)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        #expect(await ours(kernel) == [c])
        let peers = await r.status().peers
        #expect(peers.map(\.state) == [.missing, .ok])
        #expect(peers.first?.lastErrno == .ENETUNREACH)
        #expect(peers.first?.lastError?.contains("ENETUNREACH") == true)
        #expect(metrics.counter("hostgw_netlink_errors_total{errno=ENETUNREACH}") == 1)
        // The error clears once the route is in.
        await kernel.setFailure("10.244.2.0/24", nil)
        await r.sync()
        let healed = await r.status().peers
        #expect(healed.map(\.state) == [.ok, .ok])
        #expect(healed.first?.lastError == nil)
    }

    @Test func dumpFailureIsReportedAndNothingApplied() async throws {
        let kernel = FakeKernel(routes: [connected])
        let metrics = TestMetrics()
        let r = try make(kernel, metrics: metrics)
        await kernel.setDumpError(NetlinkError(kind: .system, errno: .ENOBUFS, request: "dump routes"))
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        let report = try #require(await r.sync())
        #expect(report.error?.netlinkError?.errno == .ENOBUFS)
        #expect(await kernel.applied.isEmpty)
        #expect(await r.status().lastPassError?.contains("ENOBUFS") == true)
        #expect(await r.status().peers.map(\.state) == [.pending, .pending])
        #expect(metrics.counter("hostgw_netlink_errors_total{errno=ENOBUFS}") == 1)
    }

    /// A batch that fails outside netlink (here a cancellation) has no errno: the pass fails as a
    /// whole, naming the step, and no peer is given a made-up EINVAL.
    @Test func nonNetlinkBatchFailureFailsThePassWithoutAnErrno() async throws {
        let kernel = FakeKernel(routes: [connected])
        let metrics = TestMetrics()
        let r = try make(kernel, metrics: metrics)
        await kernel.setApplyError(CancellationError())
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        let report = try #require(await r.sync())
        #expect(report.error == .other(step: PassError.sendBatchStep, text: "\(CancellationError())"))
        #expect(report.error?.netlinkError == nil)
        #expect(report.results.isEmpty)
        let status = await r.status()
        #expect(status.lastPassError == "sending the route batch failed: \(CancellationError())")
        #expect(status.peers.allSatisfy { $0.lastErrno == nil && $0.lastError == nil }, "\(status.peers)")
        #expect(status.peers.map(\.state) == [.pending, .pending])
        #expect(metrics.counter("hostgw_netlink_errors_total{errno=EINVAL}") == 0)
        // The next pass, with the batch going through, installs the routes and clears the error.
        await kernel.setApplyError(nil)
        await r.sync()
        #expect(await ours(kernel) == [b, c])
        #expect(await r.status().lastPassError == nil)
    }

    @Test func dumpFailureTextIsUnchanged() async throws {
        let kernel = FakeKernel(routes: [connected])
        let r = try make(kernel, metrics: TestMetrics())
        let failure = NetlinkError(kind: .system, errno: .ENOBUFS, request: "dump routes")
        await kernel.setDumpError(failure)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        let report = try #require(await r.sync())
        #expect(report.error == .readKernel(failure))
        #expect(await r.status().lastPassError == "reading the kernel's routes, links or addresses failed: \(failure)")
    }

    @Test func unsendableBatchFailsEveryChangeButCountsOneError() async throws {
        let kernel = FakeKernel(routes: [connected])
        let metrics = TestMetrics()
        let r = try make(kernel, metrics: metrics)
        await kernel.setApplyError(NetlinkError(kind: .system, errno: .ENOMEM, request: "sendmsg"))
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        let report = try #require(await r.sync())
        #expect(report.results.count == 2)
        #expect(await r.status().peers.map(\.lastErrno) == [.ENOMEM, .ENOMEM])
        #expect(await r.status().peers.map(\.state) == [.missing, .missing])
        #expect(metrics.counter("hostgw_netlink_errors_total{errno=ENOMEM}") == 1)
        await kernel.setApplyError(nil)
        await r.sync()
        #expect(await ours(kernel) == [b, c])
    }

    @Test func linkDownMakesPeersNotAdjacentAndLinkUpRestoresRoutes() async throws {
        let kernel = FakeKernel(routes: [connected])
        let r = try make(kernel)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        // The kernel flushes routes through a link that goes down.
        await kernel.setLinks([link(1, "lo"), link(2, "eth0", up: false)])
        await kernel.set(routes: [connected])
        let down = try #require(await r.sync())
        #expect(down.drift.isEmpty)
        #expect(await r.status().peers.map(\.state) == [.notAdjacent, .notAdjacent])
        await kernel.setLinks(nodeLinks)
        await r.sync()
        #expect(await ours(kernel) == [b, c])
        #expect(await r.status().peers.map(\.state) == [.ok, .ok])
    }

    /// What `hostgw leave` calls after the agent stopped.
    @Test func removeAllDeletesOnlyHostgwRoutes() async throws {
        let foreign = try Route(destination: prefix("10.244.7.0/24"), gateway: ip("10.0.0.7"), protocol: .static)
        let kernel = FakeKernel(routes: [connected, foreign])
        let r = try make(kernel)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        let config = try v4Config
        let removal = try await RouteRemoval.removeAll(
            from: kernel, table: config.table, protocol: config.routeProtocol, logger: quietLogger)
        #expect(Set(removal.removed) == [b, c])
        #expect(removal.failures.isEmpty)
        #expect(await kernel.table == [connected, foreign])
    }

    @Test func statusIsCodableAndDriftHistoryIsBounded() async throws {
        var config = try v4Config
        config.driftHistoryLimit = 3
        let kernel = FakeKernel(routes: [connected])
        let r = try make(kernel, config: config)
        try await r.update(leases: leases, localSubnets: [prefix("10.244.1.0/24")])
        await r.sync()
        for _ in 0..<5 {
            await kernel.remove("10.244.2.0/24")
            await r.sync()
        }
        let status = await r.status()
        #expect(status.recentDrift.count == 3)
        #expect(status.driftCounts[.missing] == 5)
        let data = try JSONEncoder().encode(status)
        #expect(try JSONDecoder().decode(RouteSyncStatus.self, from: data) == status)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"kind\":\"missing\""))
    }
}
