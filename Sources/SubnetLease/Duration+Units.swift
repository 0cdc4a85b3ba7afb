// The one Duration -> number conversion (health, status, metrics, sd_notify, the benchmark).

extension Duration {
    /// The duration in seconds, fractions included.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }

    /// The duration in whole microseconds (sd_notify's EXTEND_TIMEOUT_USEC).
    public var microseconds: Int64 {
        let (s, attoseconds) = components
        return s * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// The duration in whole nanoseconds (swift-metrics' timers).
    public var nanoseconds: Int64 {
        let (s, attoseconds) = components
        return s * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
