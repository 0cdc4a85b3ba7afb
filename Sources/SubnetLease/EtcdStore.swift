// etcd v3 through its JSON gateway (the same HTTP port as gRPC), so hostgw needs no gRPC stack.
// Keys and values travel base64-encoded, int64 fields as JSON strings. Each request goes to the
// last endpoint that worked and fails over to the next on a connection failure, a timeout or a
// "no leader" answer; TTL keys carry their own etcd lease so keep-alive and revoke touch only them.
public import Foundation
import AsyncHTTPClient
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
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

    public init(
        endpoints: [String], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
        username: String? = nil, password: String? = nil, requestTimeout: Duration = .seconds(5), dialTimeout: Duration = .seconds(2)
    ) {
        self.endpoints = endpoints
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
        self.requestTimeout = requestTimeout
        self.dialTimeout = dialTimeout
    }
}

/// A `SubnetStore` on etcd v3. Call `shutdown()` before dropping it (it owns HTTP clients).
public final class EtcdStore: SubnetStore {
    public let options: EtcdOptions
    public var name: String { "etcd \(options.endpoints.joined(separator: ","))" }
    private let client: HTTPClient
    private let watchClient: HTTPClient
    private let logger: Logger
    private let metrics: StoreMetrics
    private let state = Mutex(State())

    private struct State {
        var current = 0
        var token: String?
    }

