// Every lease as a stream of full snapshots: list, then watch from the next revision; on a
// dropped connection resume from the last revision seen; on compaction list again, and also
// when the store went backwards (a revision below the last one seen: a restored snapshot, an
// older copy of the embedded file) or is another store (a new cluster id): resuming there would
// wait silently for a revision the store may never reach. Consumers always get the whole
// picture (simple and safe for route sync).
public import Foundation
public import Logging
public import Metrics
import Synchronization

/// Whether a `LeaseWatcher` keeps up with the store. A listing or watch that keeps failing while
/// the store answers other requests leaves the agent deaf to its peers' leases: health must say
/// so (the store probe alone would stay green).
public struct LeaseFeedHealth: Sendable, Hashable {
    /// When the current run of failures began; nil while listing and watching work.
    public var failingSince: Date?
    /// Failures in a row (listings, watches that failed or ended without a message).
    public var consecutiveFailures: Int
    /// The last failure, for status and /healthz.
    public var lastError: String?

    public init(failingSince: Date? = nil, consecutiveFailures: Int = 0, lastError: String? = nil) {
        self.failingSince = failingSince
        self.consecutiveFailures = consecutiveFailures
        self.lastError = lastError
    }
}

/// Shared by every copy of one watcher (it is a struct): written by the watch loop, pushed to
/// the subscribers of `updates()` on every change.
final class LeaseFeedRecorder: Sendable {
    private let state = Mutex(LeaseFeedHealth())
    private let broadcast = Broadcast<LeaseFeedHealth>()

    var current: LeaseFeedHealth { state.withLock { $0 } }

    func succeeded() { change { $0 = LeaseFeedHealth() } }

    func failed(_ error: String, at date: Date = Date()) {
        change {
            if $0.failingSince == nil { $0.failingSince = date }
            $0.consecutiveFailures += 1
            $0.lastError = error
        }
    }

    /// The current health, then every change of it; the newest replaces one not yet read.
    func updates() -> AsyncStream<LeaseFeedHealth> { broadcast.subscribe(current: current) }

    private func change(_ body: (inout LeaseFeedHealth) -> Void) {
        let changed = state.withLock { health -> LeaseFeedHealth? in
            let before = health
            body(&health)
            return health == before ? nil : health
        }
        if let changed { broadcast.publish(changed) }
    }
}

/// Why a watch must not simply go on: the decision `LeaseWatcher` takes on every watch message.
public enum StoreContinuity: Sendable, Hashable {
    case continuous
    /// The store is at a revision below the last one seen.
    case revisionWentBack(from: Int64, to: Int64)
    /// The store answering is another cluster than the one listed.
    case clusterChanged(from: UInt64, to: UInt64)

    /// `seen` is the last revision the watcher knows, `cluster` the id of the store it listed.
    public static func judge(_ batch: WatchBatch, seen: Int64, cluster: UInt64?) -> StoreContinuity {
        if let cluster, let now = batch.clusterID, now != cluster { return .clusterChanged(from: cluster, to: now) }
        if batch.revision > 0, batch.revision < seen { return .revisionWentBack(from: seen, to: batch.revision) }
        return .continuous
    }

    var metricReason: String {
        switch self {
        case .continuous: "none"
        case .revisionWentBack: "revision_back"
        case .clusterChanged: "cluster_changed"
        }
    }
}

public struct LeaseWatcher: Sendable {
    public let store: any SubnetStore
    public let config: NetworkConfig
    public let keys: LeaseKeys
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let retryInitial: Duration
    private let retryMax: Duration
    private let clock: any Clock<Duration>
    private let feed = LeaseFeedRecorder()

    /// Whether listing and watching the leases currently work (see `LeaseFeedHealth`).
    public var health: LeaseFeedHealth { feed.current }

    /// `health` now, then on every change: what the agent's health follows, without polling.
    public func healthUpdates() -> AsyncStream<LeaseFeedHealth> { feed.updates() }

    public init(
        store: any SubnetStore, config: NetworkConfig, keys: LeaseKeys = LeaseKeys(), logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory, retryInitial: Duration = .milliseconds(200),
        retryMax: Duration = .seconds(10), clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.store = store
        self.config = config
        self.keys = keys
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.retryInitial = retryInitial
        self.retryMax = retryMax
        self.clock = clock
    }

