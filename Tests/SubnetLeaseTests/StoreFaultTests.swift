// Store faults (issue 11): each decision on its own, then against real stores — a hung etcd
// member under the watch, a store whose revision goes backwards, dual-stack claims racing, a
// wall-clock step under the embedded store's expiry, and an oversized watch message.
import Foundation
import HostGwTestSupport
import NetAddress
import Synchronization
import Testing
import MetricsTestKit

@testable import SubnetLease

@Suite struct StoreFaultDecisionTests {
    // MARK: watch continuity (item 4)

    @Test func aRevisionBelowTheLastSeenOrANewClusterRelists() {
        let seen: Int64 = 100
        #expect(StoreContinuity.judge(WatchBatch(revision: 100, events: []), seen: seen, cluster: 7) == .continuous)
        #expect(StoreContinuity.judge(WatchBatch(revision: 120, events: [], clusterID: 7), seen: seen, cluster: 7) == .continuous)
        #expect(StoreContinuity.judge(WatchBatch(revision: 40, events: []), seen: seen, cluster: 7) == .revisionWentBack(from: 100, to: 40))
        #expect(StoreContinuity.judge(WatchBatch(revision: 150, events: [], clusterID: 9), seen: seen, cluster: 7) == .clusterChanged(from: 7, to: 9))
        // A store that tells no cluster id is judged on revisions alone.
        #expect(StoreContinuity.judge(WatchBatch(revision: 150, events: [], clusterID: 9), seen: seen, cluster: nil) == .continuous)
    }

    // MARK: the idle check (item 1)

    @Test func anIdleCheckReconnectsOnSilenceNoLeaderOrAMissedWrite() {
        #expect(WatchIdleVerdict.judge(member: .answered(hasLeader: true), newest: 10, delivered: 10) == .keep)
        #expect(WatchIdleVerdict.judge(member: .answered(hasLeader: true), newest: nil, delivered: 10) == .keep)
        guard case .reconnect = WatchIdleVerdict.judge(member: .failed("timeout"), newest: nil, delivered: 10) else {
            Issue.record("a member that does not answer must lose the watch")
            return
        }
        guard case .reconnect = WatchIdleVerdict.judge(member: .answered(hasLeader: false), newest: 10, delivered: 10) else {
            Issue.record("a member without a leader must lose the watch")
            return
        }
        guard case .reconnect(let why) = WatchIdleVerdict.judge(member: .answered(hasLeader: true), newest: 12, delivered: 10) else {
            Issue.record("a write the watch did not deliver must move the watch")
            return
        }
        #expect(why.contains("12"))
    }

    // MARK: the watch line bound (issue 12)

    @Test func theLineFramerSplitsAndRefusesOversizedLines() throws {
        var framer = LineFramer(limit: 8)
        #expect(try framer.append(Array("ab\ncd".utf8)) == [Data("ab".utf8)])
        #expect(try framer.append(Array("e\n\n".utf8)) == [Data("cde".utf8), Data()])
        #expect(framer.rest.isEmpty)
        // An unfinished line past the limit fails at once, before its end arrives.
        var unfinished = LineFramer(limit: 8)
        #expect(throws: LineTooLong.self) { _ = try unfinished.append(Array("123456789".utf8)) }
        // A complete line past the limit fails too, even when it arrives in one chunk.
        var complete = LineFramer(limit: 8)
        #expect(throws: LineTooLong.self) { _ = try complete.append(Array("1234567890\nok\n".utf8)) }
        var exact = LineFramer(limit: 8)
        #expect(try exact.append(Array("12345678\n".utf8)) == [Data("12345678".utf8)])
    }

    // MARK: error classification (issue 14)

    @Test func etcdErrorsAreClassifiedOnTheirGRPCCode() {
        typealias F = EtcdFailure
        #expect(F.classify(code: 14, message: "etcdserver: no leader", httpStatus: 503) == .transient)
        #expect(F.classify(code: 14, message: "etcdserver: request timed out", httpStatus: 503) == .transient)
        #expect(F.classify(code: 8, message: "etcdserver: too many requests", httpStatus: 429) == .transient)
        #expect(F.classify(code: 8, message: "mvcc: database space exceeded", httpStatus: 429) == .permanent)
        #expect(F.classify(code: 16, message: "etcdserver: invalid auth token", httpStatus: 401) == .reauthenticate)
        #expect(F.classify(code: 3, message: "etcdserver: user name is empty", httpStatus: 400) == .reauthenticate)
        #expect(F.classify(code: 3, message: "etcdserver: authentication failed, invalid user ID or password", httpStatus: 400) == .authRefused)
        #expect(F.classify(code: 7, message: "etcdserver: permission denied", httpStatus: 403) == .authRefused)
        #expect(F.classify(code: 3, message: "etcdserver: key is not provided", httpStatus: 400) == .permanent)
        // The text alone decides nothing: an answer that only mentions a leader is not transient.
        #expect(F.classify(code: 9, message: "no leader mentioned in a precondition", httpStatus: 400) == .permanent)
        // Not etcd's body (a proxy): the HTTP status decides.
        #expect(F.classify(code: nil, message: "bad gateway", httpStatus: 502) == .transient)
        #expect(F.classify(code: nil, message: "not found", httpStatus: 404) == .permanent)
    }

