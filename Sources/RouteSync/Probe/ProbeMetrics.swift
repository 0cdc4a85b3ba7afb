// The probes' metrics. Every series is labelled by `path` (node, pod) only, never by peer: at
// 5,000 peers a per-peer label would make 5,000 series per metric (and per histogram bucket),
// which is what Prometheus tells you never to do. Per-peer numbers go to `hostgw status`
// (`PeerProber.stats()`).
//
// The RTT is a swift-metrics Timer: the Prometheus factory makes a Timer a histogram in
// seconds (`hostgw_peer_probe_rtt_seconds_bucket{path,le}`, `_sum`, `_count`); its default
// buckets start at 5 ms, `ProbeConfig.rttHistogramBuckets` fits a LAN better.
import Metrics
import SubnetLease

struct ProbeMetrics {
    private var rtt: [ProbePath: Timer] = [:]
    private var sent: [ProbePath: Counter] = [:]
    private var lost: [ProbePath: Counter] = [:]
    private var unreachable: [ProbePath: Gauge] = [:]
    private let budgetLimited: Gauge
    private let unmatched: Counter

    init(factory: any MetricsFactory) {
        for path in ProbePath.allCases {
            let dimensions = [("path", path.rawValue)]
            rtt[path] = Timer(label: "hostgw_peer_probe_rtt_seconds", dimensions: dimensions, factory: factory)
            sent[path] = Counter(label: "hostgw_peer_probes_sent_total", dimensions: dimensions, factory: factory)
            lost[path] = Counter(label: "hostgw_peer_probes_lost_total", dimensions: dimensions, factory: factory)
            unreachable[path] = Gauge(label: "hostgw_peers_unreachable", dimensions: dimensions, factory: factory)
            unreachable[path]?.record(0)
        }
        budgetLimited = Gauge(label: "hostgw_peer_probe_budget_limited", factory: factory)
        budgetLimited.record(0)
        unmatched = Counter(label: "hostgw_peer_probe_replies_unmatched_total", factory: factory)
    }

    func sent(_ path: ProbePath) { sent[path]?.increment() }

    func record(_ events: ProbeScheduler.Events) {
        for (path, count) in events.lost { lost[path]?.increment(by: count) }
        for (path, duration) in events.rtts { rtt[path]?.recordNanoseconds(duration.nanoseconds) }
        if events.unmatched > 0 { unmatched.increment(by: events.unmatched) }
    }

    func unreachable(_ counts: [ProbePath: Int]) {
        for path in ProbePath.allCases { unreachable[path]?.record(counts[path] ?? 0) }
    }

    func budgetLimited(_ limited: Bool) { budgetLimited.record(limited ? 1 : 0) }
}

/// The responder's counters, shared with its channel handlers (event-loop threads).
struct ProbeResponderCounters: Sendable {
    /// Valid requests answered.
    let answered: Counter
    /// Datagrams on the probe port that are not a valid request (wrong size, magic, version,
    /// or a reply): dropped unanswered.
    let malformed: Counter
    /// Probe sockets (responder or prober) swift-nio closed under the agent, opened again.
    let reopened: Counter

    init(factory: any MetricsFactory) {
        reopened = Counter(label: "hostgw_peer_probe_socket_reopens_total", factory: factory)
        answered = Counter(label: "hostgw_peer_probe_requests_answered_total", factory: factory)
        malformed = Counter(label: "hostgw_peer_probe_malformed_total", factory: factory)
    }
}
