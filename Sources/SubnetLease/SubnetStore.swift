// The storage contract both backends (etcd, embedded SQLite) fulfil. It is deliberately small and
// speaks in keys, bytes and revisions: lease logic lives above it, once, for both stores.
public import Foundation

/// One key as read from a store.
public struct StoreEntry: Sendable, Hashable {
    public var key: String
    public var value: Data
    /// Revision of the write that created the key (identifies this incarnation of the key).
    public var createRevision: Int64
    /// Revision of the last write to the key.
    public var modRevision: Int64
    /// The store's handle of the TTL attached to the key (an etcd lease ID), 0 when none.
    public var ttlHandle: Int64
    /// When the key expires; nil when it has no TTL.
    public var expiration: Date?

    public init(key: String, value: Data, createRevision: Int64, modRevision: Int64, ttlHandle: Int64 = 0, expiration: Date?) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.ttlHandle = ttlHandle
        self.expiration = expiration
    }

    /// True when the key was written without a TTL (a reservation, or the network config).
    public var hasTTL: Bool { ttlHandle != 0 || expiration != nil }
}

/// A change a watcher has applied (the newest put it knows), by which a store proves that its
/// history is still the one the watcher followed. A restored older copy of the store that new
/// writes carried past the watcher's revision looks continuous by revision alone; it does not
/// hold this write at this revision.
public struct WatchAnchor: Sendable, Hashable {
    public var entry: StoreEntry

    public init(_ entry: StoreEntry) { self.entry = entry }

    /// The newest of `entries` (highest mod revision), nil when there are none.
    public static func newest(_ entries: some Sequence<StoreEntry>) -> WatchAnchor? {
        entries.max { $0.modRevision < $1.modRevision }.map(WatchAnchor.init)
    }

    /// Whether `found`, the store's write at `entry.modRevision` as it reads now, is this write:
    /// same key, same incarnation, same value and TTL handle. Expiry is not compared: a store
    /// may move it without a write (a clock-step repair).
    public func matches(_ found: StoreEntry?) -> Bool {
        guard let found else { return false }
        return found.key == entry.key && found.modRevision == entry.modRevision && found.createRevision == entry.createRevision
            && found.value == entry.value && found.ttlHandle == entry.ttlHandle
    }
}

/// Every key under a prefix, and the store revision the read saw.
public struct RangeResult: Sendable, Hashable {
    public var entries: [StoreEntry]
    public var revision: Int64
    /// Which store answered (etcd's cluster id, the embedded file's id); nil when unknown.
    public var clusterID: UInt64?

    public init(entries: [StoreEntry], revision: Int64, clusterID: UInt64? = nil) {
        self.entries = entries
        self.revision = revision
        self.clusterID = clusterID
    }
}

/// One change seen by a watch.
public enum WatchEvent: Sendable, Hashable {
    case put(StoreEntry)
    case delete(key: String, revision: Int64)

    public var revision: Int64 {
        switch self {
        case .put(let e): e.modRevision
        case .delete(_, let r): r
        }
    }
}

/// The changes of one or more revisions, delivered together; `revision` is the store revision
/// the message was stamped with. A batch without events reports the store's revision only: when
/// the watch starts (`progress` false: changes before `revision` may still come), or as a
/// progress notification (`progress` true: every change up to `revision` has been delivered).
public struct WatchBatch: Sendable, Hashable {
    public var revision: Int64
    public var events: [WatchEvent]
    public var progress: Bool
    /// Which store sent it (see `RangeResult.clusterID`).
    public var clusterID: UInt64?

    public init(revision: Int64, events: [WatchEvent], progress: Bool = false, clusterID: UInt64? = nil) {
        self.revision = revision
        self.events = events
        self.progress = progress
        self.clusterID = clusterID
    }
}

/// Where a store's watch is connected and when it last heard from there, for status and metrics.
public struct WatchStatus: Sendable, Hashable {
    /// The etcd endpoint (or embedded file) the watch reads from; nil before the first watch.
    public var member: String?
    /// When the watch connected to `member`.
    public var connectedSince: Date?
    /// The last message from `member` on the watch, or its last answer to an idle check.
    public var lastHeard: Date?