    /// Snapshots until the consuming task is cancelled. Store failures are retried forever with
    /// backoff (and logged); they never end the stream or produce an empty snapshot.
    ///
    /// Each snapshot is the whole picture, so a consumer that falls behind needs only the newest:
    /// by default at most one waits (with 5,000 leases a snapshot is about a megabyte, and a
    /// join storm must not queue dozens). A consumer that wants every revision (a test checking
    /// that none is missed) asks for a deeper buffer with `keepingNewest`.
    public func snapshots(keepingNewest limit: Int = 1) -> AsyncStream<LeaseSnapshot> {
        let (stream, continuation) = AsyncStream<LeaseSnapshot>.makeStream(bufferingPolicy: .bufferingNewest(max(1, limit)))
        let task = Task { await run(continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run(_ continuation: AsyncStream<LeaseSnapshot>.Continuation) async {
        let decoder = LeaseDecoder(config: config, keys: keys)
        let reporter = SkipReporter(logger: logger, factory: metricsFactory)
        var reported = Set<String>()
        // Every entry, decoded and judged one key at a time: a watch event costs the keys it
        // names, not a snapshot of every lease built again.
        var builder = LeaseSnapshotBuilder(decoder: decoder)
        var revision: Int64 = 0
        var cluster: UInt64?
        /// The newest put applied: the store proves its history still holds it on every read.
        var anchor: WatchAnchor?
        var lastEmitted: Int64 = -1
        var retry = Backoff(initial: retryInitial, maximum: retryMax)
        // Stamps say which snapshot follows which (`LeaseSnapshot.changes`): the random feed id
        // keeps one run's numbers from matching another's.
        let feedID = UInt64.random(in: 1...UInt64.max)
        var sequence: UInt64 = 0

        func emit() {
            guard revision != lastEmitted else { return }
            sequence += 1
            let snapshot = builder.take(revision: revision, stamp: .init(feed: feedID, sequence: sequence))
            reporter.report(snapshot.skipped, entries: builder.entries, alreadyReported: &reported)
            lastEmitted = revision
            continuation.yield(snapshot)
        }

        func backoff() async -> Bool {
            let delay = retry.fail()
            do { try await clock.sleep(for: delay) } catch { return false }
            return true
        }

        /// A re-list already counted with its reason (the listing must not count it again).
        var relistCounted = false
        relist: while !Task.isCancelled {
            do {
                let listing = try await store.range(prefix: keys.subnets)
                // No expiry lookups: the store expires keys itself and routing never reads a
                // peer's expiry (on etcd a lookup per lease would be N requests per listing).
                builder.reset(Dictionary(listing.entries.map { ($0.key, $0) }, uniquingKeysWith: { _, b in b }))
                if listing.revision < revision {
                    logger.warning(
                        "the store's revision went backwards (a restored snapshot or an older store file); listed it again",
                        metadata: ["store": "\(store.name)", "previous": "\(revision)", "now": "\(listing.revision)"])
                    // Whichever way the watch ended (a compaction error from the restored store
                    // included), a listing below what was seen is a re-list for a changed
                    // history: counted (once), and emitted even if its number was emitted before.
                    if !relistCounted {
                        Counter(label: "hostgw_lease_relists_total", dimensions: [("reason", "revision_backwards")], factory: metricsFactory).increment()
                    }
                    lastEmitted = -1
                }
                relistCounted = false
                revision = listing.revision
                cluster = listing.clusterID
                anchor = WatchAnchor.newest(listing.entries)
                retry.reset()
                feed.succeeded()
                emit()
            } catch {
                if Task.isCancelled { break relist }
                feed.failed("listing the leases: \(error)")
                logger.warning("lease listing failed, retrying", metadata: ["store": "\(store.name)", "error": "\(error)"])
                guard await backoff() else { break relist }
                continue relist
            }
            while !Task.isCancelled {
                var heard = false
                do {
                    for try await batch in store.watch(prefix: keys.subnets, fromRevision: revision + 1, anchor: anchor) {
                        retry.reset()
                        if !heard {
                            heard = true
                            feed.succeeded()
                        }
                        let continuity = StoreContinuity.judge(batch, seen: revision, cluster: cluster)
                        if continuity != .continuous {
                            logger.warning(
                                "the store is not the one listed; listing it again",
                                metadata: ["store": "\(store.name)", "change": "\(continuity)"])
                            Counter(label: "hostgw_lease_relists_total", dimensions: [("reason", continuity.metricReason)], factory: metricsFactory)
                                .increment()
                            relistCounted = true
                            // A fresh listing at the store's own (lower) revision is emitted even
                            // though its number was emitted before.
                            lastEmitted = -1
                            continue relist
                        }
                        var changed = false
                        for event in batch.events where event.revision > revision {
                            switch event {
                            case .put(let entry):
                                builder.apply(key: entry.key, entry: entry)
                                anchor = WatchAnchor(entry)
                            case .delete(let key, _): builder.apply(key: key, entry: nil)
                            }
                            changed = true
                        }
                        // Not batch.revision: etcd stamps a catch-up chunk with the current
                        // revision while later chunks are still coming; resuming from it would
                        // skip them.
                        revision = max(revision, batch.events.map(\.revision).max() ?? revision)
                        // A progress notification: every change up to its revision is delivered,
                        // so a reconnect resumes from there (fewer old revisions replayed, and
                        // none that compaction removed in a quiet period).
                        if batch.progress { revision = max(revision, batch.revision) }
                        if changed { emit() }
                    }
                    if Task.isCancelled { break relist }
                    // A watch that ends at once, again and again, is as deaf as a failing one
                    // (and must not spin): count it and back off.
                    if !heard {
                        feed.failed("the watch from revision \(revision + 1) ended without a message")
                        logger.warning("lease watch ended without a message, resuming", metadata: ["store": "\(store.name)", "revision": "\(revision)"])
                        guard await backoff() else { break relist }
                    }
                } catch StoreError.compacted(let requested, let compactRevision) {
                    logger.info(
                        "lease watch compacted, listing again",
                        metadata: ["requested": "\(requested)", "compact_revision": "\(compactRevision)"])
                    continue relist
                } catch let error as StoreError where error.isHistoryChange {
                    logger.warning("the store is not the one listed; listing it again", metadata: ["store": "\(store.name)", "change": "\(error)"])
                    Counter(label: "hostgw_lease_relists_total", dimensions: [("reason", "history_changed")], factory: metricsFactory).increment()
                    relistCounted = true
                    lastEmitted = -1
                    continue relist
                } catch {
                    if Task.isCancelled { break relist }
                    feed.failed("watching the leases: \(error)")
                    logger.warning("lease watch failed, resuming", metadata: ["store": "\(store.name)", "revision": "\(revision)", "error": "\(error)"])
                    guard await backoff() else { break relist }
                }
            }
        }
        continuation.finish()
    }
}
