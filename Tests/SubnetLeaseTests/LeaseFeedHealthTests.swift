// The lease watcher says when it cannot keep up with the store: a watch that keeps failing while
// the store answers every other request leaves the agent deaf, and health must see it.
import Foundation
import HostGwTestSupport
import NetAddress
import SubnetLease
import Synchronization
import Testing

/// A real embedded store whose watches fail (or end at once) while `fault` is set; every other
/// request goes to the store, so its health probe stays green.
final class WatchFaultStore: SubnetStore {
    enum Fault: Sendable { case none, failing, endingAtOnce }
    let base: EmbeddedStore
    let fault = Mutex(Fault.none)
    init(_ base: EmbeddedStore) { self.base = base }

    var name: String { "watch-fault " + base.name }
    func range(prefix: String) async throws -> RangeResult { try await base.range(prefix: prefix) }
    func get(key: String) async throws -> StoreEntry? { try await base.get(key: key) }
    func put(key: String, value: Data) async throws -> StoreEntry { try await base.put(key: key, value: value) }
    func create(key: String, value: Data, ttl: Duration?) async throws -> StoreEntry? { try await base.create(key: key, value: value, ttl: ttl) }
    func compareAndSwap(_ entry: StoreEntry, value: Data) async throws -> StoreEntry? { try await base.compareAndSwap(entry, value: value) }
    func refresh(_ entry: StoreEntry, ttl: Duration) async throws -> StoreEntry? { try await base.refresh(entry, ttl: ttl) }
    func compareAndDelete(_ entry: StoreEntry) async throws -> Bool { try await base.compareAndDelete(entry) }
    func checkHealth() async throws { try await base.checkHealth() }
    var watchStatus: WatchStatus { base.watchStatus }
    func shutdown() async throws { try await base.shutdown() }
    func watch(prefix: String, fromRevision: Int64, anchor: WatchAnchor?) -> AsyncThrowingStream<WatchBatch, any Error> {
        switch fault.withLock({ $0 }) {
        case .none:
            return base.watch(prefix: prefix, fromRevision: fromRevision, anchor: anchor)
        case .failing:
            return AsyncThrowingStream { $0.finish(throwing: StoreError.server(endpoint: "test", operation: "watch", status: 0, message: "watch canceled: permission denied")) }
        case .endingAtOnce:
            return AsyncThrowingStream { $0.finish() }
        }
    }
}

@Suite struct LeaseFeedHealthTests {
    @Test(arguments: [WatchFaultStore.Fault.failing, .endingAtOnce])
    func aFailingWatchShowsInTheWatchersHealthAndClearsWhenItWorksAgain(_ kind: WatchFaultStore.Fault) async throws {
        let dir = try tempDirectory("feed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = try EmbeddedStore(path: dir + "/store.sqlite", logger: quietLogger, pollInterval: .milliseconds(50))
        let store = WatchFaultStore(base)
        let cfg = try config(standardConfigJSON)
        store.fault.withLock { $0 = kind }
        let watcher = LeaseWatcher(store: store, config: cfg, logger: quietLogger, retryInitial: .milliseconds(20), retryMax: .milliseconds(50))
        let recorder = SnapshotRecorder(watcher)
        defer { recorder.stop() }
        // The listing works (the store answers), the watch does not.
        _ = try await recorder.wait { _ in true }
        try await eventually { watcher.health.consecutiveFailures >= 3 }
        let failing = watcher.health
        #expect(failing.failingSince != nil)
        #expect(failing.lastError != nil)
        try await store.checkHealth()
        // A lease written now is not seen while the watch fails.
        let value = try JSONEncoder().encode(LeaseAttributes(publicIP: IPv4Address(192, 168, 1, 9), nodeName: "late"))
        _ = try #require(try await store.create(key: "/coreos.com/network/subnets/10.244.9.0-24", value: value, ttl: nil))
        try await Task.sleep(for: .milliseconds(300))
        #expect(recorder.snapshots.last?.leases.isEmpty == true)
        // Fixed: the watch resumes, the lease arrives and the health clears.
        store.fault.withLock { $0 = .none }
        _ = try await recorder.wait { $0.leases.count == 1 }
        try await eventually { watcher.health == LeaseFeedHealth() }
    }
}

/// Polls `condition` until it holds; the timeout only guards against a hang.
private func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw HarnessError.timeout("condition not met within \(timeout)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}
