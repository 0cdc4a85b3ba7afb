// etcd v3 through its JSON gateway (the same HTTP port as gRPC), so hostgw needs no gRPC stack.
// The key-value calls of the `SubnetStore` contract live here; the other jobs have their own
// files in this folder: TLS loading (EtcdTLS), the HTTP exchange and failover (EtcdTransport),
// error classification (EtcdErrors), the watch stream (EtcdWatch) and the wire types (EtcdWire).
// TTL keys carry their own etcd lease so keep-alive and revoke touch only them.
public import Foundation
import AsyncHTTPClient
import NIOCore
import NIOSSL
public import Logging
public import Metrics
import Synchronization

/// How to reach etcd.
public struct EtcdOptions: Sendable, Hashable {
    /// `http://host:port` or `https://host:port`, tried in order.
    public var endpoints: [String]
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var username: String?
    public var password: String?
    public var requestTimeout: Duration
    public var dialTimeout: Duration
    /// A watch silent this long gets an idle check (does its member answer, with a leader, and
    /// has no write been missed); a failed check resumes the watch on another member.
    public var watchIdleTimeout: Duration
    /// The longest watch message accepted; a longer one is a store error.
    public var watchLineLimit: Int

    public init(
        endpoints: [String], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
        username: String? = nil, password: String? = nil, requestTimeout: Duration = .seconds(5), dialTimeout: Duration = .seconds(2),
        watchIdleTimeout: Duration = .seconds(3), watchLineLimit: Int = 64 << 20
    ) {
        self.endpoints = endpoints
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
        self.requestTimeout = requestTimeout
        self.dialTimeout = dialTimeout
        self.watchIdleTimeout = watchIdleTimeout
        self.watchLineLimit = watchLineLimit
    }
}

/// A `SubnetStore` on etcd v3. Call `shutdown()` before dropping it (it owns HTTP clients).
public final class EtcdStore: SubnetStore {
    public let options: EtcdOptions
    public var name: String { "etcd \(options.endpoints.joined(separator: ","))" }
    let client: HTTPClient
    let watchClient: HTTPClient
    let logger: Logger
    let metrics: StoreMetrics
    let state = Mutex(State())
    /// Paces the watch's idle checks.
    let clock: any Clock<Duration>
    /// Stamps the watch status.
    let now: @Sendable () -> Date

    struct State {
        var current = 0
        var token: String?
        /// The cluster id of the last answer.
        var clusterID: UInt64?
        var watch = WatchStatus()
    }