    public init(options: EtcdOptions, logger: Logger, metricsFactory: any MetricsFactory = MetricsSystem.factory) throws(StoreError) {
        guard !options.endpoints.isEmpty else { throw StoreError.unreachable(endpoints: [], underlying: "no endpoint configured") }
        self.options = options
        self.logger = logger
        metrics = StoreMetrics(store: "etcd", factory: metricsFactory)
        let tls = try Self.tlsConfiguration(options)
        let connect = TimeAmount.nanoseconds(Int64(Self.seconds(options.dialTimeout) * 1e9))
        let read = TimeAmount.nanoseconds(Int64(Self.seconds(options.requestTimeout) * 1e9))
        var requests = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: connect, read: read))
        // A watch is idle for as long as nothing changes: no read timeout there.
        var watches = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: connect))
        // The client's own reconnect loop would hold a request until its deadline and then report
        // it as a timeout, hiding a refused TLS handshake; failing at once lets `exchange` fail
        // over to the next endpoint and report what really went wrong.
        requests.connectionPool.retryConnectionEstablishment = false
        watches.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: requests)
        watchClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: watches)
    }

    /// Closes the HTTP clients; the store is unusable afterwards.
    public func shutdown() async throws {
        try await client.shutdown()
        try await watchClient.shutdown()
    }

    private static func tlsConfiguration(_ options: EtcdOptions) throws(StoreError) -> TLSConfiguration? {
        guard options.caFile != nil || options.certFile != nil || options.keyFile != nil else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        // Every file is read now, so a bad one is reported by name at startup rather than as an
        // unreachable endpoint on the first request.
        if let ca = options.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else { throw StoreError.tlsConfig(file: ca, message: "CA file missing or unreadable") }
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            } catch {
                throw StoreError.tlsConfig(file: ca, message: "no PEM certificate could be read from the CA file: \(error)")
            }
        }
        switch (options.certFile, options.keyFile) {
        case (nil, nil):
            // etcd asks for a client certificate only when it requires one (--client-cert-auth).
            // Refusing the handshake here makes that a clear error; sending none instead gets
            // the connection closed, and the alert saying why is often lost with it.
            tls.sslContextCallback = { _, promise in promise.fail(ClientCertificateRequested()) }
        case (let cert?, let key?):
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            } catch {
                throw StoreError.tlsConfig(file: cert, message: "client certificate unreadable: \(error)")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw StoreError.tlsConfig(file: key, message: "client key unreadable: \(error)")
            }
        case (let cert?, nil):
            throw StoreError.tlsConfig(file: cert, message: "a client certificate needs a key file too")
        case (nil, let key?):
            throw StoreError.tlsConfig(file: key, message: "a client key needs a certificate file too")
        }
        if let cert = options.certFile, let key = options.keyFile {
            // Building the context pairs the key with the certificate, which loading them alone
            // does not; HTTPClient would otherwise only find a mismatch on the first connection.
            do {
                _ = try NIOSSLContext(configuration: tls)
            } catch {
                throw StoreError.tlsConfig(file: key, message: "the key does not belong to the certificate \(cert): \(error)")
            }
        }
        return tls
    }

    // MARK: SubnetStore

    public func range(prefix: String) async throws -> RangeResult {
        let response: RangeResponse = try await call(
            "/v3/kv/range", ["key": Self.b64(prefix), "range_end": Self.b64(Self.prefixEnd(prefix))], operation: "range")
        return RangeResult(entries: try (response.kvs ?? []).map { try $0.entry() }, revision: response.header?.rev ?? 0)
    }

    public func get(key: String) async throws -> StoreEntry? {
        let response: RangeResponse = try await call("/v3/kv/range", ["key": Self.b64(key)], operation: "get")
        return try response.kvs?.first.map { try $0.entry() }
    }

    public func put(key: String, value: Data) async throws -> StoreEntry {
        let response: PutResponse = try await call(
            "/v3/kv/put", ["key": Self.b64(key), "value": value.base64EncodedString(), "prev_kv": true], operation: "put")
        let revision = response.header?.rev ?? 0
        let created = response.prev_kv.flatMap { Int64($0.create_revision ?? "") } ?? revision
        return StoreEntry(key: key, value: value, createRevision: created, modRevision: revision, expiration: nil)
    }

    public func create(key: String, value: Data, ttl: Duration?) async throws -> StoreEntry? {
        var leaseID: Int64 = 0
        var granted: Int64 = 0
        if let ttl {
            let seconds = max(1, Int64(Self.seconds(ttl).rounded(.up)))
            let grant: LeaseGrantResponse = try await call("/v3/lease/grant", ["TTL": String(seconds), "ID": "0"], operation: "grant")
            guard let id = grant.ID.flatMap({ Int64($0) }), id != 0 else {
                throw StoreError.protocolViolation(endpoint: currentEndpoint, operation: "grant", message: "lease grant returned no ID (\(grant.error ?? ""))")
            }
            leaseID = id
            granted = grant.TTL.flatMap { Int64($0) } ?? seconds
        }
        let started = Date()
        var put: [String: Any] = ["key": Self.b64(key), "value": value.base64EncodedString()]
        if leaseID != 0 { put["lease"] = String(leaseID) }
        let body: [String: Any] = [
            "compare": [["key": Self.b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"]],
            "success": [["request_put": put]],
            "failure": [["request_range": ["key": Self.b64(key)]]],
        ]
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
        var put: [String: Any] = ["key": Self.b64(entry.key), "value": value.base64EncodedString()]
        if entry.ttlHandle != 0 { put["lease"] = String(entry.ttlHandle) }
        let body: [String: Any] = [
            "compare": [["key": Self.b64(entry.key), "target": "MOD", "result": "EQUAL", "mod_revision": String(entry.modRevision)]],
            "success": [["request_put": put]],
        ]
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
            let response: KeepAliveStreamLine = try await call("/v3/lease/keepalive", ["ID": String(entry.ttlHandle)], operation: "keepalive")
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
        let body: [String: Any] = [
            "compare": [["key": Self.b64(entry.key), "target": "MOD", "result": "EQUAL", "mod_revision": String(entry.modRevision)]],
            "success": [["request_delete_range": ["key": Self.b64(entry.key)]]],
        ]
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
                    let r: TimeToLiveResponse = try await self.call("/v3/lease/timetolive", ["ID": String(id)], operation: "timetolive")
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

    public func watch(prefix: String, fromRevision: Int64) -> AsyncThrowingStream<WatchBatch, any Error> {
        makeWatchStream { [self] yield in
            try await runWatch(prefix: prefix, fromRevision: fromRevision, yield: yield)
        }
    }

    public func checkHealth() async throws {
        let _: StatusResponse = try await call("/v3/maintenance/status", [:], operation: "health")
    }

    // MARK: watch

    private func runWatch(prefix: String, fromRevision: Int64, yield: (WatchBatch) -> Void) async throws {
        let endpoint = currentEndpoint
        let body: [String: Any] = [
            "create_request": [
                "key": Self.b64(prefix), "range_end": Self.b64(Self.prefixEnd(prefix)), "start_revision": String(fromRevision),
            ]
        ]
        var request = try makeRequest(endpoint: endpoint, path: "/v3/watch", body: body)
        request.headers.replaceOrAdd(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await watchClient.execute(request, timeout: .seconds(Int64(Self.seconds(options.requestTimeout + options.dialTimeout))))
        } catch {
            metrics.failed("watch")
            markFailed(endpoint)
            throw classify(error, endpoint: endpoint, operation: "watch")
        }
        guard response.status == .ok else {
            let data = try await response.body.collect(upTo: 1 << 20)
            metrics.failed("watch")
            throw StoreError.server(endpoint: endpoint, operation: "watch", status: Int(response.status.code), message: String(buffer: data))
        }
        logger.debug("etcd watch started", metadata: ["endpoint": "\(endpoint)", "revision": "\(fromRevision)"])
        var buffer = Data()
        do {
            for try await chunk in response.body {
                buffer.append(contentsOf: chunk.readableBytesView)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = buffer[buffer.startIndex..<newline]
                    buffer.removeSubrange(buffer.startIndex...newline)
                    if let batch = try await handleWatchLine(Data(line), endpoint: endpoint, from: fromRevision) { yield(batch) }
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            metrics.failed("watch")
            markFailed(endpoint)
            throw classify(error, endpoint: endpoint, operation: "watch")
        }
        if !buffer.isEmpty, let batch = try await handleWatchLine(buffer, endpoint: endpoint, from: fromRevision) { yield(batch) }
        markFailed(endpoint)
        throw StoreError.unreachable(endpoints: [endpoint], underlying: "watch stream closed by the server")
    }

    private func handleWatchLine(_ line: Data, endpoint: String, from: Int64) async throws -> WatchBatch? {
        guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0d }) else { return nil }
        let decoded: WatchStreamLine
        do {
            decoded = try JSONDecoder().decode(WatchStreamLine.self, from: line)
        } catch {
            throw StoreError.protocolViolation(endpoint: endpoint, operation: "watch", message: "unreadable watch line: \(error)")
        }
        if let error = decoded.error {
            throw StoreError.server(endpoint: endpoint, operation: "watch", status: error.http_code ?? 0, message: error.message ?? error.error ?? "")
        }
        guard let result = decoded.result else { return nil }
        if let compact = result.compact_revision.flatMap({ Int64($0) }), compact > 0 {
            throw StoreError.compacted(requested: from, compactRevision: compact)
        }
        if result.canceled == true {
            throw StoreError.server(endpoint: endpoint, operation: "watch", status: 0, message: "watch canceled: \(result.cancel_reason ?? "no reason given")")
        }
        var events: [WatchEvent] = []
        for event in result.events ?? [] {
            guard let kv = event.kv else { continue }
            if event.type == "DELETE" {
                events.append(.delete(key: try kv.decodedKey(), revision: Int64(kv.mod_revision ?? "") ?? 0))
            } else {
                events.append(.put(try kv.entry()))
            }
        }
        guard !events.isEmpty else { return nil }
        // Resolve expiry of new TTL keys now, so consumers get complete leases.
        let puts = events.compactMap { e -> StoreEntry? in if case .put(let entry) = e { entry } else { nil } }
        let resolved = try await resolveExpirations(puts)
        var byKeyRevision: [String: StoreEntry] = [:]
        for r in resolved { byKeyRevision["\(r.modRevision)\u{0}\(r.key)"] = r }
        events = events.map { e in
            if case .put(let entry) = e, let r = byKeyRevision["\(entry.modRevision)\u{0}\(entry.key)"] { return .put(r) }
            return e
        }
        return WatchBatch(revision: result.header?.rev ?? events.map(\.revision).max() ?? from, events: events)
    }

    // MARK: transport

    private var currentEndpoint: String {
        state.withLock { options.endpoints[$0.current % options.endpoints.count] }
    }

    private func markFailed(_ endpoint: String) {
        state.withLock { s in
            if options.endpoints[s.current % options.endpoints.count] == endpoint { s.current = (s.current + 1) % options.endpoints.count }
        }
    }

    private func makeRequest(endpoint: String, path: String, body: [String: Any]) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token = state.withLock({ $0.token }) { request.headers.add(name: "Authorization", value: token) }
        let data = try JSONSerialization.data(withJSONObject: body)
        request.body = .bytes(ByteBuffer(data: data))
        return request
    }

    /// One request, failing over across endpoints. Retries on transport failures and on etcd's
    /// transient "no leader"/"leader changed" answers; re-authenticates once on a stale token.
    private func call<R: Decodable>(_ path: String, _ body: [String: Any], operation: String) async throws -> R {
        try await exchange(path, body, operation: operation).0
    }

    /// `call`, also telling whether the answer came from a retry: an earlier attempt may then
    /// have been applied already, which a non-idempotent request must take into account.
    private func exchange<R: Decodable>(_ path: String, _ body: [String: Any], operation: String) async throws -> (R, Bool) {
        let endpoints = options.endpoints
        let attempts = max(3, endpoints.count * 2)
        var lastError: (any Error)?
        var reauthenticated = false
        var attempt = 0
        while attempt < attempts {
            try Task.checkCancellation()
            let endpoint = currentEndpoint
            do {
                if options.username != nil, state.withLock({ $0.token == nil }) {
                    try await authenticate(endpoint: endpoint)
                }
                let request = try makeRequest(endpoint: endpoint, path: path, body: body)
                let response = try await client.execute(request, timeout: .nanoseconds(Int64(Self.seconds(options.requestTimeout) * 1e9)))
                let data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
                if response.status == .ok {
                    metrics.setReachable(true)
                    do {
                        return (try JSONDecoder().decode(R.self, from: data), attempt > 0)
                    } catch {
                        throw StoreError.protocolViolation(endpoint: endpoint, operation: operation, message: "unreadable answer: \(error)")
                    }
                }
                let gatewayError = try? JSONDecoder().decode(GatewayError.self, from: data)
                let message = gatewayError?.message ?? gatewayError?.error ?? String(decoding: data.prefix(300), as: UTF8.self)
                if options.username != nil, !reauthenticated, message.contains("invalid auth token") || message.contains("user name is empty") {
                    reauthenticated = true
                    state.withLock { $0.token = nil }
                    continue
                }
                if message.contains("authentication failed") || message.contains("permission denied") {
                    throw StoreError.auth(endpoint: endpoint, message: message)
                }
                let transient = ["no leader", "leader changed", "timed out", "too many requests", "not capable", "unhealthy", "stopped"]
                if response.status.code >= 500 || transient.contains(where: message.contains) {
                    lastError = StoreError.server(endpoint: endpoint, operation: operation, status: Int(response.status.code), message: message)
                    logger.debug("etcd transient error, retrying", metadata: ["endpoint": "\(endpoint)", "operation": "\(operation)", "error": "\(message)"])
                    markFailed(endpoint)
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(100 * attempt))
                    continue
                }
                metrics.failed(operation)
                throw StoreError.server(endpoint: endpoint, operation: operation, status: Int(response.status.code), message: message)
            } catch let error as StoreError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastError = classify(error, endpoint: endpoint, operation: operation)
                logger.debug("etcd endpoint failed, trying the next", metadata: ["endpoint": "\(endpoint)", "operation": "\(operation)", "error": "\(error)"])
                markFailed(endpoint)
                attempt += 1
                if attempt % endpoints.count == 0 { try await Task.sleep(for: .milliseconds(200)) }
            }
        }
        metrics.failed(operation)
        metrics.setReachable(false)
        switch lastError as? StoreError {
        case .timeout?, .tlsHandshake?: if let lastError { throw lastError }
        default: break
        }
        let underlying: String
        switch lastError {
        case StoreError.unreachable(_, let reason)?: underlying = reason
        case let other?: underlying = "\(other)"
        case nil: underlying = "no answer"
        }
        throw StoreError.unreachable(endpoints: endpoints, underlying: underlying)
    }

    private func authenticate(endpoint: String) async throws {
        var request = HTTPClientRequest(url: endpoint + "/v3/auth/authenticate")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = ["name": options.username ?? "", "password": options.password ?? ""]
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        let response = try await client.execute(request, timeout: .nanoseconds(Int64(Self.seconds(options.requestTimeout) * 1e9)))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok, let auth = try? JSONDecoder().decode(AuthResponse.self, from: data), let token = auth.token else {
            metrics.failed("authenticate")
            let gateway = (try? JSONDecoder().decode(GatewayError.self, from: data)).flatMap { $0.message ?? $0.error }
            let text = String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            var message = gateway ?? (text.isEmpty ? "HTTP \(response.status.code)" : "HTTP \(response.status.code): \(text)")
            // etcd's own wording ("CommonName of client ... will be ignored") does not say what to do.
            if message.contains("CommonName"), let cert = options.certFile {
                message += " (with auth enabled and --client-cert-auth, etcd's JSON gateway refuses client certificates that carry "
                    + "a CommonName; \(cert) needs a subject without CN for password auth)"
            }
            throw StoreError.auth(endpoint: endpoint, message: message)
        }
        state.withLock { $0.token = token }
    }

    private func classify(_ error: any Error, endpoint: String, operation: String) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout {
            return .timeout(endpoint: endpoint, operation: operation, after: options.requestTimeout)
        }
        if let e = error as? HTTPClientError, e == .remoteConnectionClosed, endpoint.hasPrefix("https://"), let cert = options.certFile {
            // etcd drops a connection whose client certificate it refuses, and its alert saying so
            // is usually lost with the connection: keep it retryable, but name the likely cause.
            return .unreachable(
                endpoints: [endpoint],
                underlying: "\(endpoint) closed the TLS connection before answering; if this persists, etcd may refuse the client "
                    + "certificate \(cert): check that it is signed by etcd's --trusted-ca-file")
        }
        if error is ClientCertificateRequested {
            return .tlsHandshake(
                endpoint: endpoint,
                message: "it requires a client certificate (etcd runs with --client-cert-auth) and none is configured; "
                    + "set the client certificate and key files to a pair signed by etcd's --trusted-ca-file")
        }
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname {
            let host = URL(string: endpoint)?.host ?? endpoint
            return .tlsHandshake(
                endpoint: endpoint,
                message: "its server certificate is signed by a trusted CA but does not name \(host) (\(e)); "
                    + "use an endpoint address the certificate's subjectAltName lists, or reissue etcd's --cert-file for \(host)")
        }
        if case NIOSSLError.handshakeFailed(let reason) = error {
            let ca = options.caFile.map { "the CA file \($0)" } ?? "the system's trust store"
            if "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") {
                return .tlsHandshake(
                    endpoint: endpoint,
                    message: "its server certificate is not signed by \(ca) (\(reason)); "
                        + "check the CA: it must be the CA that signed etcd's --cert-file")
            }
            return .tlsHandshake(
                endpoint: endpoint,
                message: "\(reason); check the CA (\(ca)) and that the client certificate is signed by etcd's --trusted-ca-file")
        }
        return .unreachable(endpoints: [endpoint], underlying: "\(error)")
    }

    private func revokeQuietly(_ id: Int64) async {
        do {
            let _: EmptyResponse = try await call("/v3/lease/revoke", ["ID": String(id)], operation: "revoke")
        } catch {
            logger.debug("etcd lease revoke failed (it will expire by itself)", metadata: ["lease": "\(id)", "error": "\(error)"])
        }
    }

    static func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    /// The range end covering every key that starts with `prefix` (etcd's prefix rule).
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\u{0}"
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }
}

