// The embedded store's watch polls when the file is written (inotify), not only on its timer: a
// commit through another connection (another agent) reaches a watcher whose timer would not fire
// for 60 s; with file-change wakes off, the same watcher sees nothing until then.
import Foundation
import HostGwTestSupport
@testable import SubnetLease
import Synchronization
import Testing

@Suite struct EmbeddedStoreWakeTests {
    /// Watches `prefix` on a store polling every 60 s; writes a key through a second store on
    /// the same file; returns whether the watcher saw it within `limit`.
    func seen(fileChangeWakes: Bool, within limit: Duration) async throws -> Bool {
        let dir = try tempDirectory("wakes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/store.sqlite"
        let watcher = try EmbeddedStore(
            path: path, logger: quietLogger, pollInterval: .seconds(60), fileChangeWakes: fileChangeWakes, quietPollInterval: .seconds(60))
        let writer = try EmbeddedStore(path: path, logger: quietLogger)
        let start = try await watcher.range(prefix: "/w/").revision
        let got = Mutex(false)
        let first = Mutex(false)
        let watching = Task {
            for try await batch in watcher.watch(prefix: "/w/", fromRevision: start + 1, anchor: nil) {
                first.withLock { $0 = true }
                if batch.events.contains(where: { if case .put(let e) = $0 { e.key == "/w/a" } else { false } }) {
                    got.withLock { $0 = true }
                    return
                }
            }
        }
        defer { watching.cancel() }
        // The first poll runs at once; write after it, so only a wake can bring the next.
        let ready = ContinuousClock.now + .seconds(10)
        while !first.withLock({ $0 }), ContinuousClock.now < ready { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        _ = try await writer.put(key: "/w/a", value: Data("1".utf8))
        let deadline = ContinuousClock.now + limit
        while !got.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return got.withLock { $0 }
    }

    @Test func aCommitByAnotherConnectionWakesTheWatch() async throws {
        #expect(try await seen(fileChangeWakes: true, within: .seconds(10)))
    }

    @Test func withoutWakesTheWatchWaitsForItsTimer() async throws {
        #expect(try await !seen(fileChangeWakes: false, within: .seconds(2)))
    }
}
