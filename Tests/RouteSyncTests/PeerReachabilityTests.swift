import Foundation
import HostGwTestSupport
import Logging
import NetAddress
import Netlink
@testable import RouteSync
import Testing

/// The one judgement of whether a peer is reachable (issue 13), and the board that keeps the
/// latest signs: a failed neighbour entry or a lost node path is unreachable, a node that answers
/// while its pod gateway does not is unreachable for pods, any answer is reachable, and the
/// summary (what health judges) changes only with the set of unreachable peers.
@Suite struct PeerReachabilityTests {
    let gw = IPAddress.v4(IPv4Address(10, 0, 0, 3))
    let failed = NeighbourWatcher.Entry(state: "FAILED", linkAddress: nil, unresolved: true)
    let stale = NeighbourWatcher.Entry(state: "STALE", linkAddress: "02:00:00:00:00:03", unresolved: false)

    @Test func theJudgement() {
        let up = ProbeStats(state: .reachable, sent: 5, received: 5)
        let down = ProbeStats(state: .unreachable, sent: 5, received: 0, consecutiveLosses: 3)
        #expect(PeerReachability.judge(gateway: gw, neighbour: nil, node: nil, pod: nil).state == .unknown)
        #expect(PeerReachability.judge(gateway: gw, neighbour: stale, node: nil, pod: nil).state == .unknown)
        let arp = PeerReachability.judge(gateway: gw, neighbour: failed, node: up, pod: nil)
        #expect(arp.state == .unreachable)
        #expect(arp.reason?.hasPrefix("neighbour entry of 10.0.0.3 is FAILED") == true)
        let lost = PeerReachability.judge(gateway: gw, neighbour: stale, node: down, pod: nil)
        #expect(lost.state == .unreachable)
        #expect(lost.reason?.hasPrefix("3 probe(s) in a row to 10.0.0.3 unanswered") == true)
        let pods = PeerReachability.judge(gateway: gw, neighbour: stale, node: up, pod: down)
        #expect(pods.state == .unreachable)
        #expect(pods.reason?.hasPrefix("the node answers but its pod gateway does not") == true)
        #expect(PeerReachability.judge(gateway: gw, neighbour: stale, node: up, pod: up).state == .reachable)
    }

    @Test func theBoardSummarisesPerPeerAndSaysWhenAllAreGone() async throws {
        let board = PeerReachabilityBoard(logger: quietLogger)
        let b = ProbeTarget(peer: "10.244.2.0-24", path: .node, address: .v4(IPv4Address(10, 0, 0, 2)))
        let c = ProbeTarget(peer: "10.244.3.0-24", path: .node, address: gw)
        let cPod = ProbeTarget(peer: "10.244.3.0-24", path: .pod, address: .v4(IPv4Address(10, 244, 3, 1)), source: .v4(IPv4Address(10, 244, 1, 1)))
        await board.setTargets([b, c, cPod])
        #expect(await board.summary == ReachabilitySummary(peers: 2, measured: 0, unreachable: []))
        await board.update(probes: [b: ProbeStats(state: .reachable), c: ProbeStats(state: .reachable), cPod: ProbeStats(state: .reachable)])
        #expect(await board.summary == ReachabilitySummary(peers: 2, measured: 2, unreachable: []))
        // c's pod path goes: c is unreachable (for pods), b is not; not isolated.
        await board.update(probes: [b: ProbeStats(state: .reachable), c: ProbeStats(state: .reachable), cPod: ProbeStats(state: .unreachable, consecutiveLosses: 3)])
        #expect(await board.summary.unreachable == ["10.244.3.0-24"])
        #expect(await board.summary.unreachableForPodsOnly == ["10.244.3.0-24"])
        #expect(await !board.summary.isolated)
        #expect(await board.reachability(leaseKey: "10.244.3.0-24", family: .v4)?.cause == .pod)
        #expect(await board.reachability(leaseKey: "10.244.3.0-24", family: .v4)?.state == .unreachable)
        #expect(await board.reachability(leaseKey: "10.244.3.0-24", family: .v6) == nil)
        // b's gateway fails ARP too: every peer is gone.
        await board.update(neighbours: [.v4(IPv4Address(10, 0, 0, 2)): failed])
        #expect(await board.summary.isolated)
        #expect(await board.summary.unreachableForPodsOnly == ["10.244.3.0-24"])
        #expect(await board.reachability(leaseKey: "10.244.2.0-24", family: .v4)?.cause == .neighbour)
        // c's node path goes too: no longer unreachable for pods only.
        await board.update(probeChanges: .some([c: ProbeStats(state: .unreachable, consecutiveLosses: 3)]))
        #expect(await board.summary.unreachableForPodsOnly == [])
        #expect(await board.reachability(leaseKey: "10.244.3.0-24", family: .v4)?.cause == .node)
        // A peer that leaves takes its verdict with it.
        await board.setTargets([b])
        #expect(await board.summary == ReachabilitySummary(peers: 1, measured: 1, unreachable: ["10.244.2.0-24"]))
    }