    // MARK: dual-stack claims (item 6)

    @Test func theYoungerOfTwoClashingClaimsGivesWay() {
        let prefix = "/coreos.com/network/subnets/"
        func entry(_ key: String, _ rev: Int64) -> StoreEntry {
            StoreEntry(key: prefix + key, value: Data(), createRevision: rev, modRevision: rev, expiration: nil)
        }
        let older = entry("10.244.1.0-24&fd00::-64", 5)
        let younger = entry("10.244.2.0-24&fd00::-64", 9)
        let apart = entry("10.244.3.0-24&fd00:0:0:1::-64", 7)
        let all = [older, younger, apart, entry("garbage", 1)]
        #expect(ClaimCheck.olderClash(claim: younger, entries: all, prefix: prefix)?.key == older.key)
        #expect(ClaimCheck.olderClash(claim: older, entries: all, prefix: prefix) == nil)
        #expect(ClaimCheck.olderClash(claim: apart, entries: all, prefix: prefix) == nil)
        // IPv4 clashes count the same way.
        let v4 = entry("10.244.1.0-24&fd00:0:0:9::-64", 12)
        #expect(ClaimCheck.olderClash(claim: v4, entries: all + [v4], prefix: prefix)?.key == older.key)
    }

    // MARK: clock steps (item 8)

    @Test func aWallClockJumpAgainstTheBootClockIsAStep() {
        #expect(ClockReading.judge(recorded: nil, bootID: "a", offset: 10) == .newBoot)
        #expect(ClockReading.judge(recorded: ("b", 10), bootID: "a", offset: 5000) == .newBoot)
        #expect(ClockReading.judge(recorded: ("a", 10), bootID: "a", offset: 10.2) == .steady)
        #expect(ClockReading.judge(recorded: ("a", 10), bootID: "a", offset: 3610) == .stepped(seconds: 3600))
        #expect(ClockReading.judge(recorded: ("a", 10), bootID: "a", offset: -590) == .stepped(seconds: -600))
    }
}

/// A wall clock and a boot clock that tests move separately.
final class SteppingClock: Sendable {
    private let state = Mutex((wall: 1_700_000_000.0, boot: 1_000.0))
    func elapse(_ seconds: Double) { state.withLock { $0.wall += seconds; $0.boot += seconds } }
    func step(_ seconds: Double) { state.withLock { $0.wall += seconds } }
    var storeClock: StoreClock {
        StoreClock(
            wall: { Date(timeIntervalSince1970: self.state.withLock { $0.wall }) }, sinceBoot: { self.state.withLock { $0.boot } },
            bootID: { "test-boot" })
    }
}

@Suite struct EmbeddedStoreFaultTests {
    @Test func aForwardClockStepLongerThanTheTTLExpiresNothing() async throws {
        let dir = try tempDirectory("clockstep")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let time = SteppingClock()
        let store = try EmbeddedStore(path: dir + "/store.sqlite", logger: quietLogger, pollInterval: .milliseconds(20), clock: time.storeClock)
        let entry = try #require(try await store.create(key: "/p/a", value: Data("a".utf8), ttl: .seconds(60)))
        time.elapse(30)
        time.step(3600)  // an hour forward, far more than the TTL
        #expect(try await store.range(prefix: "/p/").entries.map(\.key) == ["/p/a"], "a read right after the step")
        // A watch poll purges expired keys: it must find none.
        let listed = try await store.range(prefix: "/p/")
        let watch = store.watch(prefix: "/p/", fromRevision: listed.revision + 1)
        var polls = 0
        for try await batch in watch {
            #expect(batch.events.isEmpty, "the step deleted a live key: \(batch.events)")
            polls += 1
            if polls == 3 { break }
        }
        let renewed = try #require(try await store.refresh(entry, ttl: .seconds(60)), "the lease is still there to renew")
        let expiry = try #require(renewed.expiration)
        // The expiry moved with the step: a full TTL from the new wall clock.
        #expect(abs(expiry.timeIntervalSince1970 - (1_700_000_000 + 30 + 3600 + 60)) < 1)
        // Real time still expires an unrenewed key.
        time.elapse(61)
        #expect(try await store.range(prefix: "/p/").entries.isEmpty)
    }

