// What the routing path costs etcd (issue 15): listing and watching N leases, each held by its
// own etcd lease as real nodes hold them, issues no per-lease TTL lookup. Counted by etcd itself
// (`grpc_server_started_total` on its /metrics), so the count includes every request the
// gateway turned into a gRPC call.
import Foundation
import HostGwTestSupport
import SubnetLease
import Testing

@Suite struct EtcdRequestCountTests {
    static let leases = 200

    @Test func watchingManyTTLLeasesLooksUpNoExpiry() async throws {
        let cfg = try config(#"{"Network": "10.244.0.0/16"}"#)
        try await withStore(.etcd, handles: 2) { f in
            let cluster = try #require(f.cluster)
            let value = Data(#"{"PublicIP":"192.168.1.1","BackendType":"host-gw"}"#.utf8)
            for i in 1...Self.leases {
                let key = "/coreos.com/network/subnets/10.244.\(i).0-24"
                _ = try #require(try await f.store.create(key: key, value: value, ttl: .seconds(600)))
            }
            let before = try await Self.requests(cluster)

            let recorder = SnapshotRecorder(LeaseWatcher(store: f.stores[1], config: cfg, logger: quietLogger))
            defer { recorder.stop() }
            _ = try await recorder.wait { $0.leases.count == Self.leases }
            // One more lease through the watch, so the event path is counted too.
            _ = try await f.store.create(key: "/coreos.com/network/subnets/10.244.250.0-24", value: value, ttl: .seconds(600))
            let last = try await recorder.wait { $0.leases.count == Self.leases + 1 }
            let after = try await Self.requests(cluster)

            #expect(after["LeaseTimeToLive", default: 0] - before["LeaseTimeToLive", default: 0] == 0, "per-lease TTL lookups on the routing path")
            // The writer's own create (grant + txn) and the watcher's range and watch: a handful,
            // whatever the number of leases.
            let total = after.values.reduce(0, +) - before.values.reduce(0, +)
            #expect(total <= 10, "requests for list + watch + one event at \(Self.leases) leases: \(total) (\(after))")
            // Without a lookup, a TTL lease still reads as one (not a reservation).
            #expect(last.leases.allSatisfy { !$0.isReservation })

            // `hostgw leases` does ask for every expiry: the counter above would see it.
            let listed = try await f.stores[1].listLeases(config: cfg, expiries: .all)
            let looked = try await Self.requests(cluster)
            #expect(looked["LeaseTimeToLive", default: 0] - after["LeaseTimeToLive", default: 0] == Self.leases + 1)
            #expect(listed.leases.allSatisfy { ($0.expiration ?? .distantPast) < Date().addingTimeInterval(601) })
        }
    }

    /// `grpc_server_started_total` by method, summed over services and types.
    static func requests(_ cluster: EtcdCluster) async throws -> [String: Int] {
        let fetched = try await ProcessRunner.runSuspending(["curl", "-fsS", cluster.clientURLs[0] + "/metrics"])
        try #require(fetched.status == 0, "etcd /metrics: \(fetched)")
        let body = fetched.stdout
        var counts: [String: Int] = [:]
        for line in body.split(separator: "\n") where line.hasPrefix("grpc_server_started_total{") {
            guard let m = line.range(of: #"grpc_method=""#), let end = line[m.upperBound...].firstIndex(of: "\""),
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            counts[String(line[m.upperBound..<end]), default: 0] += Int(value)
        }
        return counts
    }
}
