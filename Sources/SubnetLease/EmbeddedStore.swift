// The embedded store: one SQLite file (through GRDB) that several agents on one host, or a lab,
// share instead of etcd. It mimics the etcd semantics leases rely on: a global revision bumped
// by every write, an event log to watch from a revision, and TTL keys that expire. Every write
// runs in a BEGIN IMMEDIATE transaction so claims from several processes serialise on the file
// lock; WAL mode lets watchers poll while others write.
//
// Expiry times are absolute wall-clock times (the file outlives processes and reboots), but a
// step of the wall clock must not expire a lease that is renewed on time: `StoreClock` pairs the
// wall clock with the boot clock, and when their difference jumps (a step, not the passage of
// time) every expiry moves by the step before anything is purged.
public import Foundation
import GRDB
public import Logging
public import Metrics
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded store's sense of time: the wall clock, a clock that no wall-clock step moves
/// (CLOCK_BOOTTIME, shared by every process on the host), and which boot the latter counts from.
public struct StoreClock: Sendable {
    public var wall: @Sendable () -> Date
    /// Seconds since boot; only differences within one `bootID` mean anything.
    public var sinceBoot: @Sendable () -> Double
    public var bootID: @Sendable () -> String

    public init(wall: @escaping @Sendable () -> Date, sinceBoot: @escaping @Sendable () -> Double, bootID: @escaping @Sendable () -> String) {
        self.wall = wall
        self.sinceBoot = sinceBoot
        self.bootID = bootID
    }

    public static let system = StoreClock(
        wall: { Date() },
        sinceBoot: {
            var ts = timespec()
            clock_gettime(CLOCK_BOOTTIME, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        },
        bootID: { StoreClock.systemBootID })

    private static let systemBootID: String =
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        ?? "unknown"

    /// Time that is only the wall clock `now` (tests that move time by hand): never a step.
    public static func following(_ now: @escaping @Sendable () -> Date) -> StoreClock {
        StoreClock(wall: now, sinceBoot: { now().timeIntervalSince1970 }, bootID: { "wall-only" })
    }

    /// How far the wall clock may move against the boot clock before it counts as a step (NTP
    /// slews by far less between two writes).
    static let stepTolerance: Double = 1
}

/// What the store's time says about the wall clock since the offset was last recorded.
enum ClockReading: Sendable, Hashable {
    /// The wall clock moved with the boot clock (or no reference is known).
    case steady
    /// The wall clock stepped by `seconds` (positive: forward) against the boot clock.
    case stepped(seconds: Double)
    /// Another boot (or the first use): the wall clock is the only reference.
    case newBoot

    /// `recorded` is the (boot id, wall − boot offset) the file last recorded.
    static func judge(recorded: (bootID: String, offset: Double)?, bootID: String, offset: Double) -> ClockReading {
        guard let recorded, recorded.bootID == bootID else { return .newBoot }
        let step = offset - recorded.offset
        return abs(step) > StoreClock.stepTolerance ? .stepped(seconds: step) : .steady
    }
}

public final class EmbeddedStore: SubnetStore {
    public let path: String
    public var name: String { "sqlite \(path)" }
    private let pool: DatabasePool
    private let clock: StoreClock
    private let lastPoll = Mutex<Date?>(nil)
    private let pollInterval: Duration
    /// The watch's poll waits on it; tests inject a manual clock.
    private let pollClock: any Clock<Duration>
    /// The watch polls when the file is written (`StoreFileChanges`) and otherwise every
    /// `quietPollInterval`; false (or no inotify): every `pollInterval`.
    private let fileChangeWakes: Bool
    private let quietPollInterval: Duration
    private let logger: Logger
    private let metrics: StoreMetrics
    /// Events kept for watchers that fall behind; older ones are compacted away.
    private let eventRetention: Int64
    /// A file written before the store_id and clock tables existed, opened read-only (a writer
    /// adds them at open): reads go without a store id and without the clock record.
    private let legacySchema: Bool

