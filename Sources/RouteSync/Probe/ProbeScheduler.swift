// When to probe which target, and what the answers (or their absence) mean: a value type with
// no clock, socket or task of its own, so tests drive it with plain durations. Times are
// durations since the prober started.
//
// Budget: at most `budget` probes in any one-second window (a hard cap: the send times of the
// last `budget` probes are kept, and a probe waits while the oldest of them is less than a
// second old). Intervals are planned for 90% of the budget so that jitter rarely meets the cap:
// with T targets of which C are confirming a loss (losses in a row, not yet unreachable) and U
// are unreachable, interval I and retry interval R, every target is probed at its own interval
// (R while confirming, I otherwise) while C / R + U / I + (T - C - U) / I <= 0.9 budget; beyond
// that the targets in trouble (C and U) keep up to half the planned rate (or all of it that the
// others leave), their intervals stretched alike, and the rest rotate at the stretched interval
// (T - C - U) / (rate left), each due in turn. An unreachable target is not retried at R: it
// was confirmed, an answer after a repair is seen within one interval, and dead nodes probed at
// R would take the budget from the live ones (100 dead peers at 0.4 s are 250 probes a second).
import Foundation
import NetAddress
import SubnetLease

struct ProbeScheduler {
    /// What one probe that ended changed.
    struct Events: Sendable, Equatable {
        /// Probes lost (timed out), per path.
        var lost: [ProbePath: Int] = [:]
        /// Answered probes' round-trip times, per path.
        var rtts: [(ProbePath, Duration)] = []
        /// The targets whose `state` changed.
        var changed: [ProbeTarget] = []
        var stateChanged: Bool { !changed.isEmpty }
        /// Answers that came too late or matched nothing in flight.
        var unmatched = 0

        static func == (a: Events, b: Events) -> Bool {
            a.lost == b.lost && a.stateChanged == b.stateChanged && a.unmatched == b.unmatched
                && a.rtts.map { "\($0.0)\($0.1)" } == b.rtts.map { "\($0.0)\($0.1)" }
        }
    }

    /// A probe to send now.
    struct Probe: Sendable, Hashable {
        var target: ProbeTarget
        var packet: ProbePacket
    }

    private struct Tracker {
        var state: Reachability = .unknown
        /// The last `ProbeStats.window` ended probes, newest in bit 0 (1 answered).
        var outcomes: UInt32 = 0
        var ended = 0
        var consecutiveLosses = 0
        var lastRTT: Duration?
        var lastReply: Date?

        var troubled: Bool { state == .unreachable || consecutiveLosses > 0 }
        /// Losses in a row, not yet unreachable: retried soon, to confirm or clear.
        var confirming: Bool { state != .unreachable && consecutiveLosses > 0 }

        mutating func record(answered: Bool) {
            outcomes = (outcomes << 1 | (answered ? 1 : 0)) & ((1 << UInt32(ProbeStats.window)) - 1)
            ended = min(ended + 1, ProbeStats.window)
        }

        var stats: ProbeStats {
            let received = outcomes.nonzeroBitCount
            return ProbeStats(
                state: state, sent: ended, received: received,
                lossRatio: ended == 0 ? nil : Double(ended - received) / Double(ended),
                lastRTT: lastRTT.map(\.seconds), consecutiveLosses: consecutiveLosses, lastReply: lastReply)
        }
    }

    private struct Entry {
        let target: ProbeTarget
        let id: UInt64
        var tracker = Tracker()
        var due: Duration
        /// Bumped whenever `due` changes, so older heap items for this entry are skipped.
        var generation: UInt64 = 0
        var lastSent: Duration?
    }

    private struct InFlight {
        var slot: Int
        var id: UInt64
        var nonce: UInt64
        var sentAt: Duration
    }

