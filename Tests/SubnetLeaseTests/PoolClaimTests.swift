// Claiming with malformed keys present: a key of the wrong length marks what it overlaps as
// one interval (no walk over the pool per key), so claims stay correct and cheap in any pool.
import Foundation
import HostGwTestSupport
import NetAddress

import Testing
import MetricsTestKit

@testable import SubnetLease

@Suite struct PoolOccupancyTests {
    @Test func freeIndicesSkipMergedIntervals() {
        var p = PoolOccupancy(size: 10)
        p.mark(2...4)
        p.mark(3...5)
        p.mark(9)
        p.mark(20...30)  // outside: ignored
        #expect(p.freeCount == 5)
        #expect((0..<5).map { p.freeIndex($0) } == [0, 1, 6, 7, 8])
        #expect(p.freeIndex(5) == nil)
        #expect(p.contains(4) && !p.contains(6))
    }

    @Test func aFullPoolHasNoFreeIndex() {
        var p = PoolOccupancy(size: 1 << 16)
        p.mark(0...UInt64.max)
        var g = SystemRandomNumberGenerator()
        #expect(p.freeCount == 0)
        #expect(p.randomFree(using: &g) == nil)
    }

    @Test func aHugePoolIsHandledWithoutEnumerating() {
        var p = PoolOccupancy(size: .max)
        p.mark(0...(UInt64.max / 2))
        var g = SystemRandomNumberGenerator()
        for _ in 0..<100 { #expect(p.randomFree(using: &g).map { $0 > UInt64.max / 2 } == true) }
    }
}

@Suite struct PoolClaimTests {
    func key(_ suffix: String) -> String { LeaseKeys().subnets + suffix }

    @Test func aWideKeyCoveringTheWholePoolMeansPoolFull() async throws {
        let cfg = try config(#"{"Network": "10.244.0.0/16", "SubnetLen": 24}"#)
        try await withStore(.embedded) { f in
            _ = try await f.store.put(key: key("10.244.0.0-16"), value: Data("garbage".utf8))
            await #expect(throws: LeaseError.self) {
                try await LeaseManager(store: f.store, config: cfg, identity: node(1), options: LeaseOptions(stateDirectory: try tempDirectory("pf")), logger: quietLogger).acquire()
            }
        }
    }

    @Test func aWideIPv6KeyInAHugePoolIsNeverClaimedOver() async throws {
        // 2^24 subnets: too many to enumerate, so the old code sampled and marked only the first
        // subnet of the wide key; half of the pool lies under it.
        let cfg = try config(#"{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00:10::/40", "IPv6SubnetLen": 64}"#)
        let wide = try prefix("fd00:10::/41")
        try await withStore(.embedded) { f in
            _ = try await f.store.put(key: key("fd00:10::-41"), value: Data("{}".utf8))
            for i in 1...12 {
                let lease = try await LeaseManager(
                    store: f.store, config: cfg, identity: node(i, v6: true), options: LeaseOptions(stateDirectory: try tempDirectory("v6-\(i)")),
                    logger: quietLogger
                ).acquire()
                let subnet = try #require(lease.ipv6Subnet)
                #expect(!wide.contains(subnet), "claimed \(subnet) under the malformed key \(wide)")
            }
        }
    }

    @Test func manyWideKeysLeaveOnlyTheUncoveredSubnets() async throws {
        // A /8 of /24s (65,536 subnets) with 200 malformed /17 keys: every one overlaps 128
        // subnets; only 10.255.128.0/17 is left uncovered.
        let cfg = try config(#"{"Network": "10.0.0.0/8", "SubnetLen": 24}"#)
        try await withStore(.embedded) { f in
            for i in 0..<200 {
                let third = (i % 2) * 128
                _ = try await f.store.put(key: key("10.\(i / 2).\(third).0-17"), value: Data("x".utf8))
            }
            for b in 100..<255 {
                for third in [0, 128] { _ = try await f.store.put(key: key("10.\(b).\(third).0-17"), value: Data("x".utf8)) }
            }
            _ = try await f.store.put(key: key("10.255.0.0-17"), value: Data("x".utf8))
            let lease = try await LeaseManager(
                store: f.store, config: cfg, identity: node(1), options: LeaseOptions(stateDirectory: try tempDirectory("many")), logger: quietLogger
            ).acquire()
            #expect(try prefix("10.255.128.0/17").contains(try #require(lease.subnet)))
        }
    }
}

@Suite struct SkipReporterBoundTests {
    @Test func reportedSetHoldsOnlyTheEntriesBadNow() {
        let metrics = TestMetrics()
        let reporter = SkipReporter(logger: quietLogger, factory: metrics)
        var reported = Set<String>()
        // One bad key rewritten 1,000 times (a new revision each time): each revision reported
        // once, and the set never holds more than the one entry.
        for rev in 1...1000 {
            let entry = StoreEntry(key: "/coreos.com/network/subnets/bad", value: Data(), createRevision: 1, modRevision: Int64(rev), expiration: nil)
            let skipped = [SkippedEntry(key: entry.key, reason: "not a subnet key", category: .key)]
            reporter.report(skipped, entries: [entry.key: entry], alreadyReported: &reported)
            reporter.report(skipped, entries: [entry.key: entry], alreadyReported: &reported)
            #expect(reported.count == 1)
        }
        #expect(metrics.total("hostgw_store_invalid_entries_total") == 1000)
        reporter.report([], entries: [:], alreadyReported: &reported)
        #expect(reported.isEmpty)
    }
}

@Suite struct DisplaySafeTests {
    @Test func controlCharactersBecomeEscapes() {
        #expect(displaySafe("node-a") == "node-a")
        #expect(displaySafe("evil\nlevel=error msg=forged") == #"evil\nlevel=error msg=forged"#)
        #expect(displaySafe("\u{1b}[31mred\u{1b}[0m") == #"\u{1b}[31mred\u{1b}[0m"#)
        #expect(displaySafe("a\\nb") == #"a\\nb"#)
        #expect(displaySafe("tab\there\r\u{7f}\u{85}\u{2028}\u{202e}x") == #"tab\there\r\u{7f}\u{85}\u{2028}\u{202e}x"#)
        #expect(displaySafe("名前-ü") == "名前-ü")
    }

    @Test func longTextIsCutWithACount() {
        let long = String(repeating: "x", count: 10_240)
        let shown = displaySafe(long, limit: 256)
        #expect(shown == String(repeating: "x", count: 256) + "…(+9984 more)")
        #expect(displaySafe(long, limit: nil) == long)
    }
}
