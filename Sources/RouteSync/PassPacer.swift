// When a reconcile pass may start. Kernel events come in bursts (a link flap, `ip route flush`)
// and, when another process fights hostgw over a route, in an endless stream: each of our
// repairs is answered by its change, which is an event. A pass triggered by a kernel event
// therefore waits a few milliseconds so the rest of a burst joins it, and passes draw on a budget
// (a token bucket: `burst` passes at once, refilled at `perSecond`): a fight costs a bounded
// number of full dumps per second, not one per event, while a drift after a quiet spell is
// repaired at once (a fixed gap after every pass delayed ordinary repairs by up to that gap).
// Other triggers (leases, the periodic resync, startup, a manual sync, a lost-events overrun)
// start at once, and spend from the same budget.

import SubnetLease

/// Reads a clock as the time elapsed since the reader was made: a pure decision can then hold
/// instants as plain durations whatever the clock's own instant type.
func elapsedReader(_ clock: some Clock<Duration>) -> @Sendable () -> Duration {
    let origin = clock.now
    return { origin.duration(to: clock.now) }
}

struct PassPacer: Sendable {
    var coalesce: Duration
    /// Passes that may start back to back after a quiet spell.
    var burst: Int
    /// Passes per second the budget refills with: the most a fight costs, sustained.
    var perSecond: Int
    private let now: @Sendable () -> Duration
    /// The budget as of `counted`, in passes (fractions accrue between passes).
    private var tokens: Double
    private var counted: Duration

    init(coalesce: Duration = .milliseconds(5), burst: Int = 10, perSecond: Int = 10, clock: some Clock<Duration>) {
        self.coalesce = coalesce
        self.burst = max(1, burst)
        self.perSecond = max(1, perSecond)
        now = elapsedReader(clock)
        tokens = Double(self.burst)
        counted = now()
    }

    /// The budget at `t`.
    private func tokens(at t: Duration) -> Double {
        min(Double(burst), tokens + (t - counted).seconds * Double(perSecond))
    }

    /// How long a pass for `trigger` waits before it starts (zero: start now).
    func delay(for trigger: ReconcileTrigger) -> Duration {
        guard trigger == .kernelEvent else { return .zero }
        let t = now()
        let available = tokens(at: t)
        guard available < 1 else { return coalesce }
        let refill = Duration.seconds((1 - available) / Double(perSecond))
        return max(coalesce, refill)
    }

    /// Notes that a pass starts now: it spends one pass of the budget (it may go below zero when
    /// a trigger that does not wait starts on an empty budget).
    mutating func passStarted() {
        let t = now()
        tokens = tokens(at: t) - 1
        counted = t
    }
}