    private(set) var config: ProbeConfig
    private var slots: [Entry?] = []
    private var freeSlots: [Int] = []
    private var index: [ProbeTarget: Int] = [:]
    private var nextID: UInt64 = 0
    private var troubledCount = 0
    /// Targets unreachable now, per path (kept as states change: read on every change).
    private(set) var unreachableCounts: [ProbePath: Int] = [:]
    private var heap = DueHeap()
    /// In flight by sequence; `timeouts` holds the same sequences in send order (all share one
    /// timeout, so that is deadline order too).
    private var inFlight: [UInt64: InFlight] = [:]
    private var timeouts: [UInt64] = []
    private var timeoutsHead = 0
    private var nextSequence: UInt64 = 1
    /// Send times of the last `budget` probes, a ring: `recent[recentNext]` is the oldest.
    private var recent: [Duration]
    private var recentNext = 0
    private var random: SplitMix64

    init(config: ProbeConfig, seed: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        self.config = config.sanitized
        self.random = SplitMix64(seed: seed)
        recent = Array(repeating: .seconds(-1_000_000), count: self.config.budget)
    }

    var targetCount: Int { index.count }
    var inFlightCount: Int { inFlight.count }

    // MARK: Targets

    /// Makes `targets` the set probed: targets that stay keep their stats and schedule, new ones
    /// are first due at a random point within their interval, gone ones are dropped (their
    /// probes in flight are forgotten). Returns whether the set changed.
    @discardableResult
    mutating func setTargets(_ targets: [ProbeTarget], now: Duration) -> Bool {
        let wanted = Set(targets)
        let gone = index.keys.filter { !wanted.contains($0) }
        return updateTargets(adding: targets, removing: gone, now: now)
    }

    /// Adds the targets of `adding` not probed yet and drops those of `removing`, at the cost
    /// of those alone (a lease event at 5,000 peers touches its own targets); the others keep
    /// their schedule unless the budget's interval shrank by more than a tenth (targets went), when
    /// the ones planned further out than the new interval allows are pulled in. Returns whether
    /// the set changed.
    @discardableResult
    mutating func updateTargets(adding: [ProbeTarget], removing: [ProbeTarget], now: Duration) -> Bool {
        let before = intervals()
        var changed = false
        for target in removing {
            guard let slot = index[target] else { continue }
            if slots[slot]!.tracker.troubled { troubledCount -= 1 }
            if slots[slot]!.tracker.state == .unreachable { unreachableCounts[target.path, default: 0] -= 1 }
            slots[slot] = nil
            freeSlots.append(slot)
            index[target] = nil
            changed = true
        }
        var added: [Int] = []
        for target in adding where index[target] == nil {
            let slot = freeSlots.popLast() ?? { slots.append(nil); return slots.count - 1 }()
            nextID += 1
            // Generations start at the entry's id in the high bits: a reused slot's stale heap
            // items (of the target that had it) can never match the new entry's.
            slots[slot] = Entry(target: target, id: nextID, due: now, generation: nextID << 32)
            index[target] = slot
            added.append(slot)
            changed = true
        }
        guard changed else { return false }
        let plan = intervals()
        for slot in added {
            slots[slot]!.due = now + plan.normal * Double.random(in: 0..<1, using: &random)
            slots[slot]!.generation &+= 1
            heap.push(.init(due: slots[slot]!.due, slot: slot, generation: slots[slot]!.generation))
        }
        if plan.normal < before.normal * 0.9 || plan.troubled < before.troubled * 0.9 || plan.unreachable < before.unreachable * 0.9 {
            let addedSet = Set(added)
            for slot in index.values where !addedSet.contains(slot) {
                let entry = slots[slot]!
                let interval = interval(of: entry.tracker, plan)
                let latest = now + interval * (1 + config.jitter)
                if entry.due > latest {
                    slots[slot]!.due = now + interval * Double.random(in: 0..<1, using: &random)
                }
            }
            rebuildHeap()
        } else if heap.count > 4 * max(index.count, 256) {
            rebuildHeap()  // stale items of dropped targets pile up otherwise
        }
        // Probes in flight for dropped targets are ignored when they end (their entry id is gone).
        return true
    }

    private mutating func rebuildHeap() {
        heap.removeAll()
        for slot in index.values {
            slots[slot]!.generation &+= 1
            let e = slots[slot]!
            heap.push(.init(due: e.due, slot: slot, generation: e.generation))
        }
    }

    // MARK: Planning

