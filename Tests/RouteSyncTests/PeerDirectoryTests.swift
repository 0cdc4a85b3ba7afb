// The peer directory kept across snapshots (issue 15): after any sequence of lease changes it
// holds what one built from the last snapshot holds, and each update names exactly what changed,
// so a lease event at 5,000 peers hands the watchers its own targets and gateways only.
import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing

@Suite struct PeerDirectoryTests {
    let local = [try! prefix("10.32.0.0/24")]

    func peer(_ n: Int, gateway g: Int? = nil, mtu: UInt32? = nil, pod: Bool = false, name: String? = nil) -> Lease {
        let third = n % 256, second = 32 + n / 256
        let gw = g ?? n
        var l = try! lease("10.\(second).\(third).0/24", via: "172.16.\(gw / 256).\(gw % 256 == 0 ? 1 : gw % 256)", node: name ?? "n\(n)")
        l.attributes.published = NodeReport(mtu: mtu, podGateway: pod ? IPv4Address(10, UInt8(second), UInt8(third), 1) : nil)
        return l
    }

    func sorted(_ leases: [Lease]) -> [Lease] { leases.sorted { LeaseSnapshot.isOrdered($0, before: $1) } }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func followingChangesEqualsBuildingAfresh(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var ids = Array(1...200)
        var current = ids.map { peer($0, mtu: $0 % 3 == 0 ? 9000 : nil, pod: $0 % 2 == 0) }
        let gateways: [IPFamily: IPAddress] = [.v4: .v4(IPv4Address(10, 32, 0, 1))]
        var directory = PeerDirectory(leases: sorted(current), localSubnets: local, families: [.v4], localPodGateways: gateways)
        var targets = Set(directory.targets)
        var previous = sorted(current)
        for step in 0..<60 {
            let i = Int.random(in: 0..<current.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0:
                current.remove(at: i)
                ids.remove(at: i)
            case 1:
                current.append(peer(300 + step, pod: step % 2 == 0))
                ids.append(300 + step)
            case 2: current[i] = peer(ids[i], gateway: 900 + step, pod: step % 2 == 0)
            case 3: current[i].attributes.published.mtu = current[i].attributes.published.mtu == nil ? 1500 : nil
            default: current[i].attributes.nodeName = "renamed-\(step)"
            }
            let snapshot = sorted(current)
            // As a watcher hands them: every other snapshot names its changes since the one
            // before it (worked out here by key), the rest follow a snapshot never seen.
            let stamp = LeaseSnapshot.Stamp(feed: seed, sequence: UInt64(step + 1))
            var stamped = LeaseSnapshot(revision: Int64(step), leases: snapshot, skipped: [], stamp: stamp)
            let base = step % 2 == 0 ? LeaseSnapshot.Stamp(feed: seed, sequence: UInt64(step)) : LeaseSnapshot.Stamp(feed: 0, sequence: 0)
            stamped.changes = .init(base: base, leases: Self.changes(from: previous, to: snapshot))
            previous = snapshot
            let changes = directory.update(stamped, localPodGateways: gateways)
            let fresh = PeerDirectory(leases: snapshot, localSubnets: local, families: [.v4], localPodGateways: gateways)
            #expect(directory.gateways == fresh.gateways, "step \(step)")
            #expect(directory.gatewayCounts == [.v4: fresh.gateways.count], "step \(step): the counts kept follow the gateways")
            #expect(directory.mtus == fresh.mtus, "step \(step)")
            #expect(directory.targets == fresh.targets, "step \(step)")
            // The changes, applied to what the watchers had, give what they must have now.
            targets.subtract(changes.removedTargets)
            targets.formUnion(changes.addedTargets)
            #expect(targets == Set(fresh.targets), "step \(step)")
        }
    }

    /// What a watcher names between two lists: by key, each lease that differs.
    static func changes(from old: [Lease], to new: [Lease]) -> [LeaseSnapshot.Change] {
        let before = Dictionary(uniqueKeysWithValues: old.map { ($0.key, $0) })
        let after = Dictionary(uniqueKeysWithValues: new.map { ($0.key, $0) })
        return Set(before.keys).union(after.keys).compactMap { key in
            before[key] == after[key] ? nil : LeaseSnapshot.Change(before: before[key], after: after[key])
        }
    }

