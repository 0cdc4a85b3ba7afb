// Kernel-event passes: a burst joins one pass, and passes fighting another process over a route
// are at least the minimum interval apart; other triggers are never delayed.
import HostGwTestSupport
import Foundation
import NetAddress
import Netlink
import SubnetLease
import Testing

@testable import RouteSync
import MetricsTestKit

@Suite struct PassPacerTests {
    @Test func kernelEventsWaitToCoalesceOthersStartAtOnce() {
        let clock = ManualClock()
        let pacer = PassPacer(coalesce: .milliseconds(5), burst: 10, perSecond: 10, clock: clock)
        #expect(pacer.delay(for: .kernelEvent) == .milliseconds(5))
        for t in [ReconcileTrigger.leases, .periodic, .startup, .manual, .overrun] { #expect(pacer.delay(for: t) == .zero) }
    }

    /// A drift shortly after a pass is repaired at once (a fixed gap after every pass held
    /// ordinary repairs back by up to that gap: drift repair p99 went from 2 to 133 ms).
    @Test func aKernelPassSoonAfterAnotherIsNotHeldBack() {
        let clock = ManualClock()
        var pacer = PassPacer(coalesce: .milliseconds(5), burst: 10, perSecond: 10, clock: clock)
        pacer.passStarted()
        clock.advance(by: .milliseconds(20))
        #expect(pacer.delay(for: .kernelEvent) == .milliseconds(5))
        pacer.passStarted()
        clock.advance(by: .milliseconds(20))
        #expect(pacer.delay(for: .kernelEvent) == .milliseconds(5))
    }

    /// Back to back passes spend the burst; then they are spaced by the refill (1 / perSecond),
    /// and a quiet spell refills the budget.
    @Test func anEmptyBudgetSpacesPassesByTheRefill() {
        let clock = ManualClock()
        var pacer = PassPacer(coalesce: .milliseconds(5), burst: 3, perSecond: 10, clock: clock)
        for _ in 0..<3 {
            #expect(pacer.delay(for: .kernelEvent) == .milliseconds(5))
            pacer.passStarted()
        }
        #expect(pacer.delay(for: .kernelEvent) == .milliseconds(100))
        #expect(pacer.delay(for: .leases) == .zero)
        clock.advance(by: .milliseconds(40))
        #expect(pacer.delay(for: .kernelEvent) == .milliseconds(60))
        clock.advance(by: .milliseconds(60))
        #expect(pacer.delay(for: .kernelEvent) == .milliseconds(5))
        pacer.passStarted()
        #expect(pacer.delay(for: .kernelEvent) == .milliseconds(100))
        clock.advance(by: .seconds(10))
        for _ in 0..<3 {
            #expect(pacer.delay(for: .kernelEvent) == .milliseconds(5))
            pacer.passStarted()
        }
    }

    /// However fast the events come, passes over a long fight average at most `perSecond`.
    @Test func aLongFightCostsAtMostTheRefillRate() {
        let clock = ManualClock()
        var pacer = PassPacer(coalesce: .milliseconds(5), burst: 10, perSecond: 10, clock: clock)
        var passes = 0
        var elapsed = Duration.zero
        while elapsed < .seconds(10) {
            let wait = pacer.delay(for: .kernelEvent)
            clock.advance(by: wait)
            elapsed += wait
            pacer.passStarted()
            passes += 1
            // The other process answers each repair at once.
            clock.advance(by: .milliseconds(1))
            elapsed += .milliseconds(1)
        }
        #expect(passes <= 10 + 10 * 10 + 1, "\(passes) passes in 10 s")
        #expect(passes >= 100)
    }

    /// A process deleting hostgw's route again after every repair: the events keep coming, but
    /// the passes (full dumps) do not follow them one for one.
    @Test func aFightOverOneRouteDoesNotGetAPassPerEvent() async throws {
        let clock = ManualClock()
        let kernel = FakeKernel()
        let leases = try [lease("10.244.2.0/24", via: "10.0.0.2", node: "b")]
        let b = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2")
        let r = try RouteReconciler(config: v4Config, kernel: kernel, logger: quietLogger, clock: clock, metricsFactory: TestMetrics())
        await r.update(leases: leases, localSubnets: [])
        await r.sync()
        let service = start(r)
        defer { service.cancel() }
        // The service's startup pass, then only its periodic timer sleeps on the clock.
        #expect(await eventually { let busy = await r.isBusy; return await r.status().passes == 2 && !busy && clock.sleeperCount == 1 })
        let before = await r.status().passes
        for _ in 0..<20 {
            await kernel.remove("10.244.2.0/24")
            await r.handle(.routeRemoved(b))
        }
        // The first event's pass waits on the clock; every later event joined it.
        #expect(await eventually { clock.sleeperCount == 2 })
        #expect(await r.status().passes == before)
        clock.advance(by: .milliseconds(5))
        #expect(await eventually { await kernel.table.contains(b) })
        #expect(await eventually { let busy = await r.isBusy; return await r.status().passes == before + 1 && !busy })
        // Idle with nothing queued: no later pass can follow the 20 events.
        #expect(await r.status().passes == before + 1)
        // The drift counter still counted the repair.
        #expect(await r.status().driftCounts[.missing] == 1)
    }
}

@Suite struct DriftLogSummaryTests {
    let key: DriftLogSummary.Key

    init() throws { key = DriftLogSummary.Key(subnet: try prefix("10.244.2.0/24"), kind: .missing) }

    @Test func firstDriftIsLoggedThenRepeatsAreCountedPerInterval() {
        let clock = ManualClock()
        var log = DriftLogSummary(interval: .seconds(60), clock: clock)
        do { let v = log.admit(key); #expect(v) }
        for _ in 0..<99 {
            clock.advance(by: .milliseconds(200))
            do { let v = log.admit(key); #expect(!v) }
        }
        do { let v = log.due(); #expect(v.isEmpty) }
        clock.advance(by: .seconds(60))
        do { let v = log.due(); #expect(v == [.init(key: key, count: 99)]) }
        // Still fighting: one more summary per interval, not a line per drift.
        for _ in 0..<5 { let v = log.admit(key); #expect(!v) }
        clock.advance(by: .seconds(60))
        do { let v = log.due(); #expect(v == [.init(key: key, count: 5)]) }
        // Quiet for an interval: forgotten, and the next drift is a first occurrence again.
        clock.advance(by: .seconds(60))
        do { let v = log.due(); #expect(v.isEmpty) }
        do { let v = log.admit(key); #expect(v) }
    }

    @Test func routesAreSummarisedSeparately() throws {
        let clock = ManualClock()
        var log = DriftLogSummary(interval: .seconds(60), clock: clock)
        let other = try DriftLogSummary.Key(subnet: prefix("10.244.3.0/24"), kind: .missing)
        let changed = try DriftLogSummary.Key(subnet: prefix("10.244.2.0/24"), kind: .changed)
        do { let v = log.admit(key); #expect(v) }
        do { let v = log.admit(other); #expect(v) }
        do { let v = log.admit(changed); #expect(v) }
        do { let v = log.admit(key); #expect(!v) }
        clock.advance(by: .seconds(61))
        do { let v = log.due(); #expect(v == [.init(key: key, count: 1)]) }
    }
}
