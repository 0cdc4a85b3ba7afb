import NetAddress
import Foundation
import SubnetLease
import Testing

@testable import HostGwAgent

@Suite struct HealthPolicyTests {
    let policy = HealthPolicy(stuckAfter: .seconds(90), storeGrace: .seconds(60), leaseExpiryMargin: .seconds(3600))
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test func healthyWhenReconcilingAndStoreReachable() {
        var s = HealthSnapshot()
        s.startedAt = t0
        s.lastReconcile = t0.addingTimeInterval(50)
        #expect(healthProblems(s, policy: policy, now: t0.addingTimeInterval(100)).isEmpty)
    }

    @Test func storeLossFailsOnlyPastTheGracePeriod() {
        var s = HealthSnapshot()
        s.startedAt = t0
        s.lastReconcile = t0.addingTimeInterval(100)
        s.storeReachable = false
        s.storeUnreachableSince = t0.addingTimeInterval(50)
        #expect(healthProblems(s, policy: policy, now: t0.addingTimeInterval(105)).isEmpty)
        let problems = healthProblems(s, policy: policy, now: t0.addingTimeInterval(111))
        #expect(problems == [.storeUnreachable(seconds: 61, grace: 60, error: nil)])
        #expect(problems[0].description.hasPrefix("store unreachable for 61s"))
    }

    @Test func stuckLoopAndExpiringUnrenewedLeaseFail() {
        var s = HealthSnapshot()
        s.startedAt = t0
        s.lastReconcile = t0
        s.leaseExpiration = t0.addingTimeInterval(1000)
        s.leaseRenewalFailures = 3
        let problems = healthProblems(s, policy: policy, now: t0.addingTimeInterval(91))
        #expect(problems.count == 2)
        #expect(problems.contains(.reconcileStuck(seconds: 91)))
        #expect(problems.contains(.leaseExpiring(seconds: 909, failures: 3)))
        #expect(!watchdogShouldPing(s, policy: policy, now: t0.addingTimeInterval(91)), "a stuck loop stops the pings")
    }

    /// The store answers its probe, but listing or watching the leases keeps failing: the agent
    /// is deaf to its peers, and health must not stay green (it did before).
    @Test func aLeaseWatchFailingPastTheGraceIsUnhealthyWhileTheStoreAnswers() {
        var s = HealthSnapshot()
        s.startedAt = t0
        s.lastReconcile = t0.addingTimeInterval(100)
        s.leaseFeed = LeaseFeedHealth(failingSince: t0.addingTimeInterval(40), consecutiveFailures: 7, lastError: "watch canceled")
        #expect(healthProblems(s, policy: policy, now: t0.addingTimeInterval(100)).isEmpty, "inside the grace")
        let problems = healthProblems(s, policy: policy, now: t0.addingTimeInterval(101))
        #expect(problems == [.leaseWatchFailing(seconds: 61, grace: 60, failures: 7, error: "watch canceled")])
        #expect(problems[0].description.contains("peer lease changes are not seen"))
        #expect(watchdogShouldPing(s, policy: policy, now: t0.addingTimeInterval(101)), "retried inside; a restart would not help")
        // With the store unreachable too, the one problem to act on is the store.
        s.storeReachable = false
        s.storeUnreachableSince = t0.addingTimeInterval(30)
        #expect(healthProblems(s, policy: policy, now: t0.addingTimeInterval(101)) == [.storeUnreachable(seconds: 71, grace: 60, error: nil)])
        // Working again: healthy.
        s = HealthSnapshot()
        s.startedAt = t0
        s.lastReconcile = t0.addingTimeInterval(100)
        #expect(healthProblems(s, policy: policy, now: t0.addingTimeInterval(101)).isEmpty)
    }

    /// Waiting for the store at start is progress: pings go on while attempts keep coming, and
    /// stop when one step hangs for longer than `stuckAfter`.
    @Test func waitingWithBackoffKeepsTheWatchdogFed() {
        var s = HealthSnapshot()
        s.startedAt = t0
        s.waitingFor = "read the network config"
        s.lastProgress = t0.addingTimeInterval(95)
        let problems = healthProblems(s, policy: policy, now: t0.addingTimeInterval(100))
        #expect(problems == [.notReconciledSinceStart(seconds: 100, waitingFor: "read the network config")])
        #expect(problems[0].description.hasSuffix("still trying to read the network config"))
        #expect(watchdogShouldPing(s, policy: policy, now: t0.addingTimeInterval(100)))
        #expect(!watchdogShouldPing(s, policy: policy, now: t0.addingTimeInterval(186)), "no attempt for 91 s: stuck")
        s.lastProgress = nil
        #expect(!watchdogShouldPing(s, policy: policy, now: t0.addingTimeInterval(100)), "no sign of progress at all")
    }
}

@Suite struct MetricHelpTests {
    @Test func helpIsAddedOnceBeforeTheTypeLine() {
        let text = "# TYPE hostgw_peers gauge\nhostgw_peers{state=\"ok\"} 2\n# HELP x y\n# TYPE x counter\nx 1\n"
        let out = MetricHelp.annotate(text)
        #expect(out.hasPrefix("# HELP hostgw_peers Peer routes"))
        #expect(out.components(separatedBy: "# HELP").count == 3)
        #expect(MetricHelp.annotate(out) == out)
    }
}
