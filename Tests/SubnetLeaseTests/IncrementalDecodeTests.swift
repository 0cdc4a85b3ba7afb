// A watch event re-decodes only the keys it names (issue 15), and the snapshot is the same as a
// full decode: leases, skipped entries and the overlap rule alike.
import Foundation
import HostGwTestSupport
import NetAddress
import Testing

@testable import SubnetLease

@Suite struct IncrementalDecodeTests {
    static let cfg = try! NetworkConfig(json: Data(#"{"Network": "10.0.0.0/8", "SubnetLen": 24}"#.utf8))
    static let prefix = "/coreos.com/network/subnets/"

    static func entry(_ i: Int, ip: String = "192.168.0.1", rev: Int64, created: Int64? = nil, raw: String? = nil) -> StoreEntry {
        let key = prefix + "10.\(i / 256).\(i % 256).0-24"
        let value = raw ?? #"{"PublicIP":"\#(ip)","BackendType":"host-gw"}"#
        return StoreEntry(key: key, value: Data(value.utf8), createRevision: created ?? rev, modRevision: rev, ttlHandle: rev, expiration: nil)
    }

    @Test func oneChangedLeaseOfFiveThousandDecodesOneValue() {
        let decoder = LeaseDecoder(config: Self.cfg, keys: LeaseKeys())
        var entries = (1...5000).map { Self.entry($0, rev: Int64($0)) }
        var cache = LeaseDecodeCache()
        let first = decoder.snapshot(entries: entries, revision: 5000, cache: &cache)
        #expect(first.leases.count == 5000)
        #expect(cache.decodes == 5000)

        // One peer changes its IP; one leaves; one joins.
        entries[41] = Self.entry(42, ip: "192.168.0.99", rev: 5001, created: 42)
        entries.remove(at: 7)
        entries.append(Self.entry(6000, rev: 5003))
        let before = cache.decodes
        let next = decoder.snapshot(entries: entries, revision: 5003, cache: &cache)
        #expect(cache.decodes - before == 2, "decoded \(cache.decodes - before) values for 2 changed keys")
        #expect(cache.items.count == entries.count)
        #expect(next == decoder.snapshot(entries: entries, revision: 5003))
        #expect(next.leases.contains { $0.attributes.publicIP?.description == "192.168.0.99" })
    }

    @Test func cachedSnapshotsEqualFullDecodesWithBadEntries() {
        let decoder = LeaseDecoder(config: Self.cfg, keys: LeaseKeys())
        var entries = (1...50).map { Self.entry($0, rev: Int64($0)) }
        entries.append(Self.entry(51, rev: 51, raw: "{not json"))
        entries.append(StoreEntry(key: Self.prefix + "10.0.1.0-23", value: Data(#"{"PublicIP":"192.168.0.7"}"#.utf8), createRevision: 52, modRevision: 52, expiration: nil))
        entries.append(StoreEntry(key: Self.prefix + "garbage", value: Data(), createRevision: 53, modRevision: 53, expiration: nil))
        var cache = LeaseDecodeCache()
        #expect(decoder.snapshot(entries: entries, revision: 53, cache: &cache) == decoder.snapshot(entries: entries, revision: 53))
        // The broken value is repaired and the garbage key goes: same as full decodes.
        entries[50] = Self.entry(51, rev: 54, created: 51)
        entries.removeAll { $0.key.hasSuffix("garbage") }
        let cached = decoder.snapshot(entries: entries, revision: 54, cache: &cache)
        #expect(cached == decoder.snapshot(entries: entries, revision: 54))
        #expect(cached.skipped.map(\.key) == [Self.prefix + "10.0.1.0-23"])
        #expect(!cached.leases.isEmpty && cached.leases.count == 51)
    }

    /// A decoder for a dual-stack network (10.244.0.0/16 by /24, fd00:244::/60 by /64).
    static func dualStackDecoder() throws -> LeaseDecoder {
        let cfg = try NetworkConfig(
            json: Data(#"{"Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:244::/60", "IPv6SubnetLen": 64}"#.utf8))
        return LeaseDecoder(config: cfg, keys: LeaseKeys())
    }

    /// The watcher's snapshot, kept current one key at a time, equals a full decode after every
    /// put and delete: clashing keys in either family (the older holds, in any order of events),
    /// a key written in a non-canonical form, bad values and keys of another shape.
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func aSnapshotKeptCurrentPerKeyEqualsAFullDecode(seed: UInt64) throws {
        let decoder = try Self.dualStackDecoder()
        var rng = SplitMix(seed: seed)
        var builder = LeaseSnapshotBuilder(decoder: decoder)
        var entries: [String: StoreEntry] = [:]
        var revision: Int64 = 0
        func key(_ v4: Int, _ v6: Int) -> String {
            switch (v4 + v6) % 9 {
            case 0: Self.prefix + "10.244.\(v4).0-24&fd00:244:0:\(v6):0::-64"  // non-canonical IPv6 text
            case 1: Self.prefix + "10.244.\(v4).0-23"  // the wrong shape for this config
            default: Self.prefix + "10.244.\(v4).0-24&fd00:244:0:\(v6)::-64"
            }
        }
        for step in 0..<300 {
            revision += 1
            let k = key(Int(rng.next() % 6) + 1, Int(rng.next() % 4) + 1)
            if rng.next() % 4 == 0 {
                entries[k] = nil
                builder.apply(key: k, entry: nil)
            } else {
                let raw = rng.next() % 10 == 0 ? "{broken" : #"{"PublicIP":"10.0.0.\#(step % 250 + 1)","PublicIPv6":"fd77::1","BackendType":"host-gw"}"#
                let created = entries[k]?.createRevision ?? revision
                let e = StoreEntry(key: k, value: Data(raw.utf8), createRevision: created, modRevision: revision, expiration: nil)
                entries[k] = e
                builder.apply(key: k, entry: e)
            }
            if step == 150 { builder.reset(entries) }
            let full = decoder.snapshot(entries: Array(entries.values), revision: revision)
            #expect(builder.snapshot(revision: revision) == full, "step \(step)")
            #expect(builder.cache.items.count == entries.count)
        }
    }

    /// A snapshot taken from the builder names exactly how its leases differ from the one taken
    /// before it: applied to that one's leases, its changes give its own, over puts, deletes,
    /// overlaps won and lost and snapshots taken only every few steps. After a reset it names
    /// none (the consumer compares then).
    @Test(arguments: [7, 8, 9, 10])
    func aTakenSnapshotNamesItsChangesSinceTheLastOne(seed: UInt64) throws {
        let decoder = try Self.dualStackDecoder()
        var rng = SplitMix(seed: seed)
        var builder = LeaseSnapshotBuilder(decoder: decoder)
        var entries: [String: StoreEntry] = [:]
        var last: LeaseSnapshot?
        var sequence: UInt64 = 0
        var named = 0
        var changedSteps = 0
        for step in 1...400 {
            let revision = Int64(step)
            // Keys that share a subnet of one family (the older claim holds) and of another shape.
            let v4 = rng.next() % 12 + 1
            let v6 = rng.next() % 10 == 0 ? rng.next() % 12 + 1 : v4
            let k = Self.prefix + (rng.next() % 9 == 0 ? "10.244.\(v4).0-23" : "10.244.\(v4).0-24&fd00:244:0:\(String(v6, radix: 16))::-64")
            if rng.next() % 4 == 0 {
                entries[k] = nil
                builder.apply(key: k, entry: nil)
            } else {
                let raw = rng.next() % 10 == 0 ? "{broken" : #"{"PublicIP":"10.0.0.\#(step % 250 + 1)","PublicIPv6":"fd77::1","BackendType":"host-gw"}"#
                let e = StoreEntry(
                    key: k, value: Data(raw.utf8), createRevision: entries[k]?.createRevision ?? revision, modRevision: revision, expiration: nil)
                entries[k] = e
                builder.apply(key: k, entry: e)
            }
            if step == 200 { builder.reset(entries) }
            guard rng.next() % 3 != 0 else { continue }
            sequence += 1
            let snapshot = builder.take(revision: revision, stamp: .init(feed: 1, sequence: sequence))
            #expect(snapshot == decoder.snapshot(entries: Array(entries.values), revision: revision), "step \(step)")
            if let last, let changes = snapshot.changes(after: last.stamp) {
                named += 1
                var byKey = Dictionary(uniqueKeysWithValues: last.leases.map { ($0.key, $0) })
                for change in changes {
                    #expect(change.before != change.after, "step \(step): an unchanged lease named")
                    if let before = change.before { #expect(byKey.removeValue(forKey: before.key) == before, "step \(step)") }
                }
                for change in changes { if let after = change.after { byKey[after.key] = after } }
                #expect(byKey.values.sorted(by: LeaseSnapshot.isOrdered) == snapshot.leases, "step \(step)")
                if snapshot.leases != last.leases { changedSteps += 1 }
            } else {
                #expect(last == nil || step >= 200, "step \(step): no changes named outside the first snapshot and the reset")
            }
            last = snapshot
        }
        #expect(named > 200)
        #expect(changedSteps > 30)
        #expect((last?.leases.count ?? 0) > 3)
    }
}
