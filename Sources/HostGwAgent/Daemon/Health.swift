// What /healthz and /readyz decide from. Unlike flanneld's constant 200, health fails when the
// agent cannot do its job: the reconcile loop is stuck, the store has been unreachable past the
// grace period, or the lease is about to expire without renewal.
import Foundation

struct HealthPolicy: Sendable {
    /// A reconcile pass older than this means the loop is stuck.
    var stuckAfter: Duration
    /// How long the store may be unreachable before health fails (routes stay in place).
    var storeGrace: Duration
    /// Health fails when the lease expires sooner than this and renewal is failing.
    var leaseExpiryMargin: Duration
}

struct HealthSnapshot: Sendable, Codable {
    var ready = false
    var lastReconcile: Date?
    var storeReachable = true
    var storeUnreachableSince: Date?
    var storeLastError: String?
    var leaseExpiration: Date?
    var leaseRenewalFailures = 0
    var startedAt = Date()
}

/// Problems that make the agent unhealthy, each one line an operator can act on. Empty = healthy.
func healthProblems(_ s: HealthSnapshot, policy: HealthPolicy, now: Date) -> [String] {
    var problems: [String] = []
    let reference = s.lastReconcile ?? s.startedAt
    let stuck = now.timeIntervalSince(reference)
    if stuck > policy.stuckAfter.seconds {
        problems.append(
            s.lastReconcile == nil
                ? "no reconcile pass completed in \(Int(stuck))s since start"
                : "reconcile loop stuck: last pass \(Int(stuck))s ago")
    }
    if !s.storeReachable, let since = s.storeUnreachableSince, now.timeIntervalSince(since) > policy.storeGrace.seconds {
        problems.append(
            "store unreachable for \(Int(now.timeIntervalSince(since)))s (grace \(Int(policy.storeGrace.seconds))s): \(s.storeLastError ?? "no answer"); routes are kept")
    }
    if let exp = s.leaseExpiration, s.leaseRenewalFailures > 0, exp.timeIntervalSince(now) < policy.leaseExpiryMargin.seconds {
        problems.append(
            "lease expires in \(Int(exp.timeIntervalSince(now)))s and renewal failed \(s.leaseRenewalFailures) time(s)")
    }
    return problems
}

/// The agent's shared view of its own health; written by the services, read by HTTP and sd_notify.
actor AgentHealth {
    private(set) var snapshot = HealthSnapshot()

    func markReady() { snapshot.ready = true }
    func reconciled(at date: Date = Date()) { snapshot.lastReconcile = date }

    func store(reachable: Bool, error: String? = nil, at date: Date = Date()) {
        if reachable {
            snapshot.storeReachable = true
            snapshot.storeUnreachableSince = nil
            snapshot.storeLastError = nil
        } else {
            if snapshot.storeReachable || snapshot.storeUnreachableSince == nil { snapshot.storeUnreachableSince = date }
            snapshot.storeReachable = false
            snapshot.storeLastError = error
        }
    }

    func lease(expiration: Date?, renewalFailures: Int) {
        snapshot.leaseExpiration = expiration
        snapshot.leaseRenewalFailures = renewalFailures
    }
}
