// What an operator sees when etcd is down, the password is wrong, or history was compacted.
import HostGwTestSupport
import NetAddress
import Foundation
@testable import SubnetLease
import Testing
import MetricsTestKit

@Suite struct EtcdStoreErrorTests {
    @Test func deadEndpointsAreUnreachableNamingThem() async throws {
        let ports = try EtcdCluster.freePorts(2)
        let endpoints = ports.map { "http://127.0.0.1:\($0)" }
        let metrics = TestMetrics()
        let store = try EtcdStore(options: EtcdOptions(endpoints: endpoints, dialTimeout: .milliseconds(300)), logger: quietLogger, metricsFactory: metrics)
        do {
            _ = try await store.range(prefix: "/x/")
            Issue.record("a dead endpoint answered")
        } catch let error as StoreError {
            guard case .unreachable(let named, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(named == endpoints)
            #expect(error.description.contains("check that etcd is running"))
        }
        #expect(metrics.counter("hostgw_store_request_errors_total{operation=range,store=etcd}") == 1)
        #expect(metrics.gauge("hostgw_store_reachable{store=etcd}") == 0)
        try await store.shutdown()
    }

    @Test func failsOverToTheNextEndpoint() async throws {
        try await withEtcd { cluster in
            let dead = "http://127.0.0.1:\(try EtcdCluster.freePorts(1)[0])"
            let store = try EtcdStore(options: EtcdOptions(endpoints: [dead] + cluster.clientURLs, dialTimeout: .milliseconds(300)), logger: quietLogger)
            _ = try await store.put(key: "/x/a", value: Data("1".utf8))
            #expect(try await store.get(key: "/x/a")?.value == Data("1".utf8))
            try await store.shutdown()
        }
    }

    @Test func passwordAuthAndWrongPassword() async throws {
        try await withEtcd { cluster in
            let e = cluster.clientURLs[0]
            #expect(try await cluster.etcdctl(["--endpoints", e, "user", "add", "root:s3cret"]).status == 0)
            #expect(try await cluster.etcdctl(["--endpoints", e, "auth", "enable"]).status == 0)

            let good = try EtcdStore(options: EtcdOptions(endpoints: [e], username: "root", password: "s3cret"), logger: quietLogger)
            _ = try await good.put(key: "/x/auth", value: Data("ok".utf8))
            #expect(try await good.get(key: "/x/auth")?.value == Data("ok".utf8))
            try await good.shutdown()

            let bad = try EtcdStore(options: EtcdOptions(endpoints: [e], username: "root", password: "wrong"), logger: quietLogger)
            do {
                _ = try await bad.get(key: "/x/auth")
                Issue.record("wrong password accepted")
            } catch let error as StoreError {
                guard case .auth(let endpoint, _) = error else { Issue.record("wrong error \(error)"); return }
                #expect(endpoint == e)
            }
            try await bad.shutdown()

            let anonymous = try EtcdStore(options: EtcdOptions(endpoints: [e]), logger: quietLogger)
            await #expect(throws: StoreError.self) { try await anonymous.get(key: "/x/auth") }
            try await anonymous.shutdown()
        }
    }

    @Test func missingTLSFilesAreNamed() {
        let error = #expect(throws: StoreError.self) {
            try EtcdStore(options: EtcdOptions(endpoints: ["https://127.0.0.1:1"], caFile: "/nonexistent/ca.pem"), logger: quietLogger)
        }
        guard case .tlsConfig(let file, _)? = error else { Issue.record("wrong error \(String(describing: error))"); return }
        #expect(file == "/nonexistent/ca.pem")
    }

    @Test func watchFromACompactedRevisionSaysSo() async throws {
        try await withEtcd { cluster in
            let store = try EtcdStore(options: EtcdOptions(endpoints: cluster.clientURLs), logger: quietLogger)
            var last: Int64 = 0
            for i in 0..<5 { last = try await store.put(key: "/x/c\(i)", value: Data("\(i)".utf8)).modRevision }
            #expect(try await cluster.etcdctl(["--endpoints", cluster.clientURLs[0], "compact", "\(last)"]).status == 0)
            do {
                for try await batch in store.watch(prefix: "/x/", fromRevision: 2) where !batch.events.isEmpty { break }
                Issue.record("watch from a compacted revision did not fail")
            } catch let error as StoreError {
                guard case .compacted(let requested, let compact) = error else { Issue.record("wrong error \(error)"); return }
                #expect(requested == 2)
                #expect(compact == last)
            }
            try await store.shutdown()
        }
    }
}

/// How etcd's watch proves that the cluster's history is the one the watcher followed: the
/// anchor's key is read as of its revision on a real etcd.
@Suite struct EtcdHistoryAnchorTests {
    @Test func aWriteTheClusterHoldsPassesAnotherIsAHistoryChange() async throws {
        try await withEtcd { cluster in
            try await withEtcdStore(EtcdOptions(endpoints: cluster.clientURLs)) { store in
                let first = try await store.put(key: "/h/a", value: Data("1".utf8))
                _ = try await store.put(key: "/h/a", value: Data("2".utf8))
                // The first write, as it was: the key's later write does not matter.
                try await store.verify(WatchAnchor(first))
                // A write the cluster never made at that revision (what a restored snapshot that
                // new writes carried past the revision looks like to the watcher).
                var other = first
                other.value = Data("9".utf8)
                await #expect(throws: StoreError.self) { try await store.verify(WatchAnchor(other)) }
                var gone = first
                gone.key = "/h/b"
                do {
                    try await store.verify(WatchAnchor(gone))
                    Issue.record("a key that did not exist at the revision passed")
                } catch let error as StoreError {
                    #expect(error.isHistoryChange)
                    #expect(error.description.contains("/h/b"))
                }
                // A write above the store's own revision: the store went back (a restore), and
                // the watch must not start at a revision it may reach again with other writes.
                var future = first
                future.modRevision = 1_000_000
                do {
                    try await store.verify(WatchAnchor(future))
                    Issue.record("an anchor above the store's revision passed")
                } catch let error as StoreError {
                    #expect(error.isHistoryChange)
                }
                // And the watch itself refuses to start on a changed history.
                let watch = store.watch(prefix: "/h/", fromRevision: first.modRevision + 1, anchor: WatchAnchor(other))
                do {
                    for try await _ in watch { break }
                    Issue.record("the watch started on a changed history")
                } catch let error as StoreError {
                    #expect(error.isHistoryChange)
                }
            }
        }
    }
}