    /// A snapshot that follows the last one given is taken at its word: only the leases it names
    /// are looked at (the walk would also have found the unnamed one). One that follows another
    /// is compared in full.
    @Test func aSnapshotFollowingTheLastOneIsFollowedByTheChangesItNames() {
        var leases = sorted((1...50).map { peer($0) })
        var directory = PeerDirectory(localSubnets: local, families: [.v4])
        let first = LeaseSnapshot.Stamp(feed: 5, sequence: 1)
        directory.update(LeaseSnapshot(revision: 1, leases: leases, skipped: [], stamp: first))
        let old = leases
        leases[9] = peer(10, gateway: 400)
        leases[19] = peer(20, gateway: 401)
        let second = LeaseSnapshot.Stamp(feed: 5, sequence: 2)
        var named = LeaseSnapshot(revision: 2, leases: leases, skipped: [], stamp: second)
        named.changes = .init(base: first, leases: [.init(before: old[9], after: leases[9])])
        let changes = directory.update(named)
        #expect(changes.addedTargets.map(\.address) == [leases[9].gateway(for: .v4)!])
        leases[29] = peer(30, gateway: 402)
        var unrelated = LeaseSnapshot(revision: 3, leases: leases, skipped: [], stamp: .init(feed: 5, sequence: 3))
        unrelated.changes = .init(base: first, leases: [])
        #expect(directory.update(unrelated).addedTargets.map(\.address) == [leases[29].gateway(for: .v4)!])
    }

    /// The backstop: a snapshot whose named changes missed a lease leaves the directory out of
    /// step; `resync` finds exactly what was missed, and nothing when nothing was.
    @Test func resyncFindsWhatWrongNamedChangesMissed() {
        var leases = sorted((1...50).map { peer($0, mtu: 1500) })
        var directory = PeerDirectory(localSubnets: local, families: [.v4])
        let first = LeaseSnapshot.Stamp(feed: 6, sequence: 1)
        directory.update(LeaseSnapshot(revision: 1, leases: leases, skipped: [], stamp: first))
        #expect(directory.resync().isEmpty)
        let i = leases.firstIndex { $0.attributes.nodeName == "n5" }!
        let old = leases[i]
        leases[i] = peer(5, gateway: 500, mtu: 9000)
        var wrong = LeaseSnapshot(revision: 2, leases: leases, skipped: [], stamp: .init(feed: 6, sequence: 2))
        wrong.changes = .init(base: first, leases: [])  // names nothing, though lease 5 changed
        #expect(directory.update(wrong).isEmpty)
        let fixed = directory.resync()
        let oldGateway = old.gateway(for: .v4)!, newGateway = leases[i].gateway(for: .v4)!
        #expect(fixed.addedTargets == [ProbeTarget(peer: old.key, path: .node, address: newGateway)])
        #expect(fixed.removedTargets == [ProbeTarget(peer: old.key, path: .node, address: oldGateway)])
        #expect(fixed.gateways == [oldGateway: String?.none, newGateway: "n5"])
        #expect(fixed.mtusChanged)
        #expect(directory.mtus["n5"] == 9000)
        #expect(directory.resync().isEmpty)
    }

    @Test func oneLeaseEventAtFiveThousandPeersNamesOnlyItsOwnTargets() {
        var leases = sorted((1...5000).map { peer($0, mtu: 1500, pod: true) })
        var directory = PeerDirectory(leases: leases, localSubnets: local, families: [.v4])
        #expect(directory.targets.count == 10_000)
        let i = leases.firstIndex { $0.attributes.nodeName == "n77" }!
        let old = leases[i]
        leases[i] = peer(77, gateway: 4000, mtu: 1500, pod: true)
        let changes = directory.update(leases: leases)
        let oldGateway = old.gateway(for: .v4)!, newGateway = leases[i].gateway(for: .v4)!
        #expect(changes.removedTargets == [ProbeTarget(peer: old.key, path: .node, address: oldGateway)])
        #expect(changes.addedTargets == [ProbeTarget(peer: old.key, path: .node, address: newGateway)], "the pod target did not change")
        #expect(changes.gateways == [oldGateway: String?.none, newGateway: "n77"])
        #expect(!changes.mtusChanged)
        #expect(directory.update(leases: leases).isEmpty, "the same snapshot again changes nothing")
    }

    @Test func aGatewaySharedByTwoLeasesStaysWhileOneRemains() {
        let a = peer(1, gateway: 50), b = peer(2, gateway: 50, name: "n1")
        var directory = PeerDirectory(leases: sorted([a, b]), localSubnets: local, families: [.v4])
        let gateway = a.gateway(for: .v4)!
        let changes = directory.update(leases: [b])
        #expect(directory.gateways[gateway] == "n1")
        #expect(changes.gateways[gateway] == nil, "still followed")
        #expect(directory.update(leases: []).gateways == [gateway: String?.none])
    }
}

