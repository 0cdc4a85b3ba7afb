// The active peer probes: every target (a peer's node IP, and its pod gateway address through
// the pod route) probed every `interval` with jitter, within a per-node budget of probes per
// second (`ProbeScheduler` decides; this actor runs it on a clock and sends through NIO).
// The actor runs on the event loop its sockets use, and sleeps on that loop's timers: a tick
// wakes one thread, which sends the due probes itself, instead of a dispatch timer waking a
// worker that hands the probes to the event loop's thread (three wakes per tick).
// Reachability is reported (`stats()`, `stateChanges()`, metrics), never acted on.
import Foundation
public import Logging
public import Metrics
public import NIOCore
public import NIOPosix
import NetAddress
import Netlink
public import ServiceLifecycle
import SubnetLease
import Synchronization

public actor PeerProber: Service {
    private let config: ProbeConfig
    private let timeline: ProbeTimeline
    private var metrics: ProbeMetrics
    private let logger: Logger
    private let transport: any ProbeTransport
    private var scheduler: ProbeScheduler
    private let changeFeed = Broadcast<ProbeStateChange>(everyValue: true)
    private var lastLimited: Bool?
    /// The targets whose state changed, or that came or went, since the last push (the next
    /// tick pushes them, once for many changes); nil: every target (`setTargets`), pushed whole.
    private var pending: Set<ProbeTarget>? = []
    /// Probes due within this much are sent together, so the prober wakes at most about
    /// 1 / coalesce times a second to send (and as often again for the timeouts of what it sent):
    /// a tenth of the interval, at most 200 ms (2 s: 200 ms, half the default jitter). A probe
    /// goes out at most that much early, never late; timeouts are judged at their deadline. At
    /// 50 agents of 89 peers each, 100 ms cost a third more idle CPU (1.13% of a core, 0.75% now).
    private let coalesce: Duration
    /// The longest sleep: new targets wait at most this for their first probe, and a reply at
    /// most this to be counted.
    private let maxSleep: Duration = .milliseconds(500)
    /// The replies the transport received since the last tick, each with the time it arrived:
    /// the next tick takes them, so a reply costs no wake of this actor of its own (at 49 peers
    /// those wakes were about a third of an idle agent's CPU).
    private let inbox = ProbeInbox()
    /// The event loop this actor runs on, and the transport's sockets with it.
    private let loop: any EventLoop
    /// Held here: an unowned executor must outlive every job run on it.
    private let executor: any SerialExecutor
    /// Sleep on `loop`'s timers (the real clock) rather than `timeline`'s clock (tests' clocks).
    private let sleepsOnLoop: Bool

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// - Parameters:
    ///   - group: the event loops the sockets run on.
    ///   - namespace: open the sockets in this network namespace (a name under /run/netns or a
    ///     path) instead of the agent's own: tests and the benchmark.
    ///   - marks: the firewall marks pod-path probes carry (`ProbeMarks.choose`).
    public init(
        config: ProbeConfig = ProbeConfig(), clock: any Clock<Duration> = ContinuousClock(),
        metrics: any MetricsFactory = MetricsSystem.factory, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, namespace: String? = nil,
        marks: ProbeMarks = ProbeMarks()
    ) {
        let log = logger
        let loop = group.next()
        self.init(
            config: config, clock: clock, metrics: metrics, logger: logger,
            transport: NIOProbeTransport(group: loop, namespace: namespace, marks: marks) { error in
                log.warning("peer probes not sent: \(error)")
            },
            loop: loop)
    }

    init(
        config: ProbeConfig, clock: any Clock<Duration>, metrics: any MetricsFactory, logger: Logger, transport: any ProbeTransport,
        loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) {
        self.loop = loop
        self.executor = loop.executor
        self.sleepsOnLoop = clock is ContinuousClock
        self.config = config.sanitized
        self.coalesce = min(.milliseconds(200), self.config.interval / 10)
        self.timeline = ProbeTimeline(clock)
        self.metrics = ProbeMetrics(factory: metrics)
        self.logger = logger
        self.transport = transport
        self.scheduler = ProbeScheduler(config: config)
    }

    /// Makes `targets` the set probed: stats of targets that stay are kept, gone ones dropped.
    public func setTargets(_ targets: [ProbeTarget]) {
        guard scheduler.setTargets(targets, now: timeline.now()) else { return }
        pending = nil
        updateGauges()
        publishIfChanged()
    }

    /// Adds and drops targets at the cost of those alone (a lease event at 5,000 peers).
    public func updateTargets(adding: [ProbeTarget], removing: [ProbeTarget]) {
        guard scheduler.updateTargets(adding: adding, removing: removing, now: timeline.now()) else { return }
        pending?.formUnion(adding)
        pending?.formUnion(removing)
        updateGauges()
        publishIfChanged()
    }

    public func stats() -> [ProbeTarget: ProbeStats] { scheduler.stats() }

    /// Every target's stats now, then at most once a tick the targets whose state changed or
    /// that came (their stats) or went (nil): what the reachability board follows without
    /// copying 10,000 stats per change. Nothing is dropped (a `Broadcast` of every value).
    public func stateChanges() -> AsyncStream<ProbeStateChange> { changeFeed.subscribe(current: .all(scheduler.stats())) }

    /// Probes until the task is cancelled, then closes the sockets. Run it once.
    public func run() async throws {
        let inbox = self.inbox
        transport.start(now: timeline.now) { batch in inbox.add(batch) }
        updateGauges()
        await loop()
        await transport.close()
    }

    private func loop() async {
        while !Task.isCancelled {
            let wake = tick()
            do { try await sleep(until: wake) } catch { return }
        }
    }

    /// Until `elapsed` on the timeline. On the real clock: a timer of this actor's event loop,
    /// resumed on it (the continuation and the cancellation handler keep this actor's isolation).
    private func sleep(until elapsed: Duration) async throws {
        guard sleepsOnLoop else { return try await timeline.sleep(until: elapsed) }
        let wait = elapsed - timeline.now()
        guard wait > .zero else { return }
        let timer = loop.scheduleTask(in: TimeAmount(wait)) {}
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (resume: UnsafeContinuation<Void, any Error>) in
                timer.futureResult.whenComplete { resume.resume(with: $0) }
            }
        } onCancel: {
            timer.cancel()
        }
    }

    /// Ends timed-out probes, sends the due ones, and returns when to wake next.
    private func tick() -> Duration {
        let now = timeline.now()
        // Replies first, each at the time it arrived: one that came before its timeout counts
        // although this tick is after it.
        received(inbox.take())
        absorb(scheduler.expire(now: now))
        let due = scheduler.dueProbes(now: now, coalesce: coalesce)
        if !due.isEmpty {
            for probe in due { metrics.sent(probe.target.path) }
            transport.send(due.map { ($0.packet, $0.target.address, $0.target.source) }, port: config.port)
        }
        let limited = scheduler.intervals().limited
        if limited != lastLimited {
            lastLimited = limited
            metrics.budgetLimited(limited)
            if limited {
                logger.notice(
                    "peer probe budget reached: targets probed less often than every interval",
                    metadata: ["targets": "\(scheduler.targetCount)", "budget": "\(config.budget)/s"])
            }
        }
        publishIfChanged()
        let latest = now + maxSleep
        return min(scheduler.nextWake(now: now) ?? latest, latest)
    }

    private func received(_ batch: [(ProbePacket, Duration)]) {
        for (packet, at) in batch { absorb(scheduler.reply(packet, at: at)) }
    }

    /// Metrics for what ended; on a state change the gauges at once, the push at the next tick.
    private func absorb(_ events: ProbeScheduler.Events) {
        metrics.record(events)
        guard events.stateChanged else { return }
        pending?.formUnion(events.changed)
        updateGauges()
    }

    /// After state changes: the gauges, and one push with every change so far (the stream's
    /// readers get one value per tick at most, not one per changed target).
    private func publishIfChanged() {
        guard pending?.isEmpty != true else { return }
        let changed = pending
        pending = []
        guard changeFeed.hasSubscribers else { return }
        if let changed {
            changeFeed.publish(.some(Dictionary(uniqueKeysWithValues: changed.map { ($0, scheduler.stats(for: $0)) })))
        } else {
            changeFeed.publish(.all(scheduler.stats()))
        }
    }

    private func updateGauges() {
        metrics.unreachable(scheduler.unreachableCounts)
    }
}

