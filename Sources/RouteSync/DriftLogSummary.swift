// Which drift gets a log line. The first drift of a route (subnet and kind) is logged at once;
// repeats within `interval` are counted, and each interval that saw repeats gets one summary
// line with the count. A process fighting hostgw over one route thus costs a line a minute, not
// a line per fight; the drift metric and the status history still record every event.
import NetAddress

struct DriftLogSummary: Sendable {
    struct Key: Hashable, Sendable {
        var subnet: IPPrefix
        var kind: DriftKind
    }

    struct Repeats: Equatable, Sendable {
        var key: Key
        var count: Int
    }

    let interval: Duration
    private let now: @Sendable () -> Duration
    /// Per route: when its window started and how many repeats it holds.
    private var windows: [Key: (start: Duration, repeats: Int)] = [:]

    init(interval: Duration = .seconds(60), clock: some Clock<Duration>) {
        self.interval = interval
        now = elapsedReader(clock)
    }

    /// True when this drift is to be logged now (the route's first in its window).
    mutating func admit(_ key: Key) -> Bool {
        let t = now()
        if var w = windows[key], t - w.start < interval {
            w.repeats += 1
            windows[key] = w
            return false
        }
        windows[key] = (t, 0)
        return true
    }

    /// The routes whose window has ended with repeats, to log as one summary each. Ended windows
    /// are dropped, so memory follows the routes drifting now, not every route that ever did.
    mutating func due() -> [Repeats] {
        let t = now()
        var out: [Repeats] = []
        for (key, w) in windows where t - w.start >= interval {
            if w.repeats > 0 {
                out.append(Repeats(key: key, count: w.repeats))
                // A fight still going on keeps one line per interval: the next window starts now.
                windows[key] = (t, 0)
            } else {
                windows[key] = nil
            }
        }
        return out.sorted { ($0.key.subnet, $0.key.kind.rawValue) < ($1.key.subnet, $1.key.kind.rawValue) }
    }
}
