// What /healthz, /status, `hostgw check` and the systemd watchdog decide from. Unlike flanneld's
// constant 200, health fails when the agent cannot do its job: the reconcile loop is stuck, the
// store has been unreachable past the grace period, the lease watch has been failing past the
// grace period (the agent is deaf to its peers even though the store answers), the lease is
// about to expire without renewal, or a critical datapath condition holds (forwarding off: the
// node cannot forward pod traffic, whatever its routes say).
import Foundation
import RouteSync
import SubnetLease

struct HealthPolicy: Sendable {
    /// A reconcile pass older than this means the loop is stuck.
    var stuckAfter: Duration
    /// How long the store may be unreachable, or the lease watch failing, before health fails
    /// (routes stay in place).
    var storeGrace: Duration
    /// Health fails when the lease expires sooner than this and renewal is failing.
    var leaseExpiryMargin: Duration
}

struct HealthSnapshot: Sendable {
    var ready = false
    var lastReconcile: Date?
    var storeReachable = true
    var storeUnreachableSince: Date?
    var storeLastError: String?
    var leaseExpiration: Date?
    var leaseRenewalFailures = 0
    var startedAt = Date()
    /// Whether the lease watch (listing and watching the leases) keeps up with the store.
    var leaseFeed = LeaseFeedHealth()
    /// The start-up step being attempted or waited for (`read the network config`); nil when the
    /// agent is not retrying one.
    var waitingFor: String?
    /// The last sign of start-up progress (an attempt at a step, a step done), or, while the agent
    /// waits with backoff, the end of that wait: it is not overdue before then.
    var lastProgress: Date?
    /// The datapath watcher's current findings (forwarding, forward-path filter).
    var datapath: [DatapathFinding] = []
    /// Which peers this node reaches (neighbour entries and probes).
    var reachability = ReachabilitySummary()
}

/// One reason the agent is unhealthy. Callers switch on the case (the watchdog does); the
/// description is the line an operator reads on /healthz, in `hostgw status` and `hostgw check`.
enum HealthProblem: Sendable, Hashable, CustomStringConvertible {
    /// No pass has completed since start, `seconds` ago; `waitingFor` names the start-up step
    /// being retried, if any.
    case notReconciledSinceStart(seconds: Int, waitingFor: String?)
    /// Passes ran, but the last one is `seconds` old.
    case reconcileStuck(seconds: Int)
    /// The store has not answered for `seconds` (more than `grace`); routes are kept.
    case storeUnreachable(seconds: Int, grace: Int, error: String?)
    /// The lease watch has failed for `seconds` (more than `grace`), `failures` times in a row,
    /// so changes to the peers' leases are not seen; routes are kept as last seen.
    case leaseWatchFailing(seconds: Int, grace: Int, failures: Int, error: String?)
    /// The lease expires in `seconds` and renewal failed `failures` times.
    case leaseExpiring(seconds: Int, failures: Int)
    /// A critical datapath condition: pod traffic cannot pass this node (forwarding off).
    case datapath(DatapathFinding)
    /// Not one of the `peers` peers answers: this node is cut off on the node network, or, for
    /// the `podsOnly` of them whose node answers while its pod gateway does not, on the pod path.
    case isolated(peers: Int, podsOnly: Int)

    var description: String {
        switch self {
        case .notReconciledSinceStart(let seconds, let waitingFor?):
            "no reconcile pass completed in \(seconds)s since start: still trying to \(waitingFor)"
        case .notReconciledSinceStart(let seconds, nil):
            "no reconcile pass completed in \(seconds)s since start"
        case .reconcileStuck(let seconds):
            "reconcile loop stuck: last pass \(seconds)s ago"
        case .storeUnreachable(let seconds, let grace, let error):
            "store unreachable for \(seconds)s (grace \(grace)s): \(error ?? "no answer"); routes are kept"
        case .leaseWatchFailing(let seconds, let grace, let failures, let error):
            "lease watch failing for \(seconds)s (grace \(grace)s, \(failures) failure(s) in a row): \(error ?? "no answer"); "
                + "peer lease changes are not seen, routes are kept as last seen"
        case .leaseExpiring(let seconds, let failures):
            "lease expires in \(seconds)s and renewal failed \(failures) time(s)"
        case .datapath(let finding):
            finding.description
        case .isolated(let peers, 0):
            "none of the \(peers) peer(s) is reachable (neighbour entries failed or probes unanswered): this node is cut off on the node network; routes are kept"
        case .isolated(let peers, let podsOnly) where podsOnly >= peers:
            "none of the \(peers) peer(s) is reachable for pods: every node answers on the node network, no pod gateway answers through the pod route: "
                + "forwarding, a filter, rp_filter or the routes on this node; routes are kept"
        case .isolated(let peers, let podsOnly):
            "none of the \(peers) peer(s) is reachable: \(podsOnly) answer on the node network but not through the pod route, "
                + "the other \(peers - podsOnly) not at all (neighbour entries failed or probes unanswered); routes are kept"
        }
    }
}

