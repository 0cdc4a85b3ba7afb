// Data written behind hostgw's back with `etcdctl put`: skipped, counted, and never allowed to
// hide the valid leases next to it.
import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import SubnetLease
import Testing
import MetricsTestKit

@Suite struct HostileStoreDataTests {
    @Test func brokenEntriesAreSkippedAndCounted() async throws {
        let dir = try tempDirectory("hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(#"{"Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:0:0:100::/56"}"#)
        let metrics = TestMetrics()
        try await withStore(.etcd, metrics: metrics) { f in
            let cluster = try #require(f.cluster)
            var good: [Lease] = []
            for i in 1...3 {
                good.append(
                    try await LeaseManager(
                        store: f.store, config: cfg, identity: node(i, v6: true), options: LeaseOptions(stateDirectory: "\(dir)/n\(i)"),
                        logger: quietLogger
                    ).acquire())
            }
            let recorder = SnapshotRecorder(LeaseWatcher(store: f.store, config: cfg, logger: quietLogger, metricsFactory: metrics))
            defer { recorder.stop() }
            _ = try await recorder.wait { $0.leases.count == 3 }

            let p = "/coreos.com/network/subnets/"
            let value = #"{"PublicIP":"192.168.9.9","PublicIPv6":"fd99::9","BackendType":"host-gw"}"#
            let clash = try #require(good.first?.subnet)
            // The good leases are random: the broken keys name subnets none of them holds, so only
            // the deliberate clash overlaps one (fixed names collided now and then).
            let held = Set(good.flatMap { [$0.subnet, $0.ipv6Subnet].compactMap { $0 } })
            let isFree = { (text: String) in IPPrefix(text).map { c in !held.contains { $0.overlaps(c) } } ?? false }
            let v4 = (200...254).filter { isFree("10.244.\($0).0/24") }
            let v6 = (0xc8...0xff).map { "fd00:0:0:1\(String($0, radix: 16))::" }.filter { isFree("\($0)/64") }
            try #require(v4.count >= 2 && v6.count >= 4)
            let hostile: [(String, String)] = [
                (p + "10.244.\(v4[0]).0-24&\(v6[0])-64", "{not json"),
                (p + "garbage", value),
                (p + "10.99.0.0-24&\(v6[1])-64", value),
                (p + "10.244.\(v4[1]).0-25&\(v6[2])-64", value),
                (p + "\(clash.address)-24&\(v6[3])-64", value),
            ]
            for (k, v) in hostile { try await cluster.put(k, v) }

            let snapshot = try await recorder.wait { $0.skipped.count == 5 }
            #expect(Set(snapshot.leases.map(\.key)) == Set(good.map(\.key)))
            #expect(Set(snapshot.skipped.map(\.key)) == Set(hostile.map(\.0)))
            let byKey = Dictionary(uniqueKeysWithValues: snapshot.skipped.map { ($0.key, $0.category) })
            #expect(byKey[hostile[0].0] == .value)
            #expect(byKey[hostile[1].0] == .key)
            #expect(byKey[hostile[2].0] == .network)
            #expect(byKey[hostile[3].0] == .network)
            #expect(byKey[hostile[4].0] == .overlap)
            #expect(metrics.total("hostgw_store_invalid_entries_total") == 5)
            // The metric's reason label is the category's fixed word (an interface: never renamed).
            for (reason, count) in [("value", 1), ("key", 1), ("network", 2), ("overlap", 1)] {
                #expect(metrics.counter("hostgw_store_invalid_entries_total{reason=\(reason)}") == Double(count), "reason \(reason)")
            }

            // A later change elsewhere does not count the same bad entries again.
            _ = try await LeaseManager(
                store: f.store, config: cfg, identity: node(4, v6: true), options: LeaseOptions(stateDirectory: "\(dir)/n4"), logger: quietLogger
            ).acquire()
            let later = try await recorder.wait { $0.leases.count == 4 }
            #expect(later.skipped.count == 5)
            #expect(metrics.total("hostgw_store_invalid_entries_total") == 5)

            // The listing (hostgw leases) agrees, and a new node never claims a subnet a broken key names.
            let listed = try await f.store.listLeases(config: cfg)
            #expect(listed.leases.count == 4)
            #expect(listed.skipped.count == 5)
            #expect(listed.leases.allSatisfy { $0.subnet?.description != "10.244.\(v4[0]).0/24" })
        }
    }
}
