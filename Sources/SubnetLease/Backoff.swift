// The one retry schedule of the agent: exponential backoff from `initial`, doubling per failure,
// capped at `maximum`. LeaseManager (renewals), LeaseWatcher (list and watch) and the daemon's
// start-up steps all use it, so "how fast do we retry" has one answer.

/// Delays for consecutive failures: `initial`, `2 * initial`, `4 * initial`, ... up to `maximum`.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    /// Failures since the last success.
    public private(set) var failures = 0

    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(10)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay for the `failures`-th consecutive failure (1-based); `initial` for 0 or 1.
    public func delay(afterFailures failures: Int) -> Duration {
        let doublings = min(max(failures - 1, 0), 16)
        return min(initial * (1 << doublings), maximum)
    }

    /// Records a failure and returns how long to wait before the next attempt.
    public mutating func fail() -> Duration {
        failures += 1
        return delay(afterFailures: failures)
    }

    /// Records a success: the next failure waits `initial` again.
    public mutating func reset() { failures = 0 }
}