/// Fails a TLS handshake in which etcd asks for a client certificate that is not configured.
private struct ClientCertificateRequested: Error {}

// MARK: JSON gateway messages (int64 fields are strings)

private struct Header: Decodable {
    var revision: String?
    var rev: Int64? { revision.flatMap { Int64($0) } }
}

private struct KeyValue: Decodable {
    var key: String?
    var value: String?
    var create_revision: String?
    var mod_revision: String?
    var lease: String?

    func decodedKey() throws -> String {
        guard let key, let data = Data(base64Encoded: key) else {
            throw StoreError.protocolViolation(endpoint: "", operation: "decode", message: "key is not base64")
        }
        return String(decoding: data, as: UTF8.self)
    }

    func entry() throws -> StoreEntry {
        let leaseID = lease.flatMap { Int64($0) } ?? 0
        return StoreEntry(
            key: try decodedKey(), value: value.flatMap { Data(base64Encoded: $0) } ?? Data(),
            createRevision: create_revision.flatMap { Int64($0) } ?? 0, modRevision: mod_revision.flatMap { Int64($0) } ?? 0,
            ttlHandle: leaseID, expiration: nil)
    }
}

private struct RangeResponse: Decodable {
    var header: Header?
    var kvs: [KeyValue]?
}

private struct PutResponse: Decodable {
    var header: Header?
    var prev_kv: KeyValue?
}

