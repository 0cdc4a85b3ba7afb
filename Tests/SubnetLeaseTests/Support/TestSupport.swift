import Foundation
import HostGwTestSupport
import Metrics
import MetricsTestKit
import NetAddress
import Netlink
import SubnetLease
import Synchronization

/// The two store implementations every conformance test runs against.
enum StoreKind: String, CaseIterable, Sendable {
    case embedded
    case etcd
}

/// A fake wall clock for the embedded store: tests move time instead of waiting.
final class FakeWallClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
    var source: @Sendable () -> Date { { [self] in now } }
}

func tempDirectory(_ purpose: String) throws -> String {
    let path = NSTemporaryDirectory() + "hgw-\(purpose)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// One store under test plus what it needs; `stores` are several handles on the same data
/// (several "processes" sharing one SQLite file, or several etcd clients).
struct StoreFixture: Sendable {
    let kind: StoreKind
    let stores: [any SubnetStore]
    let cluster: EtcdCluster?
    let clock: FakeWallClock?
    var store: any SubnetStore { stores[0] }
}

/// Runs `body` against a fresh store of `kind` and cleans everything up afterwards.
func withStore<T>(
    _ kind: StoreKind, handles: Int = 1, metrics: any MetricsFactory = TestMetrics(), fakeClock: Bool = false,
    _ body: (StoreFixture) async throws -> T
) async throws -> T {
    switch kind {
    case .embedded:
        let dir = try tempDirectory("sqlite")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = fakeClock ? FakeWallClock() : nil
        var stores: [any SubnetStore] = []
        let now: @Sendable () -> Date
        if let clock { now = clock.source } else { now = { Date() } }
        for _ in 0..<handles {
            stores.append(
                try EmbeddedStore(
                    path: dir + "/store.sqlite", logger: quietLogger, pollInterval: .milliseconds(50), metricsFactory: metrics, now: now))
        }
        return try await body(StoreFixture(kind: kind, stores: stores, cluster: nil, clock: clock))
    case .etcd:
        return try await withEtcd { cluster in
            var stores: [EtcdStore] = []
            for _ in 0..<handles {
                stores.append(try EtcdStore(options: EtcdOptions(endpoints: cluster.clientURLs), logger: quietLogger, metricsFactory: metrics))
            }
            do {
                let result = try await body(StoreFixture(kind: kind, stores: stores, cluster: cluster, clock: nil))
                for s in stores { try await s.shutdown() }
                return result
            } catch {
                for s in stores { try? await s.shutdown() }
                throw error
            }
        }
    }
}

func config(_ json: String) throws -> NetworkConfig { try NetworkConfig(json: Data(json.utf8)) }

let standardConfigJSON = #"{"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}"#

func node(_ i: Int, v6: Bool = false) -> NodeIdentity {
    NodeIdentity(
        nodeName: "node-\(i)", publicIP: IPv4Address(192, 168, UInt8(i / 250), UInt8(i % 250 + 1)),
        publicIPv6: v6 ? IPv6Address("fd99::\(String(i, radix: 16))") : nil, agentVersion: "test")
}

/// Consumes a watcher's snapshots in the background so tests can wait for one with a timeout.
final class SnapshotRecorder: Sendable {
    private let seen = Mutex<[LeaseSnapshot]>([])
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(_ watcher: LeaseWatcher) {
        // Tests count revisions: keep every snapshot however slow this consumer is.
        let stream = watcher.snapshots(keepingNewest: 1024)
        let t = Task { [self] in
            for await s in stream { self.append(s) }
        }
        task.withLock { $0 = t }
    }

    var snapshots: [LeaseSnapshot] { seen.withLock { $0 } }
    private func append(_ s: LeaseSnapshot) { seen.withLock { $0.append(s) } }

    /// The timeout only guards against a hang; a passing test returns as soon as a snapshot matches.
    func wait(timeout: Duration = .seconds(30), until predicate: (LeaseSnapshot) -> Bool) async throws -> LeaseSnapshot {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let s = snapshots.last, predicate(s) { return s }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError.timeout("no matching snapshot within \(timeout); last: \(String(describing: snapshots.last))")
    }

    func stop() { task.withLock { $0?.cancel() } }
}

/// Runs `body` with an `EtcdStore` and shuts the store down afterwards on every path.
func withEtcdStore<T>(_ options: EtcdOptions, _ body: (EtcdStore) async throws -> T) async throws -> T {
    let store = try EtcdStore(options: options, logger: quietLogger)
    do {
        let result = try await body(store)
        try await store.shutdown()
        return result
    } catch {
        try? await store.shutdown()
        throw error
    }
}

/// The first batch with events of a watch, or a harness timeout: a test waiting for an event never hangs.
func firstBatch(_ stream: AsyncThrowingStream<WatchBatch, any Error>, timeout: Duration = .seconds(10)) async throws -> WatchBatch {
    try await withThrowingTaskGroup(of: WatchBatch?.self) { group in
        group.addTask {
            // Batches without events (the watch's start, progress marks) carry no change.
            for try await batch in stream where !batch.events.isEmpty { return batch }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw HarnessError.timeout("no watch batch within \(timeout)")
        }
        defer { group.cancelAll() }
        guard let batch = try await group.next() ?? nil else { throw HarnessError.timeout("watch ended without a batch") }
        return batch
    }
}