    /// Issue 15: following deltas (targets that come and go, the prober's changed states) gives
    /// the summary and per-peer verdicts that a full update of the same state gives.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func deltasGiveWhatAFullUpdateGives(seed: UInt64) async throws {
        var rng = SplitMix(seed: seed)
        func target(_ n: Int, _ path: ProbePath) -> ProbeTarget {
            ProbeTarget(peer: "10.244.\(n).0-24", path: path, address: .v4(IPv4Address(path == .node ? 10 : 11, 0, UInt8(n / 256), UInt8(n % 256))))
        }
        let incremental = PeerReachabilityBoard(logger: quietLogger)
        let full = PeerReachabilityBoard(logger: quietLogger)
        var targets = Set((1...100).flatMap { [target($0, .node), target($0, .pod)] })
        var probes: [ProbeTarget: ProbeStats] = [:]
        var neighbours: [IPAddress: NeighbourWatcher.Entry] = [:]
        await incremental.setTargets(Array(targets))
        for step in 0..<200 {
            let n = Int.random(in: 1...150, using: &rng)
            let t = target(n, Bool.random(using: &rng) ? .node : .pod)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                let removing = targets.contains(t)
                if removing { targets.remove(t); probes[t] = nil } else { targets.insert(t) }
                await incremental.updateTargets(adding: removing ? [] : [t], removing: removing ? [t] : [])
            case 1, 2:
                guard targets.contains(t) else { continue }
                let stats = ProbeStats(state: [.reachable, .unreachable, .unknown][Int.random(in: 0..<3, using: &rng)], consecutiveLosses: 3)
                probes[t] = stats
                await incremental.update(probeChanges: .some([t: stats]))
            default:
                let address = target(n, .node).address
                neighbours[address] = Bool.random(using: &rng) ? failed : nil
                await incremental.update(neighbours: neighbours)
            }
            await full.setTargets(Array(targets))
            await full.update(neighbours: neighbours)
            await full.update(probes: probes)
            #expect(await incremental.summary == full.summary, "step \(step)")
            let key = t.peer
            #expect(await incremental.reachability(leaseKey: key, family: .v4) == full.reachability(leaseKey: key, family: .v4), "step \(step)")
            // The summary's lists, kept sorted one peer at a time, are the peers judged
            // unreachable, in order.
            guard step % 10 == 0 else { continue }
            let summary = await incremental.summary
            var judged: [String] = []
            for n in 1...150 where await incremental.reachability(leaseKey: target(n, .node).peer, family: .v4)?.state == .unreachable {
                judged.append(target(n, .node).peer)
            }
            #expect(summary.unreachable == judged.sorted(), "step \(step)")
            #expect(summary.unreachableForPodsOnly == summary.unreachableForPodsOnly.sorted(), "step \(step)")
            #expect(Set(summary.unreachableForPodsOnly).isSubset(of: summary.unreachable), "step \(step)")
        }
    }

    /// Issue 13: a node cut off from many peers logs the first few changes one by one and the rest
    /// in one summary line at the window's end, with the totals; every verdict still counts.
    @Test func aMassOutageLogsAFewLinesAndOneSummary() async throws {
        let capture = LogCapture()
        let clock = ManualClock()
        let board = PeerReachabilityBoard(logger: capture.logger, clock: clock)
        let targets = (1...200).map { ProbeTarget(peer: "peer-\($0)", path: .node, address: .v4(IPv4Address(10, 1, UInt8($0 / 250), UInt8($0 % 250)))) }
        await board.setTargets(targets)
        await board.update(probes: Dictionary(uniqueKeysWithValues: targets.map { ($0, ProbeStats(state: .unreachable, consecutiveLosses: 3)) }))
        #expect(await board.summary.unreachable.count == 200)
        #expect(await board.summary.isolated)
        var lines = capture.messages.filter { $0.message.hasPrefix("peer unreachable") }
        #expect(lines.count == 10)
        // The window ends: one summary of the 190 held back, with the totals.
        clock.advance(by: .seconds(10))
        var summary: LogCapture.Entry?
        for _ in 0..<200 where summary == nil {
            await Task.yield()
            try await Task.sleep(for: .milliseconds(5))
            summary = capture.messages.first { $0.message.hasPrefix("peer reachability changed") }
        }
        let said = try #require(summary, "no summary line after the window")
        #expect(said.level == .warning)
        #expect(said.metadata["unreachable"] == "190")
        #expect(said.metadata["unreachableNow"] == "200")
        #expect(said.metadata["peers"] == "200")
        // The next window logs again one by one: all come back, ten lines and a notice.
        await board.update(probes: Dictionary(uniqueKeysWithValues: targets.map { ($0, ProbeStats(state: .reachable)) }))
        #expect(await board.summary.unreachable.isEmpty)
        lines = capture.messages.filter { $0.message.hasPrefix("peer reachable again") }
        #expect(lines.count == 10)
        await board.logHeldChanges()
        let back = capture.messages.filter { $0.message.hasPrefix("peer reachability changed") }
        #expect(back.count == 2)
        #expect(back.last?.level == .notice)
        #expect(back.last?.metadata["reachableAgain"] == "190")
        #expect(capture.messages.count <= 23)
    }
}
