import NetAddress
import HostGwTestSupport
import Foundation
import Netlink
import RouteSync
import SubnetLease
import Testing
import MetricsTestKit

/// RouteReconciler against a real kernel, inside a throwaway namespace per test.
@Suite(.needsRoot)
struct KernelReconcileTests {
    @Test func kernelRoutesEqualTheLeasesInBothFamilies() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        let r = try lab.reconciler()
        try await r.update(leases: labLeases, localSubnets: labLocal)
        let first = try #require(await r.sync())
        #expect(first.results.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(try lab.hostgwRoutes(.v4) == expectedV4)
        #expect(try lab.hostgwRoutes(.v6) == expectedV6)
        #expect(await r.status().peers.map(\.state) == [.ok, .ok, .ok, .ok])
        // The kernel's own view fed back in: nothing left to do.
        let second = try #require(await r.sync())
        #expect(second.plan.isEmpty, "\(second.plan.changes)")
        #expect(second.drift.isEmpty)
    }

    @Test func deletedRouteIsRestoredByTheEventAndCountedOnceAsMissing() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        let metrics = TestMetrics()
        let r = try lab.reconciler(metrics: metrics)
        try await r.update(leases: labLeases, localSubnets: labLocal)
        await r.sync()
        let service = start(r)
        defer { service.cancel() }
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name)
        defer { monitor.stop() }
        let handled = HandledEvents()
        let consuming = Task {
            for try await event in monitor {
                await r.handle(event)
                handled.append(event)
            }
        }
        defer { consuming.cancel() }

        let clock = ContinuousClock()
        let deleted = clock.now
        try lab.ip("route", "del", "10.244.2.0/24")
        // No sync(): the route event alone must bring it back.
        #expect(await eventually { (try? lab.hostgwRoutes(.v4)) == expectedV4 })
        print("event repair: route deleted -> restored and seen by `ip` in \(clock.now - deleted)")
        #expect(await eventually { await r.status().driftCounts[.missing] == 1 })
        // The kernel's echo of the restore must not count again. A marker link added after it
        // shows every notification before it (the echo among them) was handled.
        try lab.ip("link", "add", "hgwmark0", "type", "veth", "peer", "name", "hgwmark1")
        #expect(await eventually { handled.containsLink(named: "hgwmark0") })
        await r.sync()
        let status = await r.status()
        #expect(status.driftCounts[.missing] == 1)
        let event = try #require(status.recentDrift.last)
        #expect(event.kind == .missing)
        #expect(event.repaired)
        #expect(event.peer == "b (10.0.0.2)")
        #expect(metrics.counter("hostgw_drift_events_total{kind=missing}") == 1)
    }

    @Test func replacedGatewayIsRestoredAndCountedOnceAsChanged() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        let r = try lab.reconciler()
        try await r.update(leases: labLeases, localSubnets: labLocal)
        await r.sync()
        try lab.ip("route", "replace", "10.244.3.0/24", "via", "10.0.0.99", "dev", "veth0", "proto", "77")
        let report = try #require(await r.sync())
        #expect(report.drift.map(\.kind) == [.changed])
        #expect(report.drift.first?.actual == "10.244.3.0/24 via 10.0.0.99 dev veth0 proto 77")
        #expect(report.drift.first?.repaired == true)
        #expect(try lab.hostgwRoutes(.v4) == expectedV4)
        await r.sync()
        #expect(await r.status().driftCounts[.changed] == 1)
    }

    @Test func foreignOverlappingRouteIsUntouchedAndAConflict() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        let r = try lab.reconciler()
        try await r.update(leases: labLeases, localSubnets: labLocal)
        await r.sync()
        try lab.ip("route", "add", "10.244.3.0/25", "via", "10.0.0.50", "dev", "veth0", "proto", "static")
        let report = try #require(await r.sync())
        #expect(report.drift.map(\.kind) == [.conflict])
        #expect(try lab.routes(.v4).contains("10.244.3.0/25 via 10.0.0.50 dev veth0 proto 4"))  // 4 = static
        #expect(try lab.hostgwRoutes(.v4) == ["10.244.2.0/24 via 10.0.0.2 dev veth0 proto 77"])
        let conflicted = try prefix("10.244.3.0/24")
        let peer = try #require(await r.status().peers.first { $0.subnet == conflicted })
        #expect(peer.state == .conflict)
        #expect(await r.status().driftCounts[.conflict] == 1)
        // Once the other owner removes it, the route comes back.
        try lab.ip("route", "del", "10.244.3.0/25", "proto", "static")
        await r.sync()
        #expect(try lab.hostgwRoutes(.v4) == expectedV4)
    }

    @Test func deletedLeaseRemovesItsRoute() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        let r = try lab.reconciler()
        try await r.update(leases: labLeases, localSubnets: labLocal)
        await r.sync()
        try await r.update(leases: Array(labLeases.prefix(2)), localSubnets: labLocal)
        let report = try #require(await r.sync())
        #expect(report.drift.isEmpty)
        #expect(try lab.hostgwRoutes(.v4) == ["10.244.2.0/24 via 10.0.0.2 dev veth0 proto 77"])
        #expect(try lab.hostgwRoutes(.v6) == ["fd10:244:0:2::/64 via fd00::2 dev veth0 proto 77"])
    }

    @Test func peerNotOnLinkGetsNoRouteAndIsNotAdjacent() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        let r = try lab.reconciler(RouteSyncConfig(podNetworks: [.v4: prefix("10.244.0.0/16")]))
        try await r.update(leases: [lease("10.244.5.0/24", via: "192.168.50.2", node: "far")], localSubnets: [])
        let report = try #require(await r.sync())
        #expect(report.plan.isEmpty)
        #expect(try lab.hostgwRoutes(.v4).isEmpty)
        let peer = try #require(await r.status().peers.first)
        #expect(peer.state == .notAdjacent)
        #expect(peer.reason?.contains("10.0.0.0/24 on veth0") == true)
    }

    @Test func staleRouteFromBeforeARestartIsRemovedOnTheFirstPass() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        try lab.ip("route", "add", "10.244.9.0/24", "via", "10.0.0.9", "dev", "veth0", "proto", "77")
        try lab.ip("route", "add", "10.244.2.0/24", "via", "10.0.0.2", "dev", "veth0", "proto", "77")
        let r = try lab.reconciler()
        try await r.update(leases: labLeases, localSubnets: labLocal)
        let report = try #require(await r.sync())
        #expect(report.drift.map(\.kind) == [.unexpected])
        #expect(report.drift.first?.repaired == true)
        #expect(try lab.hostgwRoutes(.v4) == expectedV4)
    }

    @Test func observeOnlyReportsButDoesNotRepair() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        try lab.ip("route", "add", "10.244.2.0/24", "via", "10.0.0.2", "dev", "veth0", "proto", "77")
        try lab.ip("route", "add", "10.244.3.0/24", "via", "10.0.0.3", "dev", "veth0", "proto", "77")
        try lab.ip("route", "add", "10.244.9.0/24", "via", "10.0.0.9", "dev", "veth0", "proto", "77")
        var config = try RouteSyncConfig(podNetworks: [.v4: prefix("10.244.0.0/16")])
        config.observeOnly = true
        let r = try lab.reconciler(config)
        try await r.update(leases: labLeases, localSubnets: labLocal)
        let first = try #require(await r.sync())
        #expect(first.drift.map(\.kind) == [.unexpected])
        try lab.ip("route", "del", "10.244.2.0/24")
        let second = try #require(await r.sync())
        #expect(second.drift.map(\.kind) == [.missing])
        #expect(second.drift.allSatisfy { !$0.repaired })
        #expect(
            try lab.hostgwRoutes(.v4) == [
                "10.244.3.0/24 via 10.0.0.3 dev veth0 proto 77", "10.244.9.0/24 via 10.0.0.9 dev veth0 proto 77",
            ])
        #expect(await r.status().peers.map(\.state) == [.missing, .ok])
    }

    @Test func linkDownAndUpAndAddressChangeAreFollowed() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        let r = try lab.reconciler(RouteSyncConfig(podNetworks: [.v4: prefix("10.244.0.0/16")]))
        try await r.update(leases: labLeases, localSubnets: labLocal)
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name)
        defer { monitor.stop() }
        let service = start(r)
        defer { service.cancel() }
        let consuming = Task { try await r.consume(events: monitor) }
        defer { consuming.cancel() }
        await r.sync()
        #expect(try lab.hostgwRoutes(.v4) == expectedV4)

        try lab.ip("link", "set", "veth0", "down")
        #expect(await eventually { await r.status().peers.map(\.state) == [.notAdjacent, .notAdjacent] })
        #expect(try lab.hostgwRoutes(.v4).isEmpty)
        try lab.ip("link", "set", "veth0", "up")
        #expect(await eventually { (try? lab.hostgwRoutes(.v4)) == expectedV4 })
        #expect(await eventually { await r.status().peers.map(\.state) == [.ok, .ok] })

        // The node moves to another subnet: the peers are no longer on-link, their routes go.
        try lab.ip("addr", "del", "10.0.0.1/24", "dev", "veth0")
        try lab.ip("addr", "add", "10.0.1.1/24", "dev", "veth0")
        #expect(await eventually { await r.status().peers.map(\.state) == [.notAdjacent, .notAdjacent] })
        #expect(try lab.hostgwRoutes(.v4).isEmpty)
        // And back.
        try lab.ip("addr", "add", "10.0.0.1/24", "dev", "veth0")
        #expect(await eventually { (try? lab.hostgwRoutes(.v4)) == expectedV4 })
        // Routes that went with the link are not drift: the agent followed the kernel.
        let status = await r.status()
        #expect(status.driftCounts[.missing] == 0, "drift: \(status.recentDrift)")
    }

    @Test func removeAllDeletesOnlyHostgwRoutes() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        try lab.ip("route", "add", "10.244.7.0/24", "via", "10.0.0.7", "dev", "veth0", "proto", "static")
        let r = try lab.reconciler()
        try await r.update(leases: labLeases, localSubnets: labLocal)
        await r.sync()
        let removal = try await RouteRemoval.removeAll(
            from: lab.client, table: labConfig.table, protocol: labConfig.routeProtocol, logger: quietLogger)
        #expect(removal.removed.count == 4)
        #expect(removal.failures.isEmpty)
        #expect(try lab.hostgwRoutes(.v4).isEmpty)
        #expect(try lab.hostgwRoutes(.v6).isEmpty)
        #expect(try lab.routes(.v4).contains("10.244.7.0/24 via 10.0.0.7 dev veth0 proto 4"))  // 4 = static
    }
}
