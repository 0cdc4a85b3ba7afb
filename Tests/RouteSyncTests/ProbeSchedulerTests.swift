// The probe scheduler on simulated time: the per-node budget at 5,000 targets, more probes for
// targets in trouble, and the reachable/unreachable state machine (no flapping on late answers).
import Foundation
import HostGwTestSupport
import NetAddress
@testable import RouteSync
import SubnetLease
import Testing

private func targets(_ count: Int, path: ProbePath = .node) -> [ProbeTarget] {
    (0..<count).map { i in
        ProbeTarget(peer: "10.244.\(i / 256).\(i % 256)-24", path: path, address: .v4(IPv4Address(UInt32(0x0A00_0000 + i + 1))))
    }
}

/// Runs `scheduler` from `start` for `seconds` in steps of `step`, answering each probe one step
/// later unless `answers` says no; returns each probe's send time and target.
private func simulate(
    _ scheduler: inout ProbeScheduler, from start: Duration = .zero, seconds: Int, step: Duration = .milliseconds(10),
    answers: (ProbeTarget) -> Bool = { _ in true }
) -> [(Duration, ProbeTarget)] {
    var sent: [(Duration, ProbeTarget)] = []
    var pending: [ProbePacket] = []
    var now = start
    let end = start + .seconds(seconds)
    while now < end {
        for packet in pending { _ = scheduler.reply(packet.reply, at: now) }
        pending = []
        _ = scheduler.expire(now: now)
        for probe in scheduler.dueProbes(now: now, coalesce: .milliseconds(20)) {
            sent.append((now, probe.target))
            if answers(probe.target) { pending.append(probe.packet) }
        }
        now += step
    }
    return sent
}

@Suite struct ProbeSchedulerTests {
    @Test func budgetHoldsAt5000Targets() {
        var scheduler = ProbeScheduler(config: ProbeConfig(budget: 200), seed: 1)
        let all = targets(5000)
        scheduler.setTargets(all, now: .zero)
        #expect(scheduler.intervals().limited)
        let sent = simulate(&scheduler, seconds: 120)
        var perSecond: [Int: Int] = [:]
        for (at, _) in sent { perSecond[Int(at.seconds), default: 0] += 1 }
        #expect(perSecond.values.max()! <= 200, "a simulated second had \(perSecond.values.max()!) probes")
        // The budget is used, not just respected: after the first rotation about 90% of it.
        let steady = (40..<120).map { perSecond[$0] ?? 0 }
        #expect(steady.min()! >= 150, "steady-state seconds: min \(steady.min()!)")
        // Every target is reached in rotation: 5,000 / 180 per second ≈ 28 s (+ jitter).
        let probed = Set(sent.filter { $0.0 < .seconds(60) }.map(\.1))
        #expect(probed.count == 5000)
    }