/// Problems that make the agent unhealthy, each one line an operator can act on. Empty = healthy.
func healthProblems(_ s: HealthSnapshot, policy: HealthPolicy, now: Date) -> [HealthProblem] {
    var problems: [HealthProblem] = []
    let grace = Int(policy.storeGrace.seconds)
    let reference = s.lastReconcile ?? s.startedAt
    let stuck = now.timeIntervalSince(reference)
    if stuck > policy.stuckAfter.seconds {
        problems.append(
            s.lastReconcile == nil
                ? .notReconciledSinceStart(seconds: Int(stuck), waitingFor: s.waitingFor)
                : .reconcileStuck(seconds: Int(stuck)))
    }
    if !s.storeReachable, let since = s.storeUnreachableSince, now.timeIntervalSince(since) > policy.storeGrace.seconds {
        problems.append(.storeUnreachable(seconds: Int(now.timeIntervalSince(since)), grace: grace, error: s.storeLastError))
    } else if let since = s.leaseFeed.failingSince, now.timeIntervalSince(since) > policy.storeGrace.seconds {
        // Only while the store answers: an unreachable store already explains a failing watch.
        problems.append(
            .leaseWatchFailing(
                seconds: Int(now.timeIntervalSince(since)), grace: grace, failures: s.leaseFeed.consecutiveFailures,
                error: s.leaseFeed.lastError))
    }
    if let exp = s.leaseExpiration, s.leaseRenewalFailures > 0, exp.timeIntervalSince(now) < policy.leaseExpiryMargin.seconds {
        problems.append(.leaseExpiring(seconds: Int(exp.timeIntervalSince(now)), failures: s.leaseRenewalFailures))
    }
    // Never healthy while the node cannot forward; warnings (a drop policy that rules may still
    // open, an unreadable filter) stay out of health and go to `hostgw check` as WARNING.
    problems += s.datapath.filter { $0.severity == .critical }.map(HealthProblem.datapath)
    // One peer gone dark is that peer's problem (a WARNING in `hostgw check`); all of them at
    // once is this node's.
    if s.reachability.isolated {
        problems.append(.isolated(peers: s.reachability.peers, podsOnly: s.reachability.unreachableForPodsOnly.count))
    }
    return problems
}

/// Whether systemd's watchdog is pinged: only a stuck agent stops the pings, since a restart is
/// what helps it. A store outage or a failing watch is retried inside and a restart would not fix
/// it; an agent that is still starting and retrying a step with backoff (waiting for the store)
/// is making progress.
func watchdogShouldPing(_ s: HealthSnapshot, policy: HealthPolicy, now: Date) -> Bool {
    for problem in healthProblems(s, policy: policy, now: now) {
        switch problem {
        case .reconcileStuck:
            return false
        case .notReconciledSinceStart:
            // Waiting is progress while attempts keep coming; a start-up that hangs in one step
            // (no attempt for `stuckAfter`) is stuck.
            guard let progress = s.lastProgress, now.timeIntervalSince(progress) <= policy.stuckAfter.seconds else { return false }
        case .storeUnreachable, .leaseWatchFailing, .leaseExpiring, .datapath, .isolated:
            // A restart fixes none of these (the datapath is the host's settings).
            continue
        }
    }
    return true
}

/// The agent's shared view of its own health; written by the services, read by HTTP and sd_notify.
actor AgentHealth {
    private(set) var snapshot = HealthSnapshot()

    init(startedAt: Date = Date()) { snapshot.startedAt = startedAt }

    func markReady() { snapshot.ready = true }
    func reconciled(at date: Date = Date()) {
        snapshot.lastReconcile = date
        snapshot.lastProgress = date
    }

    /// Start-up progress: `step` is being attempted or waited for (nil: done), `date` the attempt
    /// or the end of the backoff wait before the next one.
    func progress(waitingFor step: String?, at date: Date = Date()) {
        snapshot.waitingFor = step
        snapshot.lastProgress = date
    }

    func leaseFeed(_ feed: LeaseFeedHealth) { snapshot.leaseFeed = feed }

    func datapath(_ findings: [DatapathFinding]) { snapshot.datapath = findings }

    func reachability(_ summary: ReachabilitySummary) { snapshot.reachability = summary }

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
