// The values of the active peer probes (issue 13): what is probed (`ProbeTarget`), how it is
// doing (`ProbeStats`, `Reachability`) and how often and how hard (`ProbeConfig`). Reachability
// is reported, never acted on: no route is removed because a probe went unanswered.
public import Foundation
public import NetAddress
public import Netlink

/// Which way a probe goes to a peer.
public enum ProbePath: String, Codable, Sendable, Hashable, CaseIterable {
    /// To the peer's node IP: the underlay between the two nodes.
    case node
    /// To the peer's pod gateway address (its CNI bridge's address in its subnet) through the
    /// installed pod route, sent from this node's own pod gateway address when it has one, so the
    /// reply travels the peer's route back to our subnet: both directions' routes are exercised.
    case pod
}

/// One thing to probe: a peer (its lease key, e.g. "10.244.3.0-24") along one path.
public struct ProbeTarget: Hashable, Sendable, Codable, CustomStringConvertible {
    public var peer: String
    public var path: ProbePath
    /// Where the probe goes (v4 or v6).
    public var address: IPAddress
    /// The local address the probe is sent from; nil: the kernel picks (the node path).
    public var source: IPAddress?

    public init(peer: String, path: ProbePath, address: IPAddress, source: IPAddress? = nil) {
        self.peer = peer
        self.path = path
        self.address = address
        self.source = source
    }

    public var description: String {
        "\(peer) \(path.rawValue) \(address)" + (source.map { " from \($0)" } ?? "")
    }
}

public enum Reachability: String, Codable, Sendable, Hashable, CaseIterable {
    /// No probe answered or lost enough yet (a new target).
    case unknown
    /// The last probe that ended was answered, or fewer than `lossesForUnreachable` in a row were lost.
    case reachable
    /// `lossesForUnreachable` probes in a row went unanswered within the timeout.
    case unreachable
}

/// How one target is doing. The counts are over the last `ProbeStats.window` probes that ended
/// (answered, or timed out); probes still in flight are not counted.
public struct ProbeStats: Codable, Sendable, Hashable {
    /// How many ended probes `sent`/`received` look back over.
    public static let window = 10

    public var state: Reachability
    /// Probes that ended among the last `window` (at most `window`).
    public var sent: Int
    /// Of those, the answered ones.
    public var received: Int
    /// (sent - received) / sent; nil before any probe ended.
    public var lossRatio: Double?
    /// The round-trip time of the last answered probe, in seconds.
    public var lastRTT: Double?
    public var consecutiveLosses: Int
    /// Wall-clock time the last answer arrived.
    public var lastReply: Date?

    public init(
        state: Reachability = .unknown, sent: Int = 0, received: Int = 0, lossRatio: Double? = nil, lastRTT: Double? = nil,
        consecutiveLosses: Int = 0, lastReply: Date? = nil
    ) {
        self.state = state
        self.sent = sent
        self.received = received
        self.lossRatio = lossRatio
        self.lastRTT = lastRTT
        self.consecutiveLosses = consecutiveLosses
        self.lastReply = lastReply
    }
}

public struct ProbeConfig: Sendable, Hashable {
    /// UDP 8477: unassigned by IANA, next to nothing common, and away from the agent's loopback
    /// HTTP port. Every agent of a cluster must use the same one (it is both the port answered
    /// on and the port probed); firewalls between nodes must let it through.
    public static let defaultPort: UInt16 = 8477

    /// The port the responder answers on and the prober sends to.
    public var port: UInt16
    /// How often each target is probed when the budget allows it.
    public var interval: Duration
    /// How often a target confirming a loss (a probe lost, not yet unreachable) is probed when the
    /// budget allows it: at most `interval`. Short, so that three losses in a row are seen within
    /// 5 s of a fault (next probe ≤ interval·(1+jitter), then a timeout, then two retries with
    /// their timeouts overlapping: 2.4 + 1 + 0.48 + 1 ≈ 4.9 s with the defaults). An unreachable
    /// target is probed every `interval` again (first under the budget), so the first answer
    /// after a repair is seen within about one interval (≤ 2.4 s).
    public var retryInterval: Duration
    /// Each wait is `interval` times a random factor in 1 ± jitter (0...0.5), so agents started
    /// together do not probe in step.
    public var jitter: Double
    /// A probe unanswered after this long is lost; an answer arriving later still counts as lost.
    public var timeout: Duration
    /// Lost probes in a row that make a target `unreachable`.
    public var lossesForUnreachable: Int
    /// At most this many probes per second per node, however many peers there are: beyond
    /// targets / interval = budget the prober rotates through them (unreachable and lossy
    /// targets first, at up to `interval` and `retryInterval`), and each target's interval stretches.
    public var budget: Int

    public init(
        port: UInt16 = ProbeConfig.defaultPort, interval: Duration = .seconds(2), retryInterval: Duration = .milliseconds(400),
        jitter: Double = 0.2, timeout: Duration = .seconds(1), lossesForUnreachable: Int = 3, budget: Int = 200
    ) {
        self.port = port
        self.interval = interval
        self.retryInterval = retryInterval
        self.jitter = jitter
        self.timeout = timeout
        self.lossesForUnreachable = lossesForUnreachable
        self.budget = budget
    }

    /// The values clamped to what the prober can work with (positive interval, retry interval
    /// (at most the interval), timeout and budget, jitter within 0...0.5, at least one loss).
    var sanitized: ProbeConfig {
        var c = self
        if c.interval <= .zero { c.interval = .seconds(2) }
        if c.retryInterval <= .zero { c.retryInterval = .milliseconds(400) }
        c.retryInterval = min(c.retryInterval, c.interval)
        if c.timeout <= .zero { c.timeout = .seconds(1) }
        c.jitter = min(max(c.jitter.isFinite ? c.jitter : 0, 0), 0.5)
        c.lossesForUnreachable = max(1, c.lossesForUnreachable)
        c.budget = min(max(1, c.budget), 100_000)
        return c
    }

    /// RTT histogram buckets that fit a LAN (the Prometheus factory's default starts at 5 ms):
    /// set `factory.durationHistogramBuckets["hostgw_peer_probe_rtt_seconds"]` to these.
    public static let rttHistogramBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1),
    ]
}

/// A probe socket that could not be opened: what, on which address and port, and the errno.
public struct ProbeSocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// socket, bind, setsockopt, register (handing the socket to the event loop).
    public var operation: String
    /// The local address, `0.0.0.0`/`::` for the wildcard.
    public var address: String
    public var port: UInt16
    public var errno: Errno
    /// The namespace the socket was opened in, when not the agent's own.
    public var namespace: String?

    public init(operation: String, address: String, port: UInt16, errno: Errno, namespace: String? = nil) {
        self.operation = operation
        self.address = address
        self.port = port
        self.errno = errno
        self.namespace = namespace
    }

    public var description: String {
        let host = address.contains(":") ? "[\(address)]" : address
        var s = "peer probe socket: \(operation) UDP \(host):\(port) failed: \(errno.name) (\(errno.message))"
        if let namespace { s += " in namespace \(namespace)" }
        if errno == .EADDRINUSE {
            s += "; another program (another hostgw?) holds UDP port \(port): stop it or choose another probe port"
        } else if errno == .EADDRNOTAVAIL {
            s += "; the address is not on this node (yet)"
        }
        return s
    }
}
