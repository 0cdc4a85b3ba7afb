import HostGwTestSupport
import Foundation
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing
import MetricsTestKit

/// The mass-deletion hold (issue 11, item 5): a snapshot that would delete more than half of the
/// peer routes (at least two) keeps them for the grace period; one node leaving is never held.
@Suite struct MassDeletionHoldTests {
    let own: Lease
    let local: [IPPrefix]

    init() throws {
        own = try lease("10.244.1.0/24", via: "10.0.0.1", node: "n1")
        local = [try prefix("10.244.1.0/24")]
    }

    func peers(_ n: Int) throws -> [Lease] {
        try (2...(n + 1)).map { try lease("10.244.\($0).0/24", via: "10.0.0.\($0)", node: "n\($0)") }
    }

    func subnets(_ leases: [Lease]) -> [String] { leases.compactMap { $0.subnet?.description }.sorted() }

    @Test func deletingEveryLeaseIsHeldThenExpires() throws {
        let clock = ManualClock()
        var hold = MassDeletionHold(grace: .seconds(10), clock: clock)
        let all = try [own] + peers(3)
        #expect(hold.admit(all, localSubnets: local).event == nil)

        let emptied = hold.admit([], localSubnets: local)
        #expect(emptied.event == .started(held: 3, peers: 3))
        #expect(try subnets(emptied.leases) == subnets(peers(3)))
        #expect(hold.remaining == .seconds(10))

        // A resync before the grace ends changes nothing and logs nothing again.
        clock.advance(by: .seconds(9))
        let again = hold.admit([], localSubnets: local)
        #expect(again.event == nil)
        #expect(try subnets(again.leases) == subnets(peers(3)))

        clock.advance(by: .seconds(1))
        let due = hold.admit([], localSubnets: local)
        #expect(due.event == .expired(removed: 3))
        #expect(due.leases.isEmpty)
        #expect(!hold.isHolding && hold.remaining == nil)
        // Nothing left to hold: later snapshots go straight through.
        #expect(hold.admit([], localSubnets: local).event == nil)
    }

    @Test func leasesThatComeBackEndTheHold() throws {
        let clock = ManualClock()
        var hold = MassDeletionHold(grace: .seconds(10), clock: clock)
        let p = try peers(3)
        _ = hold.admit([own] + p, localSubnets: local)
        #expect(hold.admit([], localSubnets: local).event == .started(held: 3, peers: 3))

        // Two nodes re-claim; the third is still held.
        let partial = hold.admit([own, p[0], p[1]], localSubnets: local)
        #expect(partial.event == nil)
        #expect(subnets(partial.leases) == subnets([own] + p))
        #expect(hold.status?.held.map(\.key) == [p[2].key])

        let whole = hold.admit([own] + p, localSubnets: local)
        #expect(whole.event == .resolved)
        #expect(!hold.isHolding)
    }

    @Test func aReclaimWithAnotherAddressIsRoutedFromTheStore() throws {
        let clock = ManualClock()
        var hold = MassDeletionHold(grace: .seconds(10), clock: clock)
        let p = try peers(2)
        _ = hold.admit(p, localSubnets: local)
        _ = hold.admit([], localSubnets: local)
        let moved = try lease("10.244.2.0/24", via: "10.0.0.42", node: "n2")
        let d = hold.admit([moved], localSubnets: local)
        #expect(d.leases.first { $0.key == moved.key }?.attributes.publicIP?.description == "10.0.0.42")
        #expect(d.leases.filter { $0.key == moved.key }.count == 1)
    }

    @Test func oneNodeLeavingIsNeverHeld() throws {
        let clock = ManualClock()
        var hold = MassDeletionHold(grace: .seconds(10), clock: clock)
        let p = try peers(2)
        _ = hold.admit([own] + p, localSubnets: local)
        // One of two peers: half, and fewer than two.
        let left = hold.admit([own, p[0]], localSubnets: local)
        #expect(left.event == nil)
        #expect(subnets(left.leases) == subnets([own, p[0]]))
        // Two-node cluster: its only peer leaving is a departure.
        var small = MassDeletionHold(grace: .seconds(10), clock: clock)
        _ = small.admit([own, p[0]], localSubnets: local)
        #expect(small.admit([own], localSubnets: local).event == nil)
    }