    /// Opens the store with a wall clock `now` that tests move by hand (no step detection).
    public convenience init(
        path: String, readOnly: Bool = false, logger: Logger, pollInterval: Duration = .milliseconds(150), eventRetention: Int64 = 10_000,
        busyTimeout: TimeInterval = 10, metricsFactory: any MetricsFactory = MetricsSystem.factory,
        now: @escaping @Sendable () -> Date
    ) throws(StoreError) {
        try self.init(
            path: path, readOnly: readOnly, logger: logger, pollInterval: pollInterval, eventRetention: eventRetention, busyTimeout: busyTimeout,
            metricsFactory: metricsFactory, clock: .following(now))
    }

    /// Opens (creating if needed) the database file. `clock` is the time used for TTLs: tests
    /// inject one to expire keys without waiting, or to step the wall clock. `readOnly` (the
    /// commands that only look) opens an existing file without writing to it and creates nothing:
    /// no file is `.missing`.
    public init(
        path: String, readOnly: Bool = false, logger: Logger, pollInterval: Duration = .milliseconds(150), eventRetention: Int64 = 10_000,
        busyTimeout: TimeInterval = 10, metricsFactory: any MetricsFactory = MetricsSystem.factory,
        clock: StoreClock = .system, pollClock: any Clock<Duration> = ContinuousClock(),
        fileChangeWakes: Bool = true, quietPollInterval: Duration = .seconds(1)
    ) throws(StoreError) {
        self.path = path
        self.clock = clock
        self.pollInterval = pollInterval
        self.pollClock = pollClock
        self.fileChangeWakes = fileChangeWakes
        self.quietPollInterval = max(quietPollInterval, pollInterval)
        self.logger = logger
        self.eventRetention = eventRetention
        metrics = StoreMetrics(store: "sqlite", factory: metricsFactory)
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "hostgw-store"
        // A small store read by one agent: two readers and a 512 KiB page cache per connection
        // (SQLite's default is 2 MiB each, and GRDB opens up to five readers) keep the agent's
        // memory flat however many leases the file holds; the page cache of the OS still has the file.
        config.maximumReaderCount = 2
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -512") }
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missing(path: path) }
            config.readonly = true
            do {
                pool = try DatabasePool(path: path, configuration: config)
                legacySchema = try pool.read { db in try !db.tableExists("store_id") || !db.tableExists("clock") }
            } catch {
                throw StoreError.database(path: path, message: "open (read-only) failed: \(error)")
            }
            metrics.setReachable(true)
            return
        }
        legacySchema = false
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            pool = try DatabasePool(path: path, configuration: config)
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try db.execute(sql: Self.schema)
                    return .commit
                }
            }
        } catch {
            throw StoreError.database(path: path, message: "open failed: \(error)")
        }
        metrics.setReachable(true)
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            revision INTEGER NOT NULL,
            compacted INTEGER NOT NULL);
        INSERT OR IGNORE INTO meta (id, revision, compacted) VALUES (1, 1, 0);
        CREATE TABLE IF NOT EXISTS kv (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL,
            create_revision INTEGER NOT NULL,
            mod_revision INTEGER NOT NULL,
            ttl_ms INTEGER,
            expires_at REAL);
        CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS store_id (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL);
        INSERT OR IGNORE INTO store_id (id, value) VALUES (1, abs(random()));
        CREATE TABLE IF NOT EXISTS clock (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            boot_id TEXT NOT NULL,
            offset REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS events (
            revision INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            deleted INTEGER NOT NULL,
            value BLOB,
            create_revision INTEGER,
            ttl_ms INTEGER,
            expires_at REAL);
        """

    // MARK: SubnetStore

    public func range(prefix: String) async throws -> RangeResult {
        try await read("range") { db in
            let t = try self.readTime(db)
            let revision = try Int64.fetchOne(db, sql: "SELECT revision FROM meta") ?? 1
            // A cursor, not fetchAll: each row becomes a StoreEntry as it is read, so thousands of
            // leases are never held twice (GRDB rows and entries) at the agent's startup peak.
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT * FROM kv WHERE substr(key, 1, ?) = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key",
                arguments: [prefix.unicodeScalars.count, prefix, t])
            return RangeResult(entries: try Array(rows.map(Self.entry)), revision: revision, clusterID: try self.storeID(db))
        }
    }

    public func get(key: String) async throws -> StoreEntry? {
        try await read("get") { db in
            let t = try self.readTime(db)
            return try Row.fetchOne(db, sql: "SELECT * FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)", arguments: [key, t])
                .map(Self.entry)
        }
    }

    public func put(key: String, value: Data) async throws -> StoreEntry {
        try await write("put") { db in
            let t = try self.writeTime(db)
            let revision = try Self.purgeAndBump(db, now: t)
            let existing = try Row.fetchOne(db, sql: "SELECT create_revision FROM kv WHERE key = ?", arguments: [key])
            let created: Int64 = existing?["create_revision"] ?? revision
            try db.execute(
                sql: "INSERT OR REPLACE INTO kv (key, value, create_revision, mod_revision, ttl_ms, expires_at) VALUES (?, ?, ?, ?, NULL, NULL)",
                arguments: [key, value, created, revision])
            let entry = StoreEntry(key: key, value: value, createRevision: created, modRevision: revision, expiration: nil)
            try Self.log(db, .put(entry), ttlMS: nil)
            return entry
        }
    }

    public func create(key: String, value: Data, ttl: Duration?) async throws -> StoreEntry? {
        let ttlMS = ttl.map { Self.milliseconds($0) }
        return try await write("create") { db in
            let t = try self.writeTime(db)
            _ = try Self.purgeExpired(db, now: t)
            if try Int.fetchOne(db, sql: "SELECT 1 FROM kv WHERE key = ?", arguments: [key]) != nil { return nil }
            let revision = try Self.bump(db)
            let expires = ttlMS.map { t + Double($0) / 1000 }
            try db.execute(
                sql: "INSERT INTO kv (key, value, create_revision, mod_revision, ttl_ms, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [key, value, revision, revision, ttlMS, expires])
            let entry = StoreEntry(
                key: key, value: value, createRevision: revision, modRevision: revision, ttlHandle: ttlMS == nil ? 0 : revision,
                expiration: expires.map { Date(timeIntervalSince1970: $0) })
            try Self.log(db, .put(entry), ttlMS: ttlMS)
            return entry
        }
    }

    public func compareAndSwap(_ entry: StoreEntry, value: Data) async throws -> StoreEntry? {
        try await write("compareAndSwap") { db in
            _ = try Self.purgeExpired(db, now: try self.writeTime(db))
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM kv WHERE key = ? AND mod_revision = ?", arguments: [entry.key, entry.modRevision])
            else { return nil }
            let revision = try Self.bump(db)
            try db.execute(sql: "UPDATE kv SET value = ?, mod_revision = ? WHERE key = ?", arguments: [value, revision, entry.key])
            var updated = Self.entry(row)
            updated.value = value
            updated.modRevision = revision
            try Self.log(db, .put(updated), ttlMS: row["ttl_ms"])
            return updated
        }
    }

    public func refresh(_ entry: StoreEntry, ttl: Duration) async throws -> StoreEntry? {
        try await write("refresh") { db in
            let t = try self.writeTime(db)
            _ = try Self.purgeExpired(db, now: t)
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM kv WHERE key = ? AND create_revision = ?", arguments: [entry.key, entry.createRevision])
            else { return nil }
            let ttlMS: Int64? = row["ttl_ms"]
            guard let ttlMS else { return Self.entry(row) }  // no TTL: nothing to push, but it is alive
            // A refresh is not a change of the key: like an etcd keep-alive it bumps no revision.
            try db.execute(sql: "UPDATE kv SET expires_at = ? WHERE key = ?", arguments: [t + Double(ttlMS) / 1000, entry.key])
            return try Row.fetchOne(db, sql: "SELECT * FROM kv WHERE key = ?", arguments: [entry.key]).map(Self.entry)
        }
    }

    public func compareAndDelete(_ entry: StoreEntry) async throws -> Bool {
        try await write("compareAndDelete") { db in
            _ = try Self.purgeExpired(db, now: try self.writeTime(db))
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM kv WHERE key = ? AND mod_revision = ?", arguments: [entry.key, entry.modRevision]) != nil
            else { return false }
            let revision = try Self.bump(db)
            try db.execute(sql: "DELETE FROM kv WHERE key = ?", arguments: [entry.key])
            try Self.log(db, .delete(key: entry.key, revision: revision), ttlMS: nil)
            return true
        }
    }

    /// Polls the file. Every poll yields: the changes since the last one, or a progress batch at
    /// the file's revision (which, below what was delivered, tells the watcher that the file
    /// went backwards: an older copy replaced it). Every poll also checks that the file still
    /// holds the newest put delivered (`anchor`): an older copy that new writes carried past
    /// `next` before this poll has the revisions but not that write (`StoreError.historyChanged`).
    ///
    /// When is a poll: when the file is written (inotify, `StoreFileChanges`: a commit by any
    /// process is seen at once instead of up to 150 ms later) and every `quietPollInterval` (1 s)
    /// besides, for TTL expiry and as a safety net; an idle agent polls once a second instead of
    /// 6.7 times. Without inotify, every `pollInterval`.
    public func watch(prefix: String, fromRevision: Int64, anchor: WatchAnchor?) -> AsyncThrowingStream<WatchBatch, any Error> {
        makeWatchStream { [self] yield in
            var next = fromRevision
            var anchor = anchor
            func once() async throws {
                let batch = try await poll(prefix: prefix, from: next, anchor: anchor)
                lastPoll.withLock { $0 = clock.wall() }
                yield(batch)
                if batch.revision >= next { next = batch.revision + 1 }
                for case .put(let entry) in batch.events.reversed() {
                    anchor = WatchAnchor(entry)
                    break
                }
            }
            guard fileChangeWakes, let changes = StoreFileChanges(path: path, follow: pollInterval) else {
                while !Task.isCancelled {
                    try await once()
                    try await pollClock.sleep(for: pollInterval)
                }
                return
            }
            let quiet = quietPollInterval
            let sleeper = pollClock
            let heartbeat = Task {
                while !Task.isCancelled {
                    do { try await sleeper.sleep(for: quiet) } catch { return }
                    changes.wake()
                }
            }
            defer {
                heartbeat.cancel()
                changes.stop()
            }
            try await withTaskCancellationHandler {
                try await once()
                for await _ in changes.wakes {
                    if Task.isCancelled { break }
                    try await once()
                }
            } onCancel: {
                changes.stop()
            }
        }
    }

    public func checkHealth() async throws {
        _ = try await read("health") { db in try Int64.fetchOne(db, sql: "SELECT revision FROM meta") }
    }

    public var watchStatus: WatchStatus {
        let heard = lastPoll.withLock { $0 }
        return WatchStatus(member: heard == nil ? nil : path, connectedSince: nil, lastHeard: heard)
    }

    /// Nothing to release early: the connections close when the store is released.
    public func shutdown() async throws {}

    // MARK: internals

    /// One cheap poll: the meta row; expired keys are purged here too, so watchers see TTL
    /// expiry as deletes even when nobody else writes.
    private func poll(prefix: String, from next: Int64, anchor: WatchAnchor?) async throws -> WatchBatch {
        let (revision, compacted, earliest, t, id, reading, anchored) = try await read("watch") {
            db -> (Int64, Int64, Double?, Double, UInt64, ClockReading, StoreEntry?) in
            let row = try Row.fetchOne(db, sql: "SELECT revision, compacted, (SELECT MIN(expires_at) FROM kv) AS earliest FROM meta")
            let revision: Int64 = row?["revision"] ?? 1
            let compacted: Int64 = row?["compacted"] ?? 0
            let earliest: Double? = row?["earliest"]
            let anchored = try anchor.flatMap { a in
                try Row.fetchOne(db, sql: "SELECT * FROM events WHERE revision = ?", arguments: [a.entry.modRevision]).map(Self.event)
            }.flatMap { event -> StoreEntry? in if case .put(let e) = event { e } else { nil } }
            return (revision, compacted, earliest, try self.readTime(db), try self.storeID(db), try self.clockReading(db).reading, anchored)
        }
        if next <= compacted { throw StoreError.compacted(requested: next, compactRevision: compacted + 1) }
        // A write the history no longer holds, above what retention pruned (below it, nothing
        // can be told): another history replaced the file.
        if let anchor, anchor.entry.modRevision > compacted, anchor.entry.modRevision <= revision, !anchor.matches(anchored) {
            throw StoreError.historyChanged(
                key: anchor.entry.key, revision: anchor.entry.modRevision,
                found: anchored.map { "revision \($0.modRevision) holds another write of \($0.key)" } ?? "no such write at that revision")
        }
        // A wall-clock step is recorded (expiries moved) by a write, so consumers see expiry
        // times on the new wall clock.
        if case .stepped = reading {
            _ = try await write("clock") { db in try self.writeTime(db) }
        }
        if let earliest, earliest <= t {
            _ = try await write("purge") { db in try Self.purgeExpired(db, now: try self.writeTime(db)) }
        }
        guard revision >= next || earliest.map({ $0 <= t }) == true else {
            return WatchBatch(revision: revision, events: [], progress: true, clusterID: id)
        }
        return try await read("watch") { db in
            let meta = try Row.fetchOne(db, sql: "SELECT revision, compacted FROM meta")
            let head: Int64 = meta?["revision"] ?? 1
            let compacted: Int64 = meta?["compacted"] ?? 0
            if next <= compacted { throw StoreError.compacted(requested: next, compactRevision: compacted + 1) }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT * FROM events WHERE revision >= ? AND revision <= ? AND substr(key, 1, ?) = ? ORDER BY revision",
                arguments: [next, head, prefix.unicodeScalars.count, prefix])
            let events: [WatchEvent] = try Array(rows.map(Self.event))
            // Events through `head` are all here: the batch is also a progress mark.
            return WatchBatch(revision: head, events: events, progress: true, clusterID: id)
        }
    }

    /// One row of the event log as a watch event.
    private static func event(_ row: Row) -> WatchEvent {
        let deleted: Bool = row["deleted"]
        if deleted { return .delete(key: row["key"], revision: row["revision"]) }
        let ttlMS: Int64? = row["ttl_ms"]
        let expires: Double? = row["expires_at"]
        let created: Int64 = row["create_revision"]
        return .put(
            StoreEntry(
                key: row["key"], value: row["value"], createRevision: created, modRevision: row["revision"],
                ttlHandle: ttlMS == nil ? 0 : created, expiration: expires.map { Date(timeIntervalSince1970: $0) }))
    }

    private func storeID(_ db: Database) throws -> UInt64 {
        if legacySchema, try !db.tableExists("store_id") { return 0 }
        return UInt64(clamping: try Int64.fetchOne(db, sql: "SELECT value FROM store_id") ?? 0)
    }

    /// What the clock row says about the wall clock now.
    private func clockReading(_ db: Database) throws -> (reading: ClockReading, wall: Double, offset: Double, recordedOffset: Double?) {
        let wall = clock.wall().timeIntervalSince1970
        let offset = wall - clock.sinceBoot()
        let noClockTable = try legacySchema && !db.tableExists("clock")
        let row = noClockTable ? nil : try Row.fetchOne(db, sql: "SELECT boot_id, offset FROM clock")
        let recorded: (bootID: String, offset: Double)? = row.map { ($0["boot_id"], $0["offset"]) }
        return (ClockReading.judge(recorded: recorded, bootID: clock.bootID(), offset: offset), wall, offset, recorded?.offset)
    }

    /// The time a read compares expiry with: the wall clock as it would read without a step
    /// not yet recorded by a write.
    private func readTime(_ db: Database) throws -> Double {
        let (reading, wall, _, recorded) = try clockReading(db)
        if case .stepped = reading, let recorded { return recorded + clock.sinceBoot() }
        return wall
    }

    /// The time a write uses; first records a wall-clock step by moving every expiry with it, so
    /// a step never expires (nor prolongs) a lease.
    private func writeTime(_ db: Database) throws -> Double {
        let (reading, wall, offset, _) = try clockReading(db)
        switch reading {
        case .steady:
            return wall
        case .stepped(let step):
            try db.execute(sql: "UPDATE kv SET expires_at = expires_at + ? WHERE expires_at IS NOT NULL", arguments: [step])
            try db.execute(sql: "UPDATE events SET expires_at = expires_at + ? WHERE expires_at IS NOT NULL", arguments: [step])
            logger.warning(
                "the wall clock stepped; moved every lease expiry with it", metadata: ["store": "\(path)", "step_seconds": "\(step)"])
            metrics.clockStep()
        case .newBoot:
            break
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO clock (id, boot_id, offset) VALUES (1, ?, ?)", arguments: [clock.bootID(), offset])
        return wall
    }

    private static func entry(_ row: Row) -> StoreEntry {
        let ttlMS: Int64? = row["ttl_ms"]
        let expires: Double? = row["expires_at"]
        let created: Int64 = row["create_revision"]
        return StoreEntry(
            key: row["key"], value: row["value"], createRevision: created, modRevision: row["mod_revision"],
            ttlHandle: ttlMS == nil ? 0 : created, expiration: expires.map { Date(timeIntervalSince1970: $0) })
    }

    private static func bump(_ db: Database) throws -> Int64 {
        try db.execute(sql: "UPDATE meta SET revision = revision + 1")
        return try Int64.fetchOne(db, sql: "SELECT revision FROM meta") ?? 1
    }

    private static func purgeAndBump(_ db: Database, now: Double) throws -> Int64 {
        _ = try purgeExpired(db, now: now)
        return try bump(db)
    }

    /// Deletes expired keys, each as its own revision with a delete event (what etcd does when a
    /// lease expires). Returns how many were purged.
    @discardableResult
    private static func purgeExpired(_ db: Database, now: Double) throws -> Int {
        let keys = try String.fetchAll(db, sql: "SELECT key FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY key", arguments: [now])
        for key in keys {
            let revision = try bump(db)
            try db.execute(sql: "DELETE FROM kv WHERE key = ?", arguments: [key])
            try log(db, .delete(key: key, revision: revision), ttlMS: nil)
        }
        return keys.count
    }

    private static func log(_ db: Database, _ event: WatchEvent, ttlMS: Int64?) throws {
        switch event {
        case .put(let e):
            try db.execute(
                sql: "INSERT INTO events (revision, key, deleted, value, create_revision, ttl_ms, expires_at) VALUES (?, ?, 0, ?, ?, ?, ?)",
                arguments: [e.modRevision, e.key, e.value, e.createRevision, ttlMS, e.expiration?.timeIntervalSince1970])
        case .delete(let key, let revision):
            try db.execute(sql: "INSERT INTO events (revision, key, deleted) VALUES (?, ?, 1)", arguments: [revision, key])
        }
    }

    private func compact(_ db: Database) throws {
        let row = try Row.fetchOne(db, sql: "SELECT revision, compacted FROM meta")
        let revision: Int64 = row?["revision"] ?? 1
        let compacted: Int64 = row?["compacted"] ?? 0
        // In steps, so the event log is trimmed now and then rather than on every write.
        guard revision - compacted > eventRetention + 512 else { return }
        let floor = revision - eventRetention
        try db.execute(sql: "DELETE FROM events WHERE revision <= ?", arguments: [floor])
        try db.execute(sql: "UPDATE meta SET compacted = MAX(compacted, ?)", arguments: [floor])
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return max(1, s * 1000 + atto / 1_000_000_000_000_000)
    }

    private func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            metrics.failed(operation)
            throw StoreError.database(path: path, message: "\(operation) failed: \(error)")
        }
    }

    private func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    try self.compact(db)
                    return .commit
                }
                guard let result else { throw StoreError.database(path: self.path, message: "\(operation): transaction returned nothing") }
                return result
            }
        } catch let error as StoreError {
            throw error
        } catch {
            metrics.failed(operation)
            logger.warning("embedded store write failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
            throw StoreError.database(path: path, message: "\(operation) failed: \(error)")
        }
    }
}