    /// What `intervals()` plans: the interval of each kind of target, and whether the budget
    /// stretched them.
    typealias Plan = (normal: Duration, troubled: Duration, unreachable: Duration, limited: Bool)

    /// The intervals of a target without trouble, of one confirming a loss and of an unreachable
    /// one, and whether the budget stretched them beyond `config.interval` and
    /// `config.retryInterval`.
    func intervals() -> Plan {
        let interval = config.interval.seconds
        let retry = config.retryInterval.seconds
        let rate = 0.9 * Double(config.budget)
        let unreachable = Double(unreachableCounts.values.reduce(0, +))
        let confirming = Double(troubledCount) - unreachable
        let normal = Double(index.count - troubledCount)
        let troubledDemand = confirming / retry + unreachable / interval
        guard troubledDemand + normal / interval > rate else { return (config.interval, config.retryInterval, config.interval, false) }
        let troubledRate = min(troubledDemand, max(rate / 2, rate - normal / interval))
        let normalRate = rate - troubledRate
        let normalInterval = normal > 0 ? max(interval, normal / normalRate) : interval
        // Both kinds of trouble slow down alike to fit their share.
        let stretch = troubledDemand > 0 ? max(1, troubledDemand / troubledRate) : 1
        return (.seconds(normalInterval), .seconds(retry * stretch), .seconds(interval * stretch), true)
    }

    /// The interval a target is planned at by `plan` (what `intervals()` returned).
    private func interval(of tracker: Tracker, _ plan: Plan) -> Duration {
        tracker.state == .unreachable ? plan.unreachable : tracker.confirming ? plan.troubled : plan.normal
    }

    private mutating func jittered(_ interval: Duration) -> Duration {
        guard config.jitter > 0 else { return interval }
        return interval * (1 + config.jitter * Double.random(in: -1...1, using: &random))
    }

    /// Whether the one-second window has room for another probe at `now`.
    private func budgetAllows(at now: Duration) -> Bool { recent[recentNext] <= now - .seconds(1) }

    // MARK: Sending

    /// The probes due by `now + coalesce` (so one wake sends several), as many as the budget
    /// allows at `now`; each is recorded in flight and its target's next probe is planned.
    mutating func dueProbes(now: Duration, coalesce: Duration = .zero) -> [Probe] {
        var out: [Probe] = []
        let plan = intervals()
        while let top = heap.top, top.due <= now + coalesce, budgetAllows(at: now) {
            heap.pop()
            guard let entry = slots[top.slot], entry.generation == top.generation else { continue }
            let sequence = nextSequence
            nextSequence &+= 1
            let nonce = UInt64.random(in: 0...UInt64.max)  // the system generator: not guessable
            inFlight[sequence] = InFlight(slot: top.slot, id: entry.id, nonce: nonce, sentAt: now)
            timeouts.append(sequence)
            recent[recentNext] = now
            recentNext = (recentNext + 1) % recent.count
            let next = max(now, entry.due) + jittered(interval(of: entry.tracker, plan))
            slots[top.slot]!.due = next
            slots[top.slot]!.lastSent = now
            slots[top.slot]!.generation &+= 1
            heap.push(.init(due: next, slot: top.slot, generation: slots[top.slot]!.generation))
            out.append(Probe(target: entry.target, packet: ProbePacket(kind: .request, sequence: sequence, nonce: nonce)))
        }
        return out
    }

    /// When something is next to do: a probe due (or, when the budget holds it back, the moment
    /// it frees) or a probe timing out. Nil with nothing to probe and nothing in flight.
    func nextWake(now: Duration) -> Duration? {
        var wake: Duration?
        if let top = heap.top {
            wake = budgetAllows(at: now) ? top.due : max(top.due, recent[recentNext] + .seconds(1))
        }
        if timeoutsHead < timeouts.count, let first = inFlight[timeouts[timeoutsHead]] {
            let deadline = first.sentAt + config.timeout
            wake = wake.map { min($0, deadline) } ?? deadline
        } else if timeoutsHead < timeouts.count {
            // The front one ended already; `expire` drops it. Wake at once to tidy up.
            wake = now
        }
        return wake
    }

    // MARK: Outcomes

