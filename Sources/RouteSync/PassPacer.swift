// When a reconcile pass may start. Kernel events come in bursts (a link flap, `ip route flush`)
// and, when another process fights hostgw over a route, in an endless stream: each of our
// repairs is answered by its change, which is an event. A pass triggered by a kernel event
// therefore waits a few milliseconds so the rest of a burst joins it, and starts no sooner than
// `minimumInterval` after the previous pass: a fight costs a bounded number of full dumps per
// second, not one per event. Other triggers (leases, the periodic resync, startup, a manual
// sync, a lost-events overrun) start at once.

/// Reads a clock as the time elapsed since the reader was made: a pure decision can then hold
/// instants as plain durations whatever the clock's own instant type.
func elapsedReader(_ clock: some Clock<Duration>) -> @Sendable () -> Duration {
    let origin = clock.now
    return { origin.duration(to: clock.now) }
}

struct PassPacer: Sendable {
    var coalesce: Duration
    var minimumInterval: Duration
    private let now: @Sendable () -> Duration
    private var lastStart: Duration?

    init(coalesce: Duration = .milliseconds(5), minimumInterval: Duration = .milliseconds(200), clock: some Clock<Duration>) {
        self.coalesce = coalesce
        self.minimumInterval = minimumInterval
        now = elapsedReader(clock)
    }

    /// How long a pass for `trigger` waits before it starts (zero: start now).
    func delay(for trigger: ReconcileTrigger) -> Duration {
        guard trigger == .kernelEvent else { return .zero }
        let t = now()
        var earliest = t + coalesce
        if let last = lastStart { earliest = max(earliest, last + minimumInterval) }
        return earliest - t
    }

    /// Notes that a pass starts now.
    mutating func passStarted() { lastStart = now() }
}
