import NetAddress
import Foundation
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
        #expect(problems.count == 1 && problems[0].hasPrefix("store unreachable for 61s"))
    }

    @Test func stuckLoopAndExpiringUnrenewedLeaseFail() {
        var s = HealthSnapshot()
        s.startedAt = t0
        s.lastReconcile = t0
        s.leaseExpiration = t0.addingTimeInterval(1000)
        s.leaseRenewalFailures = 3
        let problems = healthProblems(s, policy: policy, now: t0.addingTimeInterval(91))
        #expect(problems.count == 2)
        #expect(problems.contains { $0.hasPrefix("reconcile loop stuck") })
        #expect(problems.contains { $0.hasPrefix("lease expires in 909s") })
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
