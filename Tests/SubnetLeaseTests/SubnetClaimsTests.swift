// One rule for two leases claiming one subnet (SubnetClaims), and its callers held equal: the
// claim check after a write and the lease snapshot readers build must give way on exactly the
// same keys, for any set of keys.
import Foundation
import HostGwTestSupport
import NetAddress
import Testing

@testable import SubnetLease

@Suite struct SubnetClaimsTests {
    let prefix = "/coreos.com/network/subnets/"
    let cfg = try! NetworkConfig(
        json: Data(#"{"Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:244::/60", "IPv6SubnetLen": 64}"#.utf8))

    func entry(_ v4: Int, _ v6: Int, revision: Int64) -> StoreEntry {
        let value = try! JSONEncoder().encode(
            LeaseAttributes(publicIP: IPv4Address(10, 0, 0, UInt8(v4)), publicIPv6: IPv6Address("fd77::\(v4)"), nodeName: "n\(v4)-\(revision)"))
        return StoreEntry(
            key: prefix + "10.244.\(v4).0-24&fd00:244:0:\(String(v6, radix: 16))::-64", value: value, createRevision: revision,
            modRevision: revision, expiration: nil)
    }

    @Test func theYoungerOfAClashGivesWayEvenToAClaimThatGivesWayItself() {
        // a holds v4 1 and v6 1; b (younger) shares v6 1 and gives way; c (youngest) shares b's
        // v4 2: it gives way too, because a claim may only stay when no older key clashes with it.
        let a = SubnetClaims.Claim(key: "a", createRevision: 1, subnets: [.init("10.244.1.0/24")!, .init("fd00::/64")!])
        let b = SubnetClaims.Claim(key: "b", createRevision: 2, subnets: [.init("10.244.2.0/24")!, .init("fd00::/64")!])
        let c = SubnetClaims.Claim(key: "c", createRevision: 3, subnets: [.init("10.244.2.0/24")!, .init("fd00:0:0:5::/64")!])
        let losses = SubnetClaims.losses([c, b, a])
        #expect(losses[0]?.holder == 1 && losses[0]?.subnet == IPPrefix("10.244.2.0/24"))
        #expect(losses[1]?.holder == 2 && losses[1]?.subnet == IPPrefix("fd00::/64"))
        #expect(losses[2] == nil)
        // Leases not read from a store are older than stored ones, then ordered by key.
        let loose = SubnetClaims.Claim(key: "z", createRevision: nil, subnets: [.init("10.244.2.0/24")!])
        #expect(SubnetClaims.losses([b, loose])[0]?.holder == 1)
        // Mixed lengths overlap too.
        let wide = SubnetClaims.Claim(key: "w", createRevision: 0, subnets: [.init("10.244.0.0/20")!])
        #expect(SubnetClaims.losses([a, wide])[0]?.holder == 1)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func theClaimCheckAndTheSnapshotGiveWayOnTheSameKeys(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        // 12 keys drawn from 6 IPv4 and 4 IPv6 subnets: clashes in either family, in any order.
        var seen = Set<String>()
        var entries: [StoreEntry] = []
        for revision in Int64(1)...12 {
            let e = entry(Int(rng.next() % 6) + 1, Int(rng.next() % 4) + 1, revision: revision)
            if seen.insert(e.key).inserted { entries.append(e) }
        }
        entries.shuffle(using: &rng)
        let decoder = LeaseDecoder(config: cfg, keys: LeaseKeys())
        let snapshot = decoder.snapshot(entries: entries, revision: 99)
        let skippedAsOverlap = Set(snapshot.skipped.filter { $0.category == .overlap }.map(\.key))
        let givingWay = Set(
            entries.filter { ClaimCheck.olderClash(claim: $0, entries: entries, prefix: prefix, isValid: { cfg.problem(withLeaseSubnet: $0) == nil }) != nil }
                .map(\.key))
        #expect(skippedAsOverlap == givingWay)
        // What stays holds every subnet once, in both families.
        let v4 = snapshot.leases.compactMap(\.subnet)
        let v6 = snapshot.leases.compactMap(\.ipv6Subnet)
        #expect(Set(v4).count == v4.count && Set(v6).count == v6.count)
        #expect(snapshot.leases.count + skippedAsOverlap.count == entries.count)
    }
}
