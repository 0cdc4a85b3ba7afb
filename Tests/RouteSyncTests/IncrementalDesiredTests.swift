// Issue 15: a lease event costs the leases it changed, not every lease. The pieces that keep state
// across lease events (DesiredRoutesIndex, the mass-deletion hold's admission by changes, the
// changes between two snapshots) must decide exactly what judging everything again decides.
import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import SubnetLease
import Testing

@testable import RouteSync

@Suite struct IncrementalDesiredTests {
    /// Dual-stack: subnets of either family clash, own lease included, some leases malformed.
    let config: RouteSyncConfig
    let addresses = nodeAddresses

    init() throws {
        var c = RouteSyncConfig(
            podNetworks: [.v4: try prefix("10.244.0.0/16"), .v6: try prefix("fd00:244::/56")],
            localSubnets: [try prefix("10.244.1.0/24"), try prefix("fd00:244:0:1::/64")])
        c.subnetLengths = [.v4: 24, .v6: 64]
        config = c
    }

    /// A random lease from a small space of subnets (so claims clash), with a random age, gateway
    /// and node name; now and then a wrong length, a missing gateway or a gateway off the link.
    func randomLease(_ rng: inout SplitMix) throws -> Lease {
        let v4 = Int(rng.next() % 8) + 1
        let v6 = Int(rng.next() % 5) + 1
        let shape = rng.next() % 30
        let subnet = shape == 0 ? "10.244.\(v4 * 2).0/23" : "10.244.\(v4).0/24"
        let gateway: String? = shape == 1 ? nil : shape == 2 ? "192.168.9.\(v4)" : "10.0.0.\(rng.next() % 200 + 2)"
        var l = try lease(subnet, via: gateway, node: "n\(rng.next() % 6)", v6: shape == 0 || rng.next() % 3 == 0 ? nil : "fd00:244:0:\(v6)::/64", gateway6: "fd00::\(v4 + 1)")
        l.createRevision = rng.next() % 5 == 0 ? nil : Int64(rng.next() % 40)
        return l
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func anIndexUpdatedPerChangeEqualsJudgingEveryLease(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        var current: [LeaseID: Lease] = [:]
        for _ in 0..<12 {
            let l = try randomLease(&rng)
            current[LeaseID(l)] = l
        }
        var index = try #require(DesiredRoutesIndex(leases: Array(current.values), config: config, links: nodeLinks, addresses: addresses))
        var rebuilt = 0
        for step in 0..<200 {
            var changes: LeaseChanges = [:]
            for _ in 0..<(Int(rng.next() % 3) + 1) {
                let l = try randomLease(&rng)
                let id = LeaseID(l)
                let next: Lease? = rng.next() % 3 == 0 ? nil : l
                current[id] = next
                changes[id] = .some(next)
            }
            let leases = Array(current.values)
            if index.update(changes) == nil {
                rebuilt += 1
                index = try #require(DesiredRoutesIndex(leases: leases, config: config, links: nodeLinks, addresses: addresses))
            }
            let full = DesiredRoutes(leases: leases, config: config, links: nodeLinks, addresses: addresses)
            #expect(index.desired == full, "step \(step)")
        }
        // A malformed lease claims nothing, so its other family's route may share a destination
        // with another's: such updates rebuild (the /23s); most must not.
        #expect(rebuilt < 100)
    }

    @Test func changesBetweenSnapshotsNameExactlyTheLeasesThatDiffer() throws {
        let a = try lease("10.244.2.0/24", via: "10.0.0.2")
        let b = try lease("10.244.3.0/24", via: "10.0.0.3")
        let c = try lease("10.244.4.0/24", via: "10.0.0.4")
        let b2 = try lease("10.244.3.0/24", via: "10.0.0.33")
        let d = try lease("10.244.9.0/24", via: "10.0.0.9")
        let gone: Lease? = nil
        let expected: LeaseChanges = [LeaseID(a): gone, LeaseID(b2): b2, LeaseID(d): d]
        // In snapshot order (a walk) and in any order (by dictionary) alike.
        #expect(LeaseChanges.between([a, b, c], [b2, c, d]) == expected)
        #expect(LeaseChanges.between([c, a, b], [d, b2, c]) == expected)
        #expect(LeaseChanges.between([a, b, c], [a, b, c]).isEmpty)
    }

    /// The hold admitting by changes decides as admitting whole snapshots, and both as the hold
    /// did before: same events, same
    /// leases to route, same held subnets, through mass deletions, returns and expiries.
    @Test(arguments: [1, 2, 3, 4, 5])
    func holdAdmittingChangesDecidesAsWholeSnapshots(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        let clock = ManualClock()
        var reference = ReferenceHold(grace: .seconds(10), clock: clock)
        var whole = MassDeletionHold(grace: .seconds(10), clock: clock)
        var byChanges = MassDeletionHold(grace: .seconds(10), clock: clock)
        let own = try lease("10.244.1.0/24", via: "10.0.0.1")
        let pool = try (2...13).map { try lease("10.244.\($0).0/24", via: "10.0.0.\($0)", node: "n\($0)") }
        var snapshot = [own] + pool
        var last = snapshot
        for step in 0..<150 {
            switch rng.next() % 6 {
            case 0: snapshot = [own] + pool.filter { _ in rng.next() % 4 == 0 }  // most vanish at once
            case 1: snapshot = [own] + pool
            case 2: clock.advance(by: .seconds(Int64(rng.next() % 8)))
            default:
                let pick = pool[Int(rng.next() % UInt64(pool.count))]
                if let i = snapshot.firstIndex(of: pick) { snapshot.remove(at: i) } else { snapshot.append(pick) }
            }
            snapshot.sort { LeaseSnapshot.isOrdered($0, before: $1) }
            let model = reference.admit(snapshot, localSubnets: config.localSubnets)
            let a = whole.admit(snapshot, localSubnets: config.localSubnets)
            #expect(a.event == model.event && a.leases == model.leases, "step \(step)")
            let b = byChanges.admit(snapshot, changes: .between(last, snapshot), localSubnets: config.localSubnets)
            last = snapshot
            #expect(a.event == b.event, "step \(step)")
            #expect(a.leases == b.leases, "step \(step)")
            #expect(whole.status?.held == byChanges.status?.held, "step \(step)")
            #expect(whole.remaining == byChanges.remaining, "step \(step)")
        }
    }
}

/// The hold as it admitted whole snapshots before issue 15 (by lease key), kept as the model the
/// admission by changes must agree with.
struct ReferenceHold {
    let grace: Duration
    let clock: ManualClock
    let origin: ManualClock.Instant
    var baseline: [String: Lease] = [:]
    var held: [String: Lease] = [:]
    var started: Duration?
    var deadline: Duration?