private struct TxnResponse: Decodable {
    struct Op: Decodable { var response_range: RangeResponse? }
    var header: Header?
    var succeeded: Bool?
    var responses: [Op]?
}

private struct LeaseGrantResponse: Decodable {
    var header: Header?
    var ID: String?
    var TTL: String?
    var error: String?
}

private struct KeepAliveStreamLine: Decodable {
    struct Result: Decodable {
        var ID: String?
        var TTL: String?
    }
    var result: Result?
}

private struct TimeToLiveResponse: Decodable {
    var ID: String?
    var TTL: String?
}

private struct StatusResponse: Decodable { var version: String? }
private struct EmptyResponse: Decodable {}
private struct AuthResponse: Decodable { var token: String? }

private struct GatewayError: Decodable {
    var error: String?
    var message: String?
    var code: Int?
    var http_code: Int?
}

private struct WatchStreamLine: Decodable {
    struct Result: Decodable {
        var header: Header?
        var created: Bool?
        var canceled: Bool?
        var compact_revision: String?
        var cancel_reason: String?
        var events: [Event]?
    }
    struct Event: Decodable {
        var type: String?
        var kv: KeyValue?
    }
    var result: Result?
    var error: GatewayError?
}

// MARK: fuzzing entry point (Tests/Fuzz/FuzzEtcdWire; moves with the wire types when they leave this file)

