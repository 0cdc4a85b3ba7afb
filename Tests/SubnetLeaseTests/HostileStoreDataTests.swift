// Data written behind hostgw's back with `etcdctl put`: skipped, counted, and never allowed to
// hide the valid leases next to it.
import Foundation
import Netlink
import SubnetLease
import Testing

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
            let hostile: [(String, String)] = [
                (p + "10.244.200.0-24&fd00:0:0:1c8::-64", "{not json"),
                (p + "garbage", value),
                (p + "10.99.0.0-24&fd00:0:0:1c9::-64", value),
                (p + "10.244.201.0-25&fd00:0:0:1ca::-64", value),
                (p + "\(clash.address)-24&fd00:0:0:1cb::-64", value),
            ]
            for (k, v) in hostile { try await cluster.put(k, v) }

            let snapshot = try await recorder.wait { $0.skipped.count == 5 }
            #expect(Set(snapshot.leases.map(\.key)) == Set(good.map(\.key)))
            #expect(Set(snapshot.skipped.map(\.key)) == Set(hostile.map(\.0)))
            let byKey = Dictionary(uniqueKeysWithValues: snapshot.skipped.map { ($0.key, $0.category) })
            #expect(byKey[hostile[0].0] == "value")
            #expect(byKey[hostile[1].0] == "key")
            #expect(byKey[hostile[2].0] == "network")
            #expect(byKey[hostile[3].0] == "network")
            #expect(byKey[hostile[4].0] == "overlap")
            #expect(metrics.total("hostgw_store_invalid_entries_total") == 5)

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
            #expect(listed.leases.allSatisfy { $0.subnet?.description != "10.244.200.0/24" })
        }
    }
}
