// PeerProber as a whole on a manual clock, with a transport that answers in memory: states
// follow the answers, the stream pushes on state changes only, the gauges follow.
import Foundation
import HostGwTestSupport
import MetricsTestKit
import NetAddress
@testable import RouteSync
import Synchronization
import Testing

/// Answers every probe to an address in `up` at once, at the prober's own clock.
private final class MemoryTransport: ProbeTransport {
    let up = Mutex<Set<IPAddress>>([])
    let sent = Mutex(0)
    private let hooks = Mutex<(now: @Sendable () -> Duration, sink: @Sendable ([(ProbePacket, Duration)]) -> Void)?>(nil)

    func start(now: @escaping @Sendable () -> Duration, sink: @escaping @Sendable ([(ProbePacket, Duration)]) -> Void) {
        hooks.withLock { $0 = (now, sink) }
    }

    func send(_ probes: [(packet: ProbePacket, to: IPAddress, from: IPAddress?)], port: UInt16) {
        sent.withLock { $0 += probes.count }
        guard let (now, sink) = hooks.withLock({ $0 }) else { return }
        let up = self.up.withLock { $0 }
        let answers = probes.filter { up.contains($0.to) }.map { ($0.packet.reply, now()) }
        if !answers.isEmpty { sink(answers) }
    }

    func close() async {}
}

@Suite struct ProbeActorTests {
    /// Moves the manual clock in 50 ms steps (each once the prober sleeps again) until `condition`.
    private func advance(_ clock: ManualClock, steps: Int = 400, until condition: () async -> Bool) async -> Bool {
        for _ in 0..<steps {
            if await condition() { return true }
            let deadline = ContinuousClock.now + .seconds(5)
            while clock.sleeperCount == 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(1)) }
            clock.advance(by: .milliseconds(50))
            try? await Task.sleep(for: .milliseconds(2))
        }
        return await condition()
    }

    @Test func statesFollowAnswersAndTheStreamPushesOnlyChanges() async throws {
        let clock = ManualClock()
        let transport = MemoryTransport()
        let metrics = TestMetrics()
        let target = ProbeTarget(peer: "10.244.1.0-24", path: .node, address: try ip("10.0.0.2"))
        transport.up.withLock { $0 = [target.address] }
        let prober = PeerProber(
            config: ProbeConfig(interval: .seconds(1), jitter: 0, timeout: .milliseconds(500), lossesForUnreachable: 2),
            clock: clock, metrics: metrics, logger: quietLogger, transport: transport)
        await prober.setTargets([target])
        let pushes = Mutex<[Reachability]>([])
        let updates = await prober.stateChanges()
        let reader = Task {
            for await change in updates {
                switch change {
                case .all(let all): pushes.withLock { $0.append(all[target]?.state ?? .unknown) }
                case .some(let changed): if let stats = changed[target] { pushes.withLock { $0.append(stats?.state ?? .unknown) } }
                }
            }
        }
        let running = Task { try await prober.run() }
        defer {
            running.cancel()
            reader.cancel()
        }

        let reachable = await advance(clock) { await prober.stats()[target]?.state == .reachable }
        #expect(reachable)
        // Several more answered probes: no push for any of them.
        let sentAtUp = transport.sent.withLock { $0 }
        _ = await advance(clock, steps: 100) { transport.sent.withLock { $0 } >= sentAtUp + 5 }
        #expect(metrics.gauge("hostgw_peers_unreachable{path=node}") == 0)

        transport.up.withLock { $0 = [] }
        let unreachable = await advance(clock) { await prober.stats()[target]?.state == .unreachable }
        #expect(unreachable)
        #expect(metrics.gauge("hostgw_peers_unreachable{path=node}") == 1)
        #expect(metrics.counter("hostgw_peer_probes_lost_total{path=node}") >= 2)
        let settled = await advance(clock, steps: 40) { pushes.withLock { $0.last } == .unreachable }
        #expect(settled)
        let seen = pushes.withLock { $0 }
        #expect(transport.sent.withLock { $0 } >= 8)
        // The current value, then one push per change: unknown, reachable, unreachable.
        #expect(seen == [.unknown, .reachable, .unreachable], "\(seen)")
        #expect(metrics.gauge("hostgw_peer_probe_budget_limited") == 0)
    }

    /// Replies wait for the next tick in a bounded inbox that keeps the newest, as the reply
    /// stream it replaced did: a flood between two ticks cannot grow it without bound.
    @Test func theReplyInboxKeepsTheNewestUpToItsLimit() {
        let inbox = ProbeInbox()
        let replies = (0..<UInt64(ProbeInbox.limit + 500)).map { (ProbePacket(kind: .reply, sequence: $0, nonce: 1), Duration.milliseconds(Int64($0))) }
        for burst in stride(from: 0, to: replies.count, by: 4) { inbox.add(Array(replies[burst..<min(burst + 4, replies.count)])) }
        let taken = inbox.take()
        #expect(taken.count == ProbeInbox.limit)
        #expect(taken.first?.0.sequence == 500 && taken.last?.0.sequence == UInt64(ProbeInbox.limit + 499))
        #expect(inbox.take().isEmpty)
    }

    @Test func budgetLimitedGaugeAtScale() async throws {
        let clock = ManualClock()
        let metrics = TestMetrics()
        let prober = PeerProber(
            config: ProbeConfig(budget: 200), clock: clock, metrics: metrics, logger: quietLogger, transport: MemoryTransport())
        await prober.setTargets(
            (0..<5000).map { ProbeTarget(peer: "p\($0)", path: .node, address: .v4(IPv4Address(UInt32(0x0A00_0000 + $0)))) })
        let running = Task { try await prober.run() }
        defer { running.cancel() }
        let limited = await advance(clock, steps: 20) { metrics.gauge("hostgw_peer_probe_budget_limited") == 1 }
        #expect(limited)
    }
}