    @Test func aBackwardClockStepDoesNotProlongALease() async throws {
        let dir = try tempDirectory("clockback")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let time = SteppingClock()
        let store = try EmbeddedStore(path: dir + "/store.sqlite", logger: quietLogger, clock: time.storeClock)
        _ = try #require(try await store.create(key: "/p/a", value: Data("a".utf8), ttl: .seconds(60)))
        time.step(-3600)
        time.elapse(61)
        #expect(try await store.range(prefix: "/p/").entries.isEmpty)
    }

    /// An older copy of the file restored under running watchers (SQLite's own restore, as an
    /// operator restoring a backup would): the watcher lists again and sees a new lease.
    @Test func aRestoredOlderFileIsListedAgain() async throws {
        let dir = try tempDirectory("restore")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/store.sqlite"
        let store = try EmbeddedStore(path: path, logger: quietLogger, pollInterval: .milliseconds(30))
        let cfg = try config(standardConfigJSON)
        let keys = LeaseKeys()
        func lease(_ i: Int) async throws { try await acquireLease(i, store: store, config: cfg, dir: dir) }
        try await lease(1)
        #expect(try await ProcessRunner.runSuspending(["sqlite3", path, ".backup \(dir)/old.sqlite"]).status == 0)
        for i in 2...6 { try await lease(i) }
        let watcher = LeaseWatcher(store: store, config: cfg, keys: keys, logger: quietLogger, retryInitial: .milliseconds(20))
        let recorder = SnapshotRecorder(watcher)
        defer { recorder.stop() }
        _ = try await recorder.wait(timeout: .seconds(15)) { $0.leases.count == 6 }
        #expect(try await ProcessRunner.runSuspending(["sqlite3", path, ".restore \(dir)/old.sqlite"]).status == 0)
        try await lease(7)  // written at a revision the watcher has seen already
        let after = try await recorder.wait(timeout: .seconds(15)) { s in
            Set(s.leases.compactMap(\.attributes.nodeName)) == ["node-1", "node-7"]
        }
        #expect(after.leases.count == 2)
    }
}

/// Node `i` acquires its lease in `store` (state in `dir`/n`i`), as a starting agent does.
func acquireLease(_ i: Int, store: any SubnetStore, config: NetworkConfig, dir: String) async throws {
    let m = LeaseManager(store: store, config: config, identity: node(i), options: LeaseOptions(stateDirectory: "\(dir)/n\(i)"), logger: quietLogger)
    _ = try await m.acquire()
}

extension EmbeddedStoreFaultTests {
    /// The same restore, overtaken: new writes carry the restored file past the watcher's
    /// revision before its next poll. By revision alone the file looks continuous; the write the
    /// watcher applied last is not in it, so the watcher lists again.
    @Test func aRestoredOlderFileOvertakenByNewWritesIsListedAgain() async throws {
        let dir = try tempDirectory("overtaken")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/store.sqlite"
        let polls = ManualClock()
        // Polls on the manual clock alone (no file-change wakes): the test decides when.
        let store = try EmbeddedStore(path: path, logger: quietLogger, pollInterval: .seconds(1), pollClock: polls, fileChangeWakes: false)
        let cfg = try config(standardConfigJSON)
        func lease(_ i: Int) async throws { try await acquireLease(i, store: store, config: cfg, dir: dir) }
        try await lease(1)
        #expect(try await ProcessRunner.runSuspending(["sqlite3", path, ".backup \(dir)/old.sqlite"]).status == 0)
        for i in 2...4 { try await lease(i) }
        let metrics = TestMetrics()
        let watcher = LeaseWatcher(store: store, config: cfg, logger: quietLogger, metricsFactory: metrics, retryInitial: .milliseconds(20))
        let recorder = SnapshotRecorder(watcher)
        defer { recorder.stop() }
        let seen = try await recorder.wait(timeout: .seconds(15)) { $0.leases.count == 4 }
        // The watch has polled once and now waits on the manual clock: no poll until it moves.
        let deadline = ContinuousClock.now + .seconds(15)
        while polls.sleeperCount == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(polls.sleeperCount == 1)

        #expect(try await ProcessRunner.runSuspending(["sqlite3", path, ".restore \(dir)/old.sqlite"]).status == 0)
        for i in 5...9 { try await lease(i) }
        // More writes than the file lost: its revision is past the one the watcher saw.
        #expect(try await store.range(prefix: LeaseKeys().subnets).revision > seen.revision)
        polls.advance(by: .seconds(1))
        let after = try await recorder.wait(timeout: .seconds(15)) { s in
            Set(s.leases.compactMap(\.attributes.nodeName)) == Set([1, 5, 6, 7, 8, 9].map { "node-\($0)" })
        }
        #expect(after.leases.count == 6)
        #expect(metrics.counter("hostgw_lease_relists_total{reason=history_changed}") == 1)
    }
}