    public init(member: String? = nil, connectedSince: Date? = nil, lastHeard: Date? = nil) {
        self.member = member
        self.connectedSince = connectedSince
        self.lastHeard = lastHeard
    }
}

/// A key-value store with revisions, TTLs and watches: what leases need from etcd or SQLite.
public protocol SubnetStore: Sendable {
    /// A short description for logs and errors (`etcd http://10.0.0.1:2379,...`, `sqlite /path`).
    var name: String { get }

    /// Every live key under `prefix`, with the revision of the read.
    func range(prefix: String) async throws -> RangeResult

    /// One key, nil when absent.
    func get(key: String) async throws -> StoreEntry?

    /// Writes `value` unconditionally, without TTL (the network config).
    func put(key: String, value: Data) async throws -> StoreEntry

    /// Creates `key` only if absent. Returns the new entry, or nil when the key already exists.
    /// `ttl` nil writes a key that never expires.
    func create(key: String, value: Data, ttl: Duration?) async throws -> StoreEntry?

    /// Replaces the value of `entry` if the key is unchanged since it was read (same
    /// modRevision), keeping its TTL. Nil when it changed or is gone.
    func compareAndSwap(_ entry: StoreEntry, value: Data) async throws -> StoreEntry?

    /// Pushes the expiry of `entry` to now + its TTL (`ttl` for stores that keep none). Nil when the
    /// key is gone, expired, or is another incarnation (different createRevision or TTL handle).
    func refresh(_ entry: StoreEntry, ttl: Duration) async throws -> StoreEntry?

    /// Deletes the key if it is still `entry` (same modRevision), and drops its TTL handle.
    /// False when it changed or is gone.
    func compareAndDelete(_ entry: StoreEntry) async throws -> Bool

    /// Changes under `prefix` from `fromRevision` on, until the task is cancelled or the
    /// connection fails (the stream then throws). Throws `StoreError.compacted` when
    /// `fromRevision` is no longer available, and `StoreError.historyChanged` when the store no
    /// longer holds `anchor`'s write (it was replaced by another history, such as a restored
    /// backup): the caller re-lists either way. A store checks the anchor whenever it (re)reads
    /// its history, and moves it along the puts it delivers.
    func watch(prefix: String, fromRevision: Int64, anchor: WatchAnchor?) -> AsyncThrowingStream<WatchBatch, any Error>

    /// Throws a `StoreError` when the store can not serve requests.
    func checkHealth() async throws

    /// Fills `expiration` of TTL entries whose expiry the read did not tell (etcd tells only the
    /// lease ID). Only what a human reads calls this (`hostgw leases`, the own lease in `status`);
    /// routing, the watcher and claims never do.
    func resolveExpirations(_ entries: [StoreEntry]) async throws -> [StoreEntry]

    /// Where the watch is connected and when it last heard from there.
    var watchStatus: WatchStatus { get }

    /// Releases what the store holds (connections, threads); the store is unusable afterwards.
    /// Every owner calls it once when done.
    func shutdown() async throws
}

extension SubnetStore {
    /// A watch that proves nothing about the history before `fromRevision`.
    public func watch(prefix: String, fromRevision: Int64) -> AsyncThrowingStream<WatchBatch, any Error> {
        watch(prefix: prefix, fromRevision: fromRevision, anchor: nil)
    }

    /// Fills `expiration` of TTL entries that lack it. Stores that always know expiry (SQLite)
    /// keep this default; etcd looks each lease up.
    public func resolveExpirations(_ entries: [StoreEntry]) async throws -> [StoreEntry] { entries }
}

/// A watch stream fed by `produce` on its own task. The stream ends when `produce` returns or is
/// cancelled, throws what `produce` throws, and cancelling the consumer cancels `produce`.
func makeWatchStream(
    _ produce: @escaping @Sendable (_ yield: @escaping @Sendable (WatchBatch) -> Void) async throws -> Void
) -> AsyncThrowingStream<WatchBatch, any Error> {
    let (stream, continuation) = AsyncThrowingStream<WatchBatch, any Error>.makeStream()
    let task = Task {
        do {
            try await produce { continuation.yield($0) }
            continuation.finish()
        } catch is CancellationError {
            continuation.finish()
        } catch {
            continuation.finish(throwing: error)
        }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
}
