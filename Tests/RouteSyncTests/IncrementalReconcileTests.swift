import HostGwTestSupport
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing
import MetricsTestKit

/// Issue 15: a lease event plans against what the reconciler already knows of the table (the last
/// dump plus its own changes), not a new dump; every other trigger still dumps.
@Suite struct IncrementalReconcileTests {
    let addresses: [InterfaceAddress]
    let config: RouteSyncConfig

    init() throws {
        addresses = [try address("172.16.255.254/16", on: 2)]
        var c = RouteSyncConfig(podNetworks: [.v4: try prefix("10.32.0.0/11")], localSubnets: [try prefix("10.32.0.0/24")])
        c.subnetLengths = [.v4: 24]
        config = c
    }

    func peers(_ count: Int) throws -> [Lease] {
        try (1...count).map { n in try lease("10.\(32 + n / 256).\(n % 256).0/24", via: gateway(n), node: "n\(n)") }
    }

    func gateway(_ n: Int, moved: Bool = false) -> String { "172.16.\(n / 256 + (moved ? 100 : 0)).\(n % 256 == 0 ? 1 : n % 256)" }

    /// The running service, with every lease route already in the kernel (as after a restart),
    /// once its startup pass is done.
    func running(_ leases: [Lease], others: [Route] = []) async throws -> (RouteReconciler, FakeKernel, Task<Void, any Error>) {
        let installed = DesiredRoutes(leases: leases, config: config, links: nodeLinks, addresses: addresses).routes
        let kernel = FakeKernel(routes: installed + others, addresses: addresses)
        let r = RouteReconciler(config: config, kernel: kernel, logger: quietLogger, metricsFactory: TestMetrics())
        await r.update(leases: leases, localSubnets: config.localSubnets)
        let service = start(r)
        #expect(await eventually { await idleAfter(r, passes: 1) })
        #expect(await kernel.dumps == 1)
        #expect(await kernel.applied.isEmpty)
        return (r, kernel, service)
    }

    func idleAfter(_ r: RouteReconciler, passes: Int) async -> Bool {
        let busy = await r.isBusy
        return await r.status().passes == passes && !busy
    }