@Suite struct EtcdStoreFaultTests {
    /// The watched member hangs (SIGSTOP: its sockets stay open, nothing answers, no reset).
    @Test func aWatchOnAHungMemberMovesToALiveOneWithin10s() async throws {
        try await withEtcd(members: 3) { cluster in
            let urls = cluster.clientURLs
            let options = EtcdOptions(endpoints: urls, requestTimeout: .seconds(2), watchIdleTimeout: .seconds(1))
            try await withEtcdStore(options) { store in
                let cfg = try config(standardConfigJSON)
                let dir = try tempDirectory("hung")
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let watcher = LeaseWatcher(store: store, config: cfg, logger: quietLogger, retryInitial: .milliseconds(50))
                let recorder = SnapshotRecorder(watcher)
                defer { recorder.stop() }
                _ = try await recorder.wait(timeout: .seconds(15)) { _ in true }
                // Let the watch connect before judging where it is.
                for _ in 0..<100 where store.watchStatus.member == nil { try await Task.sleep(for: .milliseconds(50)) }
                let watched = try #require(store.watchStatus.member)
                let index = try #require(urls.firstIndex(of: watched))
                cluster.pause(member: index)
                defer { cluster.resume(member: index) }
                let survivors = urls.filter { $0 != watched }
                try await withEtcdStore(EtcdOptions(endpoints: survivors)) { writer in
                    let m = LeaseManager(
                        store: writer, config: cfg, identity: node(42), options: LeaseOptions(stateDirectory: dir), logger: quietLogger)
                    let lease = try await m.acquire()
                    let seen = try await recorder.wait(timeout: .seconds(10)) { s in s.leases.contains { $0.subnet == lease.subnet } }
                    #expect(seen.leases.count == 1)
                }
                let now = try #require(store.watchStatus.member)
                #expect(now != watched)
                let heard = try #require(store.watchStatus.lastHeard)
                #expect(Date().timeIntervalSince(heard) < 10)
            }
        }
    }

    @Test func anOversizedWatchMessageIsAStoreError() async throws {
        try await withEtcd { cluster in
            try await withEtcdStore(EtcdOptions(endpoints: cluster.clientURLs, watchLineLimit: 4096)) { store in
                let listed = try await store.range(prefix: "/big/")
                let watch = store.watch(prefix: "/big/", fromRevision: listed.revision + 1)
                _ = try await store.put(key: "/big/a", value: Data(repeating: 0x61, count: 16 << 10))
                do {
                    let batch = try await firstBatch(watch)
                    Issue.record("an oversized line was accepted: \(batch.events.count) events")
                } catch let error as StoreError {
                    guard case .tooLarge(_, let operation, let limit) = error else {
                        Issue.record("wrong error \(error)")
                        return
                    }
                    #expect(operation == "watch")
                    #expect(limit == 4096)
                }
            }
        }
    }

    /// Every store connection has TCP keepalive with short timers (seen by the kernel: `ss`).
    @Test func storeConnectionsHaveTCPKeepalive() async throws {
        try await withEtcd { cluster in
            try await withEtcdStore(EtcdOptions(endpoints: cluster.clientURLs)) { store in
                _ = try await store.range(prefix: "/ka/")
                let port = try #require(URL(string: cluster.clientURLs[0])?.port)
                let sockets = try await ProcessRunner.runSuspending(["ss", "-tnoH", "state", "established", "( dport = :\(port) )"])
                #expect(sockets.status == 0)
                #expect(sockets.stdout.contains("keepalive"), "no keepalive timer on the store's connection: \(sockets)")
            }
        }
    }
}