/// Replies waiting for the prober's next tick; filled on the transport's event loop.
final class ProbeInbox: Sendable {
    /// At most this many wait, the newest: the bound of the reply stream this replaced (1,024
    /// bursts of NIO's default 4 datagrams a read). A tick legitimately sees a budget's worth.
    static let limit = 4_096
    private let replies = Mutex<[(ProbePacket, Duration)]>([])

    func add(_ batch: [(ProbePacket, Duration)]) {
        replies.withLock { waiting in
            waiting.append(contentsOf: batch)
            if waiting.count > Self.limit { waiting.removeFirst(waiting.count - Self.limit) }
        }
    }

    func take() -> [(ProbePacket, Duration)] {
        replies.withLock { waiting in
            var taken: [(ProbePacket, Duration)] = []
            swap(&taken, &waiting)
            return taken
        }
    }
}

/// What `PeerProber.stateChanges()` yields.
public enum ProbeStateChange: Sendable, Equatable {
    /// Every target's stats: replaces what the reader had.
    case all([ProbeTarget: ProbeStats])
    /// These targets' stats; nil for a target no longer probed.
    case some([ProbeTarget: ProbeStats?])
}

/// An injected clock as durations since the prober started: what the scheduler counts in.
struct ProbeTimeline: Sendable {
    let now: @Sendable () -> Duration
    let sleepUntil: @Sendable (Duration) async throws -> Void

    init(_ clock: any Clock<Duration>) { self = Self.make(clock) }

    private static func make<C: Clock<Duration>>(_ clock: C) -> ProbeTimeline {
        let start = clock.now
        return ProbeTimeline(now: { start.duration(to: clock.now) }, sleepUntil: { try await clock.sleep(until: start.advanced(by: $0), tolerance: nil) })
    }

    private init(now: @escaping @Sendable () -> Duration, sleepUntil: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleepUntil = sleepUntil
    }

    func sleep(until elapsed: Duration) async throws { try await sleepUntil(elapsed) }
}
