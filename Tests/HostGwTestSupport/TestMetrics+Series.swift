// A metrics factory per test is swift-metrics' own MetricsTestKit (tests run in parallel, so
// nothing global is bootstrapped). Tests read it back by series, written the way Prometheus
// prints one: `hostgw_drift_events_total{kind=missing}`, dimensions in any order.
public import MetricsTestKit

extension TestMetrics {
    /// A counter's total; 0 when it was never created.
    public func counter(_ series: String) -> Double {
        let key = Series(series)
        return counters.first { key.matches($0.label, $0.dimensions) }.map { Double($0.totalValue) } ?? 0
    }

    /// A gauge's (recorder's) or meter's last value; nil when never created or never set.
    public func gauge(_ series: String) -> Double? {
        let key = Series(series)
        if let recorder = recorders.first(where: { key.matches($0.label, $0.dimensions) }) { return recorder.lastValue }
        return meters.first { key.matches($0.label, $0.dimensions) }?.lastValue
    }

    /// A timer's last duration in nanoseconds; nil when never recorded.
    public func timer(_ series: String) -> Int64? {
        let key = Series(series)
        return timers.first { key.matches($0.label, $0.dimensions) }?.lastValue
    }

    /// The sum of every counter named `label`, whatever its dimensions.
    public func total(_ label: String) -> Int64 {
        counters.filter { $0.label == label }.map(\.totalValue).reduce(0, +)
    }
}

/// `label{k=v,k2=v2}` split into the label and its set of `k=v` pairs.
private struct Series {
    let label: Substring
    let dimensions: Set<Substring>

    init(_ text: String) {
        guard let open = text.firstIndex(of: "{"), text.hasSuffix("}") else {
            label = text[...]
            dimensions = []
            return
        }
        label = text[..<open]
        dimensions = Set(text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: ","))
    }

    func matches(_ label: String, _ dimensions: [(String, String)]) -> Bool {
        label == self.label && Set(dimensions.map { "\($0.0)=\($0.1)"[...] }) == self.dimensions
    }
}
