import NetAddress
import HostGwTestSupport
import Foundation
import Netlink
import RouteSync
import SubnetLease
import Testing
import MetricsTestKit

/// What makes a pass run: kernel events, overruns, the periodic timer, and coalescing of bursts.
@Suite struct ReconcilerTriggerTests {
    let leases: [Lease]
    let b: Route

    init() throws {
        leases = [try lease("10.244.2.0/24", via: "10.0.0.2", node: "b")]
        b = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2")
    }

    @Test func kernelEventTriggersARepairWithoutBeingAsked() async throws {
        let kernel = FakeKernel()
        let r = try RouteReconciler(config: v4Config, kernel: kernel, logger: quietLogger, metricsFactory: TestMetrics())
        await r.update(leases: leases, localSubnets: [])
        await r.sync()
        let service = start(r)
        defer { service.cancel() }
        await kernel.remove("10.244.2.0/24")
        await r.handle(.routeRemoved(b))
        #expect(await eventually { await kernel.table.contains(b) })
        #expect(await eventually { await r.status().driftCounts[.missing] == 1 })
    }

    @Test func eventsTheAgentCausedDoNotTriggerAPass() async throws {
        let kernel = FakeKernel()
        let r = try RouteReconciler(config: v4Config, kernel: kernel, logger: quietLogger, metricsFactory: TestMetrics())
        await r.update(leases: leases, localSubnets: [])
        await r.sync()
        let passes = await r.status().passes
        await r.handle(.routeAdded(b))
        try await r.handle(.routeRemoved(hostgwRoute("10.244.9.0/24", via: "10.0.0.9")))
        try await r.handle(.routeAdded(Route(destination: prefix("10.244.2.0/24"), protocol: .kernel, scope: .link).with(table: 255)))
        // A trigger queues a pass at once (handle is synchronous): nothing queued, none will run.
        #expect(await !r.isBusy)
        await r.handle(.overrun)
        #expect(await r.isBusy)
        await r.sync()
        #expect(await r.status().passes == passes + 1)
    }

    @Test func burstOfTriggersCostsAtMostTwoPasses() async throws {
        let kernel = FakeKernel()
        let r = try RouteReconciler(config: v4Config, kernel: kernel, logger: quietLogger, metricsFactory: TestMetrics())
        await kernel.hold()
        await r.update(leases: leases, localSubnets: [])
        let service = start(r)
        defer { service.cancel() }
        #expect(await eventually { await kernel.waitingDumps == 1 })
        for _ in 0..<50 { await r.handle(.linkChanged(link(2, "eth0"))) }
        await r.handle(.overrun)
        await kernel.release()
        await r.sync()
        // One in flight, one queued for the burst; sync() itself joined the queued one.
        #expect(await kernel.dumps == 2)
        #expect(await r.status().passes == 2)
    }

    @Test func periodicResyncRepairsWithoutEvents() async throws {
        let clock = ManualClock()
        let kernel = FakeKernel()
        let r = try RouteReconciler(
            config: v4Config, kernel: kernel, logger: quietLogger, clock: clock, metricsFactory: TestMetrics())
        await r.update(leases: leases, localSubnets: [])
        let running = start(r)
        await r.sync()
        #expect(await eventually { clock.sleeperCount == 1 })
        await kernel.remove("10.244.2.0/24")
        // 29 s: the timer's deadline (30 s) is not reached, so it stays asleep and no pass is due.
        clock.advance(by: .seconds(29))
        #expect(clock.sleeperCount == 1)
        #expect(await !r.isBusy)
        #expect(await !kernel.table.contains(b))
        clock.advance(by: .seconds(1))
        #expect(await eventually { await kernel.table.contains(b) })
        running.cancel()
        try await running.value
        // Stopping leaves the routes in place.
        #expect(await kernel.table.contains(b))
    }

    @Test func consumeFeedsAMonitorStream() async throws {
        let kernel = FakeKernel()
        let r = try RouteReconciler(config: v4Config, kernel: kernel, logger: quietLogger, metricsFactory: TestMetrics())
        await r.update(leases: leases, localSubnets: [])
        await r.sync()
        let (stream, continuation) = AsyncThrowingStream<NetlinkEvent, any Error>.makeStream()
        let service = start(r)
        defer { service.cancel() }
        let consuming = Task { try await r.consume(events: stream) }
        await kernel.remove("10.244.2.0/24")
        continuation.yield(.routeRemoved(b))
        #expect(await eventually { await kernel.table.contains(b) })
        continuation.finish()
        try await consuming.value
    }
}

extension Route {
    func with(table: UInt32) -> Route {
        var r = self
        r.table = table
        return r
    }
}
