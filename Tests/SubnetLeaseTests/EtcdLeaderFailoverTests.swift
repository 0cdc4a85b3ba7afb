// A real 3-member etcd cluster loses its leader while leases renew and a watch runs: no lease
// may be lost, and the watch must resume with every change seen exactly once.
import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import SubnetLease
import Testing

@Suite struct EtcdLeaderFailoverTests {
    @Test func leaderKillLosesNoLeaseAndNoEvent() async throws {
        let dir = try tempDirectory("failover")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cfg = try config(standardConfigJSON)
        try await withEtcd(members: 3) { cluster in
            let leader = try await cluster.leaderIndex()
            // The leader first: every client talks to it, so killing it cuts their connections.
            let endpoints = [cluster.clientURLs[leader]] + cluster.clientURLs.enumerated().filter { $0.offset != leader }.map(\.element)
            let store = try EtcdStore(options: EtcdOptions(endpoints: endpoints, requestTimeout: .seconds(2), dialTimeout: .milliseconds(500)), logger: quietLogger)
            let watchStore = try EtcdStore(options: EtcdOptions(endpoints: endpoints, requestTimeout: .seconds(2), dialTimeout: .milliseconds(500)), logger: quietLogger)
            defer {
                Task { try? await store.shutdown(); try? await watchStore.shutdown() }
            }

            let options = { (i: Int) in
                LeaseOptions(ttl: .seconds(4), renewInterval: .milliseconds(300), stateDirectory: "\(dir)/n\(i)", retryInitial: .milliseconds(100), retryMax: .milliseconds(400))
            }
            let managers = (0..<3).map { LeaseManager(store: store, config: cfg, identity: node($0), options: options($0), logger: quietLogger) }
            var held: [Lease] = []
            for m in managers { held.append(try await m.acquire()) }
            let renewals = managers.map { m in Task { try await m.runRenewals() } }

            let recorder = SnapshotRecorder(LeaseWatcher(store: watchStore, config: cfg, logger: quietLogger, retryInitial: .milliseconds(100), retryMax: .milliseconds(500)))
            defer { recorder.stop() }
            _ = try await recorder.wait { $0.leases.count == 3 }
            let baseline = recorder.snapshots.count

            // Writes one at a time, each waited for, so every write revision maps to one snapshot.
            // The managers drew random subnets: the extra keys must avoid them, or `create`
            // rightly finds the key taken.
            let taken = Set(held.compactMap { $0.subnet?.description })
            let extra = (100..<200).map { "10.244.\($0).0" }.filter { !taken.contains("\($0)/24") }.prefix(6)
            var writeRevisions: [Int64] = []
            for (i, subnet) in extra.enumerated() {
                if i == 2 { cluster.kill(member: leader) }
                let key = "/coreos.com/network/subnets/\(subnet)-24"
                let value = try JSONEncoder().encode(LeaseAttributes(publicIP: IPv4Address(192, 168, 50, UInt8(i + 1)), nodeName: "extra-\(i)"))
                let created = try #require(try await store.create(key: key, value: value, ttl: nil))
                writeRevisions.append(created.modRevision)
                _ = try await recorder.wait(timeout: .seconds(20)) { $0.revision >= created.modRevision }
            }

            // Past a whole TTL after the kill: renewals must have gone through the new leader.
            try await Task.sleep(for: .seconds(5))
            for (m, lease) in zip(managers, held) {
                let status = await m.status
                #expect(status.lastError == nil, "\(status)")
                let key = "/coreos.com/network/subnets/\(lease.key)"
                let current = try #require(try await store.get(key: key), "lease \(key) lost")
                #expect(current.hasTTL)
            }
            for t in renewals { t.cancel() }
            for t in renewals {
                if case .failure(let e) = await t.result { #expect(e is CancellationError, "renewal ended with \(e)") }
            }

            // Each extra write is seen exactly once and in order. A renewal that finds its etcd
            // lease gone while the cluster elects a leader re-puts the node's own key: that is a
            // revision too, so other snapshots may come between the writes, but in them only the
            // three managers' keys may change.
            let after = Array(recorder.snapshots.dropFirst(baseline))
            let revisions = after.map(\.revision)
            #expect(zip(revisions, revisions.dropFirst()).allSatisfy { $0 < $1 }, "revisions strictly increase: \(revisions)")
            #expect(revisions.filter(Set(writeRevisions).contains) == writeRevisions, "each write seen once, in order, none missed: \(revisions) vs \(writeRevisions)")
            let managerKeys = Set(held.map(\.key))
            var previous = recorder.snapshots[baseline - 1]
            for s in after {
                let changed = Set(s.leases.map(\.key)).symmetricDifference(previous.leases.map(\.key))
                    .union(Set(s.leases).symmetricDifference(previous.leases).map(\.key))
                if !writeRevisions.contains(s.revision) {
                    #expect(changed.isSubset(of: managerKeys), "revision \(s.revision) is not an extra write but changed \(changed.subtracting(managerKeys))")
                }
                previous = s
            }
            let last = try #require(recorder.snapshots.last)
            #expect(last.leases.count == 9)
            #expect(last.skipped.isEmpty)
            try await store.shutdown()
            try await watchStore.shutdown()
        }
    }
}