    @Test func oneLeaseEventAtFiveThousandPeersDumpsNothingAndChangesOnlyItsRoute() async throws {
        var leases = try peers(5000)
        let (r, kernel, service) = try await running(leases)
        defer { service.cancel() }
        let fullSync = try #require(await r.status().lastFullSync)
        // Peer 77 moves to another IP: one lease changes in a snapshot of 5,000.
        leases[76] = try lease("10.32.77.0/24", via: gateway(77, moved: true), node: "n77")
        await r.update(leases: leases, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 2) })
        #expect(await kernel.dumps == 1, "a lease event dumped the table")
        #expect(await r.status().lastFullSync == fullSync, "a pass that read no table is no full sync")
        let changes = await kernel.applied.flatMap { $0 }
        #expect(changes.map(\.kind) == [.replace])
        #expect(try changes.map(\.route.destination) == [prefix("10.32.77.0/24")])
        let moved = try hostgwRoute("10.32.77.0/24", via: gateway(77, moved: true))
        #expect(await kernel.table.contains { $0.destination == moved.destination && $0.gateway == moved.gateway })
        let status = await r.status()
        #expect(status.peerCounts[.ok] == 5000, "\(status.peers.filter { $0.state != .ok }.prefix(3))")
        // A lease that goes, and one that comes: still no dump, only their routes.
        let gone = leases.removeLast()
        try leases.append(lease("10.51.200.0/24", via: "172.16.200.200", node: "new"))
        await r.update(leases: leases, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 3) })
        #expect(await kernel.dumps == 1)
        let second = await kernel.applied.dropFirst().flatMap { $0 }
        #expect(try Set(second.map(\.route.destination)) == [gone.subnet!, prefix("10.51.200.0/24")])
        #expect(await r.status().driftCounts.values.reduce(0, +) == 0)
    }

    /// A watcher's snapshot that follows the last one given is followed by the changes it names,
    /// with no walk of every lease (the walk would also have found the unnamed change); one that
    /// follows another snapshot is compared in full.
    @Test func aSnapshotFollowingTheLastOneIsFollowedByTheChangesItNames() async throws {
        var leases = try peers(50)
        let (r, kernel, service) = try await running(leases)
        defer { service.cancel() }
        let first = LeaseSnapshot.Stamp(feed: 3, sequence: 1)
        await r.update(LeaseSnapshot(revision: 1, leases: leases, skipped: [], stamp: first), localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 2) })
        let old = leases[9]
        leases[9] = try lease("10.32.10.0/24", via: gateway(10, moved: true), node: "n10")
        leases[19] = try lease("10.32.20.0/24", via: gateway(20, moved: true), node: "n20")
        var named = LeaseSnapshot(revision: 2, leases: leases, skipped: [], stamp: .init(feed: 3, sequence: 2))
        named.changes = .init(base: first, leases: [.init(before: old, after: leases[9])])
        await r.update(named, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 3) })
        #expect(try await kernel.applied.flatMap { $0 }.map(\.route.destination) == [prefix("10.32.10.0/24")])
        leases[29] = try lease("10.32.30.0/24", via: gateway(30, moved: true), node: "n30")
        var unrelated = LeaseSnapshot(revision: 3, leases: leases, skipped: [], stamp: .init(feed: 3, sequence: 3))
        unrelated.changes = .init(base: first, leases: [])
        await r.update(unrelated, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 4) })
        #expect(try await kernel.applied.dropFirst().flatMap { $0 }.map(\.route.destination) == [prefix("10.32.30.0/24")])
        #expect(await kernel.dumps == 1)
    }

    /// Every IPv6 interface has its own `fe80::/64 metric 256` in the main table (a node with pods
    /// has one per veth): routes sharing a slot are kept as dumped, and lease passes still plan
    /// against the view. (They once made the view impossible, so every lease pass dumped.)
    @Test func linkLocalRoutesOnManyDevicesDoNotMakeLeasePassesDump() async throws {
        let linkLocal = try (2...6).map { dev in
            Route(destination: try prefix("fe80::/64"), outputInterface: UInt32(dev), protocol: .kernel, scope: .link, priority: 256)
        }
        var leases = try peers(50)
        let (r, kernel, service) = try await running(leases, others: linkLocal)
        defer { service.cancel() }
        leases[9] = try lease("10.32.10.0/24", via: gateway(10, moved: true), node: "n10")
        await r.update(leases: leases, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 2) })
        #expect(await kernel.dumps == 1, "a lease event dumped the table")
        #expect(try await kernel.applied.flatMap { $0 }.map(\.route.destination) == [prefix("10.32.10.0/24")])
        #expect(await kernel.table.filter { $0.destination == linkLocal[0].destination }.count == linkLocal.count)
        #expect(await r.status().driftCounts.values.reduce(0, +) == 0)
    }

    /// Drift is found exactly as before: a kernel event dumps, and the repair follows.
    @Test func aKernelEventAfterLeasePassesStillDumpsAndRepairs() async throws {
        var leases = try peers(50)
        let (r, kernel, service) = try await running(leases)
        defer { service.cancel() }
        leases[9] = try lease("10.32.10.0/24", via: gateway(10, moved: true), node: "n10")
        await r.update(leases: leases, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 2) })
        #expect(await kernel.dumps == 1)
        // Someone deletes peer 20's route: the event's pass dumps and puts it back as drift.
        let subnet20 = try prefix("10.32.20.0/24")
        let victim = try #require(await kernel.table.first { $0.destination == subnet20 })
        await kernel.remove("10.32.20.0/24")
        await r.handle(.routeRemoved(victim))
        #expect(await eventually { await idleAfter(r, passes: 3) })
        #expect(await kernel.dumps == 2)
        #expect(await kernel.table.contains(victim))
        #expect(await r.status().driftCounts[.missing] == 1)
    }

    /// A change the kernel refused leaves the table unknown: the next lease pass dumps.
    @Test func aFailedChangeMakesTheNextLeasePassDump() async throws {
        var leases = try peers(50)
        let (r, kernel, service) = try await running(leases)
        defer { service.cancel() }
        await kernel.setFailure("10.32.10.0/24", .ENETUNREACH)
        leases[9] = try lease("10.32.10.0/24", via: gateway(10, moved: true), node: "n10")
        await r.update(leases: leases, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 2) })
        #expect(await kernel.dumps == 1)
        leases[19] = try lease("10.32.20.0/24", via: gateway(20, moved: true), node: "n20")
        await r.update(leases: leases, localSubnets: config.localSubnets)
        #expect(await eventually { await idleAfter(r, passes: 3) })
        #expect(await kernel.dumps == 2)
    }

    /// Lease passes that judge only the touched subnets leave the kernel, the peers and the
    /// drift exactly as passes that dump and judge everything: through peers that come, go and
    /// move, two leases claiming one subnet, a gateway off the link and a foreign route blocking
    /// one peer (a conflict that must stay reported, once).
    @Test(arguments: [1, 2, 3])
    func leasePassesJudgingTouchedSubnetsEqualFullPasses(seed: UInt64) async throws {
        var rng = SplitMix(seed: seed)
        let foreign = try Route(destination: prefix("10.32.5.0/24"), gateway: ip("172.16.9.9"), protocol: .static)
        let fast = FakeKernel(routes: [foreign], addresses: addresses)
        let full = FakeKernel(routes: [foreign], addresses: addresses)
        let incremental = RouteReconciler(config: config, kernel: fast, logger: quietLogger, metricsFactory: TestMetrics())
        let reference = RouteReconciler(config: config, kernel: full, logger: quietLogger, metricsFactory: TestMetrics())
        var leases = try peers(40)
        await incremental.update(leases: leases, localSubnets: config.localSubnets)
        let service = start(incremental)
        defer { service.cancel() }
        #expect(await eventually { await idleAfter(incremental, passes: 1) })
        for step in 2...40 {
            let n = Int(rng.next() % 60) + 1
            let subnet = "10.\(32 + n / 256).\(n % 256).0/24"
            switch rng.next() % 4 {
            case 0: leases.removeAll { $0.subnet?.description == subnet }
            case 1:
                // A younger second claim on the subnet (another key: it names an IPv6 subnet this
                // network does not route), or a gateway no link reaches.
                var l = try lease(subnet, via: rng.next() % 2 == 0 ? gateway(n, moved: true) : "192.168.0.\(n)", node: "x\(n)", v6: "fd00:0:0:\(n)::/64")
                l.createRevision = Int64(step)
                leases.removeAll { $0.subnet?.description == subnet && $0.createRevision == nil && rng.next() % 2 == 0 }
                leases.append(l)
            default:
                leases.removeAll { $0.subnet?.description == subnet }
                leases.append(try lease(subnet, via: gateway(n, moved: rng.next() % 2 == 0), node: "n\(n)"))
            }
            // A key may hold one lease: the first of a subnet stays (the store keys by subnet).
            var seen = Set<String>()
            leases = leases.filter { seen.insert($0.key).inserted }
            await incremental.update(leases: leases, localSubnets: config.localSubnets)
            #expect(await eventually { await idleAfter(incremental, passes: step) })
            await reference.update(leases: leases, localSubnets: config.localSubnets)
            await reference.sync()
            let (a, b) = (await incremental.status(), await reference.status())
            #expect(a.peers == b.peers, "step \(step)")
            #expect(a.driftCounts == b.driftCounts, "step \(step)")
            #expect(Set(await fast.table) == Set(await full.table), "step \(step)")
        }
        #expect(await fast.dumps == 1, "lease passes dumped the table")
        #expect(await incremental.status().driftCounts[.conflict, default: 0] >= 1, "the blocked peer was never reported")
    }
}