    /// Ends every probe in flight longer than the timeout at `now` as lost.
    mutating func expire(now: Duration) -> Events {
        var events = Events()
        while timeoutsHead < timeouts.count {
            let sequence = timeouts[timeoutsHead]
            guard let flight = inFlight[sequence] else {
                timeoutsHead += 1
                continue
            }
            guard flight.sentAt + config.timeout <= now else { break }
            timeoutsHead += 1
            inFlight[sequence] = nil
            guard let entry = slots[flight.slot], entry.id == flight.id else { continue }
            events.lost[entry.target.path, default: 0] += 1
            let wasTroubled = entry.tracker.troubled
            var tracker = entry.tracker
            tracker.record(answered: false)
            tracker.consecutiveLosses += 1
            if tracker.consecutiveLosses >= config.lossesForUnreachable, tracker.state != .unreachable {
                tracker.state = .unreachable
                unreachableCounts[entry.target.path, default: 0] += 1
                events.changed.append(entry.target)
            }
            slots[flight.slot]!.tracker = tracker
            if !wasTroubled {
                troubledCount += 1
                // Trouble: probe again at the retry interval from the last probe, if sooner.
                let plan = intervals()
                let sooner = (entry.lastSent ?? now) + plan.troubled
                if sooner < entry.due {
                    slots[flight.slot]!.due = max(now, sooner)
                    slots[flight.slot]!.generation &+= 1
                    heap.push(.init(due: slots[flight.slot]!.due, slot: flight.slot, generation: slots[flight.slot]!.generation))
                }
            }
        }
        if timeoutsHead > 4096, timeoutsHead * 2 > timeouts.count {
            timeouts.removeFirst(timeoutsHead)
            timeoutsHead = 0
        }
        return events
    }

    /// An answer received at `at` (`wallClock` for `lastReply`): it ends its probe as answered
    /// when it matches one in flight (sequence and nonce) within the timeout. An answer after
    /// the timeout is left to `expire`, which counts the probe as lost: no flapping back.
    mutating func reply(_ packet: ProbePacket, at: Duration, wallClock: Date = Date()) -> Events {
        var events = Events()
        guard packet.kind == .reply, let flight = inFlight[packet.sequence], flight.nonce == packet.nonce,
            at - flight.sentAt <= config.timeout
        else {
            events.unmatched = 1
            return events
        }
        inFlight[packet.sequence] = nil
        guard let entry = slots[flight.slot], entry.id == flight.id else { return events }
        let rtt = max(.zero, at - flight.sentAt)
        events.rtts.append((entry.target.path, rtt))
        var tracker = entry.tracker
        if tracker.troubled { troubledCount -= 1 }
        tracker.record(answered: true)
        tracker.consecutiveLosses = 0
        tracker.lastRTT = rtt
        tracker.lastReply = wallClock
        if tracker.state != .reachable {
            if tracker.state == .unreachable { unreachableCounts[entry.target.path, default: 0] -= 1 }
            tracker.state = .reachable
            events.changed.append(entry.target)
        }
        slots[flight.slot]!.tracker = tracker
        return events
    }

    // MARK: Reading

    func stats() -> [ProbeTarget: ProbeStats] {
        var out: [ProbeTarget: ProbeStats] = [:]
        out.reserveCapacity(index.count)
        for (target, slot) in index { out[target] = slots[slot]!.tracker.stats }
        return out
    }

    func stats(for target: ProbeTarget) -> ProbeStats? { index[target].map { slots[$0]!.tracker.stats } }

}

/// A binary min-heap of due times (lazy deletion: stale items are skipped by generation).
struct DueHeap {
    struct Item {
        var due: Duration
        var slot: Int
        var generation: UInt64
    }

    private var items: [Item] = []

    var top: Item? { items.first }
    var count: Int { items.count }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ item: Item) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].due < items[parent].due else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> Item? {
        guard !items.isEmpty else { return nil }
        let first = items[0]
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l].due < items[m].due { m = l }
            if r < items.count, items[r].due < items[m].due { m = r }
            guard m != i else { break }
            items.swapAt(i, m)
            i = m
        }
        return first
    }
}

/// A small seeded generator for the jitter (tests pass a seed; the prober a random one).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