    init(grace: Duration, clock: ManualClock) {
        self.grace = grace
        self.clock = clock
        origin = clock.now
    }

    mutating func admit(_ leases: [Lease], localSubnets: [IPPrefix]) -> (leases: [Lease], event: MassDeletionHold.Event?) {
        let now = origin.duration(to: clock.now)
        var event: MassDeletionHold.Event?
        let peers = leases.filter { lease in
            ![lease.subnet, lease.ipv6Subnet].contains { s in s.map { localSubnets.contains($0) } ?? false }
        }
        let present = Set(peers.map(\.key))
        if let due = deadline, now >= due {
            event = .expired(removed: held.keys.filter { !present.contains($0) }.count)
            held = [:]
            deadline = nil
            started = nil
            for key in baseline.keys where !present.contains(key) { baseline[key] = nil }
        }
        let vanished = baseline.filter { !present.contains($0.key) }
        if deadline == nil, vanished.count >= 2, vanished.count * 2 > baseline.count {
            held = vanished
            started = now
            deadline = now + grace
            event = .started(held: vanished.count, peers: baseline.count)
        } else if deadline != nil {
            held.merge(vanished) { old, _ in old }
        }
        for key in held.keys where present.contains(key) { held[key] = nil }
        if deadline != nil, held.isEmpty {
            deadline = nil
            started = nil
            event = .resolved
        }
        let routed = peers + held.values.sorted { $0.key < $1.key }
        baseline = Dictionary(routed.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        return (leases + held.values.sorted { $0.key < $1.key }, event)
    }
}