    @Test func halfOrLessIsNotAMassDeletion() throws {
        let clock = ManualClock()
        var hold = MassDeletionHold(grace: .seconds(10), clock: clock)
        let p = try peers(4)
        _ = hold.admit(p, localSubnets: local)
        // Exactly half (2 of 4) goes through.
        #expect(hold.admit(Array(p.prefix(2)), localSubnets: local).event == nil)
        var other = MassDeletionHold(grace: .seconds(10), clock: clock)
        _ = other.admit(p, localSubnets: local)
        // Three of four is held.
        #expect(other.admit([p[0]], localSubnets: local).event == .started(held: 3, peers: 4))
    }

    @Test func ownLeaseIsNotAPeerRoute() throws {
        let clock = ManualClock()
        var hold = MassDeletionHold(grace: .seconds(10), clock: clock)
        let p = try peers(2)
        _ = hold.admit([own] + p, localSubnets: local)
        // Our own lease and one peer gone: one peer route, not held.
        #expect(hold.admit([p[0]], localSubnets: local).event == nil)
    }

    @Test func deletionsDuringAHoldWaitForTheSameDeadline() throws {
        let clock = ManualClock()
        var hold = MassDeletionHold(grace: .seconds(10), clock: clock)
        let p = try peers(5)
        _ = hold.admit(p, localSubnets: local)
        #expect(hold.admit([p[3], p[4]], localSubnets: local).event == .started(held: 3, peers: 5))
        clock.advance(by: .seconds(4))
        let more = hold.admit([p[4]], localSubnets: local)
        #expect(subnets(more.leases) == subnets(p))
        #expect(hold.remaining == .seconds(6))
        clock.advance(by: .seconds(6))
        #expect(hold.admit([p[4]], localSubnets: local).event == .expired(removed: 4))
    }
}

/// The hold wired into the reconciler: routes stay in the kernel through the grace, and go when
/// it runs out without another snapshot.
@Suite struct ReconcilerDeletionHoldTests {
    @Test func massDeletionKeepsRoutesUntilTheGraceRunsOut() async throws {
        let leases = try [
            lease("10.244.1.0/24", via: "10.0.0.1", node: "self"),
            lease("10.244.2.0/24", via: "10.0.0.2", node: "b"),
            lease("10.244.3.0/24", via: "10.0.0.3", node: "c"),
        ]
        let kernel = FakeKernel()
        let clock = ManualClock()
        let metrics = TestMetrics()
        var config = try v4Config
        config.deletionGrace = .seconds(10)
        let r = RouteReconciler(config: config, kernel: kernel, logger: quietLogger, clock: clock, metricsFactory: metrics)
        let local = try [prefix("10.244.1.0/24")]
        await r.update(leases: leases, localSubnets: local)
        _ = await r.sync()
        let installed = Set(await kernel.table.filter { $0.protocol == .hostgw }.map(\.destination))
        #expect(installed.count == 2)

        await r.update(leases: [], localSubnets: local)
        _ = await r.sync()
        #expect(Set(await kernel.table.filter { $0.protocol == .hostgw }.map(\.destination)) == installed)
        let held = try #require(await r.status().deletionHold)
        #expect(Set(held.subnets) == installed)
        #expect(metrics.gauge("hostgw_route_deletions_held") == 2)
        #expect(metrics.counter("hostgw_route_deletion_holds_total") == 1)

        // The grace runs out with no further snapshot: the reconciler's own timer removes them
        // (the service sleeps twice on the clock: the periodic resync and the hold).
        let service = start(r)
        defer { service.cancel() }
        #expect(await eventually { clock.sleeperCount == 2 })
        clock.advance(by: .seconds(10))
        #expect(await eventually { await kernel.table.filter { $0.protocol == .hostgw }.isEmpty })
        #expect(await r.status().deletionHold == nil)
        #expect(metrics.gauge("hostgw_route_deletions_held") == 0)
    }

    @Test func oneNodeLeavingIsRemovedAtOnce() async throws {
        let leases = try [
            lease("10.244.1.0/24", via: "10.0.0.1", node: "self"),
            lease("10.244.2.0/24", via: "10.0.0.2", node: "b"),
            lease("10.244.3.0/24", via: "10.0.0.3", node: "c"),
        ]
        let kernel = FakeKernel()
        let r = try RouteReconciler(config: v4Config, kernel: kernel, logger: quietLogger, clock: ManualClock(), metricsFactory: TestMetrics())
        let local = try [prefix("10.244.1.0/24")]
        await r.update(leases: leases, localSubnets: local)
        _ = await r.sync()
        await r.update(leases: Array(leases.prefix(2)), localSubnets: local)
        _ = await r.sync()
        #expect(try await kernel.table.filter { $0.protocol == .hostgw }.map(\.destination) == [prefix("10.244.2.0/24")])
        #expect(await r.status().deletionHold == nil)
    }
}