    /// Targets added and dropped one at a time (lease events) at 5,000: the cap holds, each new
    /// one is probed within the stretched interval, a dropped one is never probed again, and a
    /// reused slot does not inherit the old target's schedule.
    @Test func targetsComeAndGoOneByOneAt5000() {
        var scheduler = ProbeScheduler(config: ProbeConfig(budget: 200), seed: 9)
        let all = targets(5200)
        scheduler.setTargets(Array(all.prefix(5000)), now: .zero)
        var perSecond: [Int: Int] = [:]
        var droppedAt: [ProbeTarget: Duration] = [:]
        var added: [ProbeTarget] = []
        var lastSent: [ProbeTarget: Duration] = [:]
        var now = Duration.zero
        for step in 0..<9000 {  // 90 s in 10 ms steps; a swap every 50 ms from 10 s, 200 in all
            if step >= 1000, step % 5 == 0, added.count < 200 {
                let k = added.count
                let changed = scheduler.updateTargets(adding: [all[5000 + k]], removing: [all[k]], now: now)
                #expect(changed)
                added.append(all[5000 + k])
                droppedAt[all[k]] = now
            }
            for probe in scheduler.dueProbes(now: now, coalesce: .milliseconds(20)) {
                perSecond[Int(now.seconds), default: 0] += 1
                lastSent[probe.target] = now
                _ = scheduler.reply(probe.packet.reply, at: now)
            }
            _ = scheduler.expire(now: now)
            now += .milliseconds(10)
        }
        #expect(scheduler.targetCount == 5000)
        #expect(perSecond.values.max()! <= 200)
        for target in added { #expect(lastSent[target] != nil, "\(target) never probed") }
        for (target, at) in droppedAt { #expect((lastSent[target] ?? .zero) < at + .milliseconds(20), "\(target) probed after it went") }
    }

    @Test func theHardCapHoldsWhenEveryoneIsInTrouble() {
        // Nothing answers: all 5,000 become troubled and want the base interval, 2,500/s.
        var scheduler = ProbeScheduler(config: ProbeConfig(budget: 200), seed: 2)
        scheduler.setTargets(targets(5000), now: .zero)
        let sent = simulate(&scheduler, seconds: 90) { _ in false }
        var perSecond: [Int: Int] = [:]
        for (at, _) in sent { perSecond[Int(at.seconds), default: 0] += 1 }
        #expect(perSecond.values.max()! <= 200)
        #expect(scheduler.unreachableCounts[.node, default: 0] > 0)
    }

    @Test func underBudgetEveryTargetEveryInterval() {
        var scheduler = ProbeScheduler(config: ProbeConfig(interval: .seconds(2), jitter: 0.2, budget: 200), seed: 3)
        scheduler.setTargets(targets(50), now: .zero)
        #expect(!scheduler.intervals().limited)
        let sent = simulate(&scheduler, seconds: 100)
        var perTarget: [ProbeTarget: Int] = [:]
        for (_, target) in sent { perTarget[target, default: 0] += 1 }
        #expect(perTarget.count == 50)
        // 100 s / 2 s = 50 probes each; jitter averages out.
        for (target, count) in perTarget { #expect((44...56).contains(count), "\(target): \(count)") }
    }

    @Test func unreachableTargetsAreProbedMoreOften() {
        var scheduler = ProbeScheduler(config: ProbeConfig(budget: 100), seed: 4)
        let all = targets(1000)
        let dead = Set(all.prefix(10))
        scheduler.setTargets(all, now: .zero)
        let sent = simulate(&scheduler, seconds: 200) { !dead.contains($0) }
        var perTarget: [ProbeTarget: Int] = [:]
        for (at, target) in sent where at >= .seconds(50) { perTarget[target, default: 0] += 1 }
        let deadMean = Double(dead.map { perTarget[$0] ?? 0 }.reduce(0, +)) / Double(dead.count)
        let alive = all.filter { !dead.contains($0) }
        let aliveMean = Double(alive.map { perTarget[$0] ?? 0 }.reduce(0, +)) / Double(alive.count)
        // Dead ones at the retry interval (0.4 s, 25/s of the 90/s planned: ~375 probes in 150 s);
        // the rest rotate (990 at 65/s ≈ 15 s: ~10).
        #expect(deadMean > 3 * aliveMean, "dead \(deadMean) vs alive \(aliveMean) probes per target")
        let stats = scheduler.stats()
        for target in dead { #expect(stats[target]?.state == .unreachable) }
        #expect(scheduler.unreachableCounts[.node] == dead.count)
        scheduler.setTargets(Array(all.dropFirst(4)), now: .seconds(200))
        #expect(scheduler.unreachableCounts[.node] == dead.count - 4, "dropped targets leave the count")
        #expect(stats[alive[0]]?.state == .reachable)
    }

    /// The bound with the default config: a peer that stops answering at any moment is
    /// `unreachable` within 5 s, and `reachable` again within one jittered interval (2.4 s) of
    /// answering again (simulated time; the seed moves the fault against the jittered schedule;
    /// probes due within 200 ms go together, as `PeerProber` sends them).
    @Test(arguments: 0..<40) func deadWithin5sClearedWithinAnInterval(seed: UInt64) throws {
        var scheduler = ProbeScheduler(config: ProbeConfig(), seed: seed)
        let all = targets(50)
        let victim = all[Int(seed) % all.count]
        scheduler.setTargets(all, now: .zero)
        var rng = SplitMix64(seed: seed &+ 1000)
        let fault = Duration.seconds(20) + .milliseconds(Int64.random(in: 0..<3000, using: &rng))
        let repair = fault + .seconds(20) + .milliseconds(Int64.random(in: 0..<3000, using: &rng))
        let step = Duration.milliseconds(5)
        var now = Duration.zero
        var pending: [ProbePacket] = []
        var deadAt: Duration?
        var clearedAt: Duration?
        while now < repair + .seconds(10) {
            for packet in pending { _ = scheduler.reply(packet.reply, at: now) }
            pending = []
            _ = scheduler.expire(now: now)
            let state = scheduler.stats(for: victim)?.state
            if now >= fault, now < repair, deadAt == nil, state == .unreachable { deadAt = now }
            if now >= repair, clearedAt == nil, state == .reachable { clearedAt = now }
            if now < fault { #expect(state != .unreachable, "unreachable at \(now) before the fault") }
            for probe in scheduler.dueProbes(now: now, coalesce: .milliseconds(200)) {
                let answered = probe.target != victim || now < fault || now >= repair
                if answered { pending.append(probe.packet) }
            }
            now += step
        }
        let dead = try #require(deadAt, "never unreachable")
        let cleared = try #require(clearedAt, "never cleared")
        #expect(dead - fault <= .seconds(5), "unreachable \(dead - fault) after the fault")
        #expect(cleared - repair <= .milliseconds(2_450), "reachable \(cleared - repair) after the repair")
    }

    /// Dead peers are retried quickly only until they are confirmed unreachable; then they are
    /// probed every interval like the live ones, so 40 dead nodes among 90 cost 45 probes a
    /// second, not 40 retries every 0.4 s (100 a second) on top of the live ones' 25.
    @Test func confirmedDeadTargetsAreProbedEveryIntervalNotAtTheRetryRate() throws {
        var scheduler = ProbeScheduler(config: ProbeConfig(), seed: 9)
        let all = targets(90)
        let dead = Set(all.prefix(40))
        scheduler.setTargets(all, now: .zero)
        var now = Duration.zero
        var pending: [ProbePacket] = []
        var sentInWindow = 0
        let window = Duration.seconds(30)..<Duration.seconds(50)
        while now < window.upperBound {
            for packet in pending { _ = scheduler.reply(packet.reply, at: now) }
            pending = []
            _ = scheduler.expire(now: now)
            for probe in scheduler.dueProbes(now: now, coalesce: .milliseconds(200)) {
                if window.contains(now) { sentInWindow += 1 }
                if !dead.contains(probe.target) { pending.append(probe.packet) }
            }
            now += .milliseconds(5)
        }
        #expect(scheduler.unreachableCounts[.node] == 40)
        let perSecond = Double(sentInWindow) / 20
        #expect(perSecond > 40 && perSecond < 50, "\(perSecond) probes a second for 90 targets every 2 s")
    }

    @Test func unreachableAfterNLossesReachableOnFirstReply() throws {
        var scheduler = ProbeScheduler(
            config: ProbeConfig(interval: .seconds(2), jitter: 0, timeout: .seconds(1), lossesForUnreachable: 3), seed: 5)
        let target = targets(1)[0]
        scheduler.setTargets([target], now: .zero)
        var now = Duration.zero
        var changes = 0
        func probe() -> ProbePacket? {
            // The next probe, whenever it is due.
            let wake = scheduler.nextWake(now: now) ?? now
            now = max(now, wake)
            return scheduler.dueProbes(now: now).first?.packet
        }
        for loss in 1...3 {
            _ = try #require(probe())
            now += .milliseconds(1001)
            let events = scheduler.expire(now: now)
            #expect(events.lost[.node] == 1)
            if events.stateChanged { changes += 1 }
            let stats = try #require(scheduler.stats(for: target))
            #expect(stats.consecutiveLosses == loss)
            #expect(stats.state == (loss < 3 ? .unknown : .unreachable))
        }
        #expect(changes == 1)
        let packet = try #require(probe())
        now += .milliseconds(3)
        let events = scheduler.reply(packet.reply, at: now)
        #expect(events.stateChanged)
        let stats = try #require(scheduler.stats(for: target))
        #expect(stats.state == .reachable)
        #expect(stats.consecutiveLosses == 0)
        #expect(stats.sent == 4 && stats.received == 1)
        #expect(stats.lossRatio == 0.75)
        #expect(abs((stats.lastRTT ?? 0) - 0.003) < 1e-9)
        #expect(stats.lastReply != nil)
    }

    @Test func lateRepliesCountAsLossAndDoNotFlap() throws {
        var scheduler = ProbeScheduler(
            config: ProbeConfig(interval: .seconds(2), jitter: 0, timeout: .seconds(1), lossesForUnreachable: 3), seed: 6)
        let target = targets(1)[0]
        scheduler.setTargets([target], now: .zero)
        var now = Duration.zero
        var states: [Reachability] = []
        for _ in 0..<6 {
            now = max(now, scheduler.nextWake(now: now) ?? now)
            let packet = try #require(scheduler.dueProbes(now: now).first?.packet)
            // The answer arrives 1.5 s later, after the 1 s timeout, before expiry runs.
            now += .milliseconds(1500)
            let late = scheduler.reply(packet.reply, at: now)
            #expect(late.unmatched == 1 && !late.stateChanged)
            #expect(scheduler.expire(now: now).lost[.node] == 1)
            states.append(try #require(scheduler.stats(for: target)).state)
        }
        #expect(states == [.unknown, .unknown, .unreachable, .unreachable, .unreachable, .unreachable])
    }

    @Test func repliesMustMatchSequenceAndNonce() throws {
        var scheduler = ProbeScheduler(config: ProbeConfig(jitter: 0), seed: 7)
        scheduler.setTargets(targets(1), now: .zero)
        let now = scheduler.nextWake(now: .zero) ?? .zero
        let packet = try #require(scheduler.dueProbes(now: now).first?.packet)
        var forged = packet.reply
        forged.nonce &+= 1
        #expect(scheduler.reply(forged, at: now + .milliseconds(1)).unmatched == 1)
        #expect(scheduler.reply(packet, at: now + .milliseconds(1)).unmatched == 1, "a request is not an answer")
        #expect(scheduler.reply(packet.reply, at: now + .milliseconds(1)).stateChanged)
        #expect(scheduler.reply(packet.reply, at: now + .milliseconds(2)).unmatched == 1, "a duplicate answers nothing")
    }

    @Test func setTargetsKeepsStatsOfThoseThatStay() throws {
        var scheduler = ProbeScheduler(config: ProbeConfig(jitter: 0), seed: 8)
        let two = targets(2)
        scheduler.setTargets(two, now: .zero)
        _ = simulate(&scheduler, seconds: 5)
        #expect(scheduler.stats()[two[0]]?.state == .reachable)
        let other = targets(3)[2]
        let changed = scheduler.setTargets([two[0], other], now: .seconds(5))
        let changedAgain = scheduler.setTargets([other, two[0]], now: .seconds(5))
        #expect(changed)
        #expect(!changedAgain, "same set, other order")
        let stats = scheduler.stats()
        #expect(Set(stats.keys) == [two[0], other])
        #expect(stats[two[0]]?.state == .reachable)
        #expect(stats[other]?.state == .unknown)
    }
}

@Suite struct ProbePacketTests {
    @Test func roundTripsAndRejectsEverythingElse() throws {
        let packet = ProbePacket(kind: .request, sequence: 0x0102_0304_0506_0708, nonce: 0xFFEE_DDCC_BBAA_9988, opaque: 42)
        let bytes = packet.bytes
        #expect(bytes.count == ProbePacket.size)
        #expect(ProbePacket(bytes: bytes) == packet)
        #expect(ProbePacket(bytes: packet.reply.bytes)?.kind == .reply)
        #expect(packet.reply.bytes.count == bytes.count)
        #expect(ProbePacket(bytes: bytes.dropLast()) == nil)
        #expect(ProbePacket(bytes: bytes + [0]) == nil)
        var badMagic = bytes
        badMagic[0] ^= 0xFF
        #expect(ProbePacket(bytes: badMagic) == nil)
        var badVersion = bytes
        badVersion[4] = 2
        #expect(ProbePacket(bytes: badVersion) == nil)
        var badKind = bytes
        badKind[5] = 3
        #expect(ProbePacket(bytes: badKind) == nil)
    }
}