extension EtcdStore {
    /// Decodes `bytes` the way the store reads etcd's JSON gateway, with no connection: as every
    /// reply type, and as a watch stream (split at newlines, each line a `WatchStreamLine` whose
    /// events become entries). Returns the number of entries decoded; never traps.
    static func decodeWireForFuzzing(_ bytes: Data) -> Int {
        let d = JSONDecoder()
        var entries = 0
        func count(_ kvs: [KeyValue]?) { for kv in kvs ?? [] where (try? kv.entry()) != nil { entries += 1 } }
        if let r = try? d.decode(RangeResponse.self, from: bytes) { count(r.kvs); _ = r.header?.rev }
        if let r = try? d.decode(PutResponse.self, from: bytes) { count(r.prev_kv.map { [$0] }) }
        if let r = try? d.decode(TxnResponse.self, from: bytes) { for op in r.responses ?? [] { count(op.response_range?.kvs) } }
        if let r = try? d.decode(LeaseGrantResponse.self, from: bytes) { _ = r.ID.flatMap { Int64($0) }; _ = r.TTL.flatMap { Int64($0) } }
        if let r = try? d.decode(TimeToLiveResponse.self, from: bytes) { _ = r.TTL.flatMap { Int64($0) } }
        if let r = try? d.decode(KeepAliveStreamLine.self, from: bytes) { _ = r.result?.TTL.flatMap { Int64($0) } }
        _ = try? d.decode(GatewayError.self, from: bytes)
        _ = try? d.decode(AuthResponse.self, from: bytes)
        _ = try? d.decode(StatusResponse.self, from: bytes)
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let decoded = try? d.decode(WatchStreamLine.self, from: Data(line)), let result = decoded.result else { continue }
            _ = result.compact_revision.flatMap { Int64($0) }
            for event in result.events ?? [] {
                guard let kv = event.kv else { continue }
                if event.type == "DELETE" {
                    if (try? kv.decodedKey()) != nil { entries += 1 }
                } else if (try? kv.entry()) != nil {
                    entries += 1
                }
            }
        }
        return entries
    }
}