    public init(
        options: EtcdOptions, logger: Logger, metricsFactory: any MetricsFactory = MetricsSystem.factory,
        clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = { Date() }
    ) throws(StoreError) {
        guard !options.endpoints.isEmpty else { throw StoreError.unreachable(endpoints: [], underlying: "no endpoint configured") }
        self.options = options
        self.logger = logger
        self.clock = clock
        self.now = now
        metrics = StoreMetrics(store: "etcd", factory: metricsFactory)
        let tls = try Self.tlsConfiguration(options)
        let connect = Self.timeAmount(options.dialTimeout)
        let read = Self.timeAmount(options.requestTimeout)
        var requests = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: connect, read: read))
        // A watch is idle for as long as nothing changes: no read timeout there (the idle check
        // and TCP keepalive find a dead member instead).
        var watches = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: connect))
        // The client's own reconnect loop would hold a request until its deadline and then report
        // it as a timeout, hiding a refused TLS handshake; failing at once lets `exchange` fail
        // over to the next endpoint and report what really went wrong.
        requests.connectionPool.retryConnectionEstablishment = false
        watches.connectionPool.retryConnectionEstablishment = false
        TCPKeepalive().configure(&requests)
        TCPKeepalive().configure(&watches)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: requests)
        watchClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: watches)
    }

    /// Closes the HTTP clients; the store is unusable afterwards.
    public func shutdown() async throws {
        try await client.shutdown()
        try await watchClient.shutdown()
    }

    /// Which member the watch is on and when it last heard from it.
    public var watchStatus: WatchStatus { state.withLock { $0.watch } }

    // MARK: SubnetStore

    public func range(prefix: String) async throws -> RangeResult {
        let response: RangeResponse = try await call("/v3/kv/range", RangeRequest.prefix(prefix), operation: "range")
        return RangeResult(
            entries: try (response.kvs ?? []).map { try $0.entry() }, revision: response.header?.rev ?? 0,
            clusterID: response.header?.clusterID)
    }

    public func get(key: String) async throws -> StoreEntry? {
        let response: RangeResponse = try await call("/v3/kv/range", RangeRequest.key(key), operation: "get")
        return try response.kvs?.first.map { try $0.entry() }
    }

    public func put(key: String, value: Data) async throws -> StoreEntry {
        let response: PutResponse = try await call(
            "/v3/kv/put", PutRequest(key: key, value: value, prevKV: true), operation: "put")
        let revision = response.header?.rev ?? 0
        let created = response.prev_kv.flatMap { Int64($0.create_revision ?? "") } ?? revision
        return StoreEntry(key: key, value: value, createRevision: created, modRevision: revision, expiration: nil)
    }

    public func create(key: String, value: Data, ttl: Duration?) async throws -> StoreEntry? {
        var leaseID: Int64 = 0
        var granted: Int64 = 0
        if let ttl {
            let (whole, atto) = ttl.components
            let seconds = max(1, whole + (atto > 0 ? 1 : 0))
            let grant: LeaseGrantResponse = try await call("/v3/lease/grant", LeaseGrantRequest(TTL: String(seconds)), operation: "grant")
            guard let id = grant.ID.flatMap({ Int64($0) }), id != 0 else {
                throw StoreError.protocolViolation(endpoint: currentEndpoint, operation: "grant", message: "lease grant returned no ID (\(grant.error ?? ""))")
            }
            leaseID = id
            granted = grant.TTL.flatMap { Int64($0) } ?? seconds
        }
        let started = Date()
        let body = TxnRequest(
            compare: [.absent(key)], success: [.put(PutRequest(key: key, value: value, lease: leaseID))], failure: [.range(.key(key))])
        let txn: TxnResponse
        let retried: Bool
        do {
            (txn, retried) = try await exchange("/v3/kv/txn", body, operation: "create")
        } catch {
            if leaseID != 0 { await revokeQuietly(leaseID) }
            throw error
        }
        let revision = txn.header?.rev ?? 0
        if txn.succeeded == true {
            return StoreEntry(
                key: key, value: value, createRevision: revision, modRevision: revision, ttlHandle: leaseID,
                expiration: leaseID == 0 ? nil : started.addingTimeInterval(Double(granted)))
        }
        // A retried request whose first attempt did land finds its own lease on the key.
        if let existing = try txn.responses?.first?.response_range?.kvs?.first?.entry(), leaseID != 0, existing.ttlHandle == leaseID {
            var entry = existing
            entry.expiration = started.addingTimeInterval(Double(granted))
            return entry
        }
        // Without a lease there is no ID to recognise: after a retry (a failover may have cut the
        // connection after the first attempt landed) our exact value, lease-less, is our write.
        if retried, leaseID == 0, let existing = try txn.responses?.first?.response_range?.kvs?.first?.entry(),
            existing.ttlHandle == 0, existing.value == value
        {
            return existing
        }
        if leaseID != 0 { await revokeQuietly(leaseID) }
        return nil
    }

    public func compareAndSwap(_ entry: StoreEntry, value: Data) async throws -> StoreEntry? {
        let body = TxnRequest(
            compare: [.unchanged(entry.key, since: entry.modRevision)],
            success: [.put(PutRequest(key: entry.key, value: value, lease: entry.ttlHandle))], failure: nil)
        let txn: TxnResponse = try await call("/v3/kv/txn", body, operation: "compareAndSwap")
        guard txn.succeeded == true else { return nil }
        var updated = entry
        updated.value = value
        updated.modRevision = txn.header?.rev ?? entry.modRevision
        return updated
    }

    public func refresh(_ entry: StoreEntry, ttl: Duration) async throws -> StoreEntry? {
        var expiration = entry.expiration
        if entry.ttlHandle != 0 {
            let started = Date()
            let response: KeepAliveStreamLine = try await call("/v3/lease/keepalive", LeaseIDRequest(entry.ttlHandle), operation: "keepalive")
            guard let remaining = response.result?.TTL.flatMap({ Int64($0) }), remaining > 0 else { return nil }
            expiration = started.addingTimeInterval(Double(remaining))
        }
        // The keep-alive proves the etcd lease lives, not that our key is still on it.
        guard var current = try await get(key: entry.key), current.createRevision == entry.createRevision,
            current.ttlHandle == entry.ttlHandle
        else { return nil }
        current.expiration = expiration
        return current
    }

    public func compareAndDelete(_ entry: StoreEntry) async throws -> Bool {
        let body = TxnRequest(
            compare: [.unchanged(entry.key, since: entry.modRevision)], success: [.delete(DeleteRangeRequest(key: entry.key))], failure: nil)
        let txn: TxnResponse = try await call("/v3/kv/txn", body, operation: "compareAndDelete")
        guard txn.succeeded == true else { return false }
        if entry.ttlHandle != 0 { await revokeQuietly(entry.ttlHandle) }
        return true
    }

    /// Fills `expiration` of TTL entries that lack it (a range or watch tells only the lease ID).
    public func resolveExpirations(_ entries: [StoreEntry]) async throws -> [StoreEntry] {
        let ids = Set(entries.filter { $0.ttlHandle != 0 && $0.expiration == nil }.map(\.ttlHandle))
        guard !ids.isEmpty else { return entries }
        var expiry: [Int64: Date] = [:]
        try await withThrowingTaskGroup(of: (Int64, Date).self) { group in
            var pending = ids.makeIterator()
            func addNext() {
                guard let id = pending.next() else { return }
                group.addTask {
                    let started = Date()
                    let r: TimeToLiveResponse = try await self.call("/v3/lease/timetolive", LeaseIDRequest(id), operation: "timetolive")
                    let ttl = r.TTL.flatMap { Int64($0) } ?? -1
                    return (id, started.addingTimeInterval(Double(max(0, ttl))))
                }
            }
            for _ in 0..<16 { addNext() }
            while let (id, date) = try await group.next() {
                expiry[id] = date
                addNext()
            }
        }
        return entries.map { e in
            var e = e
            if e.ttlHandle != 0, e.expiration == nil { e.expiration = expiry[e.ttlHandle] }
            return e
        }
    }

    /// Before the watch opens, `anchor`'s key is read as of its revision: a cluster restored
    /// from a snapshot that new writes carried past `fromRevision` does not hold that write.
    public func watch(prefix: String, fromRevision: Int64, anchor: WatchAnchor?) -> AsyncThrowingStream<WatchBatch, any Error> {
        makeWatchStream { [self] yield in
            if let anchor { try await verify(anchor) }
            try await runWatch(prefix: prefix, fromRevision: fromRevision, yield: yield)
        }
    }

    /// Throws `StoreError.historyChanged` when the cluster's write at `anchor`'s revision is not
    /// `anchor`'s, and when that revision is above the cluster's own (a restore took it below a
    /// write the watcher applied: the watch's header can not be trusted to show it, since writes
    /// made between this read and the watch's start may carry the store past the anchor again,
    /// and their events below the watch's start revision would never arrive). A compacted
    /// revision tells nothing.
    func verify(_ anchor: WatchAnchor) async throws {
        var request = RangeRequest.key(anchor.entry.key)
        request.revision = String(anchor.entry.modRevision)
        let response: RangeResponse
        do {
            response = try await call("/v3/kv/range", request, operation: "verify")
        } catch StoreError.server(_, _, _, let message) where EtcdFailure.isFutureRevision(message) {
            throw StoreError.historyChanged(
                key: anchor.entry.key, revision: anchor.entry.modRevision,
                found: "the store's revision is below that write (an older history: a restored snapshot?)")
        } catch StoreError.server {
            return
        }
        let found = try response.kvs?.first.map { try $0.entry() }
        guard !anchor.matches(found) else { return }
        throw StoreError.historyChanged(
            key: anchor.entry.key, revision: anchor.entry.modRevision,
            found: found.map { "the key's write there is revision \($0.modRevision), created at \($0.createRevision)" } ?? "the key did not exist then")
    }

    public func checkHealth() async throws {
        let _: StatusResponse = try await call("/v3/maintenance/status", EmptyRequest(), operation: "health")
    }

    private func revokeQuietly(_ id: Int64) async {
        do {
            let _: EmptyResponse = try await call("/v3/lease/revoke", LeaseIDRequest(id), operation: "revoke")
        } catch {
            logger.debug("etcd lease revoke failed (it will expire by itself)", metadata: ["lease": "\(id)", "error": "\(error)"])
        }
    }
}
