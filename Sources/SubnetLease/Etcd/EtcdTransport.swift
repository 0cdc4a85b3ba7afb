// The HTTP exchange with etcd's JSON gateway: each request goes to the last endpoint that
// worked and fails over to the next on a connection failure, a timeout or a transient answer
// (no leader, leader changed, overloaded); a stale token is renewed once. Every connection has
// TCP keepalive with short timers, so a member that vanishes without a reset (power loss, a
// dead switch port) is noticed in seconds rather than after the kernel's retransmission minutes.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// TCP keepalive on every store connection: first probe after `idle`, then every `interval`,
/// dead after `count` unanswered probes.
struct TCPKeepalive: Sendable, Hashable {
    var idle: Int32 = 2
    var interval: Int32 = 1
    var count: Int32 = 3

    /// Sets the options on a connected channel (AsyncHTTPClient calls this for each new connection).
    func apply(to channel: any Channel) -> EventLoopFuture<Void> {
        let tcp = NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP))
        return channel.setOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            .flatMap { channel.setOption(ChannelOptions.Types.SocketOption(level: tcp, name: .init(rawValue: CInt(TCP_KEEPIDLE))), value: Int(idle)) }
            .flatMap { channel.setOption(ChannelOptions.Types.SocketOption(level: tcp, name: .init(rawValue: CInt(TCP_KEEPINTVL))), value: Int(interval)) }
            .flatMap { channel.setOption(ChannelOptions.Types.SocketOption(level: tcp, name: .init(rawValue: CInt(TCP_KEEPCNT))), value: Int(count)) }
    }

    /// An HTTP client configuration whose connections all get these keepalive options.
    func configure(_ configuration: inout HTTPClient.Configuration) {
        let keepalive = self
        configuration.http1_1ConnectionDebugInitializer = { keepalive.apply(to: $0) }
        configuration.http2ConnectionDebugInitializer = { keepalive.apply(to: $0) }
    }
}

extension EtcdStore {
    var currentEndpoint: String {
        state.withLock { options.endpoints[$0.current % options.endpoints.count] }
    }

    func markFailed(_ endpoint: String) {
        state.withLock { s in
            if options.endpoints[s.current % options.endpoints.count] == endpoint { s.current = (s.current + 1) % options.endpoints.count }
        }
    }

    func makeRequest(endpoint: String, path: String, body: some Encodable) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token = state.withLock({ $0.token }) { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        return request
    }

    static func timeAmount(_ d: Duration) -> TimeAmount { .nanoseconds(d.nanoseconds) }

    /// One request, failing over across endpoints. Retries on transport failures and on etcd's
    /// transient answers; re-authenticates once on a stale token.
    func call<R: Decodable>(_ path: String, _ body: some Encodable, operation: String) async throws -> R {
        try await exchange(path, body, operation: operation).0
    }

    /// One request to `endpoint` only, with its own timeout and no failover: the watch's idle
    /// check asks the member it watches, and must not be answered by another.
    func ask<R: Decodable>(_ endpoint: String, _ path: String, _ body: some Encodable, operation: String, timeout: Duration) async throws -> R {
        let request = try makeRequest(endpoint: endpoint, path: path, body: body)
        do {
            let response = try await client.execute(request, timeout: Self.timeAmount(timeout))
            let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            guard response.status == .ok else {
                let gateway = try? JSONDecoder().decode(GatewayError.self, from: data)
                throw StoreError.server(
                    endpoint: endpoint, operation: operation, status: Int(response.status.code),
                    message: gateway?.text ?? String(decoding: data.prefix(300), as: UTF8.self))
            }
            return try JSONDecoder().decode(R.self, from: data)
        } catch let error as StoreError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as DecodingError {
            throw StoreError.protocolViolation(endpoint: endpoint, operation: operation, message: "unreadable answer: \(error)")
        } catch {
            if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout {
                throw StoreError.timeout(endpoint: endpoint, operation: operation, after: timeout)
            }
            throw classify(error, endpoint: endpoint, operation: operation)
        }
    }

    /// `call`, also telling whether the answer came from a retry: an earlier attempt may then
    /// have been applied already, which a non-idempotent request must take into account.
    func exchange<R: Decodable>(_ path: String, _ body: some Encodable, operation: String) async throws -> (R, Bool) {
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
                let response = try await client.execute(request, timeout: Self.timeAmount(options.requestTimeout))
                let data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
                if response.status == .ok {
                    metrics.setReachable(true)
                    let decoded: R
                    do {
                        decoded = try JSONDecoder().decode(R.self, from: data)
                    } catch {
                        throw StoreError.protocolViolation(endpoint: endpoint, operation: operation, message: "unreadable answer: \(error)")
                    }
                    if let header = (decoded as? any HeaderCarrying)?.header { noteCluster(header, endpoint: endpoint) }
                    return (decoded, attempt > 0)
                }
                let gateway = try? JSONDecoder().decode(GatewayError.self, from: data)
                let message = gateway?.text ?? String(decoding: data.prefix(300), as: UTF8.self)
                let status = Int(response.status.code)
                switch EtcdFailure.classify(code: gateway?.code, message: message, httpStatus: status) {
                case .reauthenticate where options.username != nil && !reauthenticated:
                    reauthenticated = true
                    state.withLock { $0.token = nil }
                    continue
                case .reauthenticate, .authRefused:
                    metrics.failed(operation)
                    throw StoreError.auth(endpoint: endpoint, message: message)
                case .transient:
                    lastError = StoreError.server(endpoint: endpoint, operation: operation, status: status, message: message)
                    logger.debug("etcd transient error, retrying", metadata: ["endpoint": "\(endpoint)", "operation": "\(operation)", "error": "\(message)"])
                    markFailed(endpoint)
                    attempt += 1
                    try await clock.sleep(for: .milliseconds(100 * attempt))
                    continue
                case .permanent:
                    metrics.failed(operation)
                    throw StoreError.server(endpoint: endpoint, operation: operation, status: status, message: message)
                }
            } catch let error as StoreError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastError = classify(error, endpoint: endpoint, operation: operation)
                logger.debug("etcd endpoint failed, trying the next", metadata: ["endpoint": "\(endpoint)", "operation": "\(operation)", "error": "\(error)"])
                markFailed(endpoint)
                attempt += 1
                if attempt % endpoints.count == 0 { try await clock.sleep(for: .milliseconds(200)) }
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

    /// Remembers the cluster id answers carry, and says so when it changes (a restore that named
    /// a new cluster, or endpoints that now lead to another cluster). The watcher re-lists on it.
    func noteCluster(_ header: ResponseHeader, endpoint: String) {
        guard let id = header.clusterID, id != 0 else { return }
        let previous = state.withLock { s -> UInt64? in
            defer { s.clusterID = id }
            return s.clusterID
        }
        if let previous, previous != id {
            logger.warning(
                "etcd cluster id changed",
                metadata: ["endpoint": "\(endpoint)", "previous": "\(String(previous, radix: 16))", "now": "\(String(id, radix: 16))"])
        }
    }

    func authenticate(endpoint: String) async throws {
        let request = try makeRequest(
            endpoint: endpoint, path: "/v3/auth/authenticate", body: AuthenticateRequest(name: options.username ?? "", password: options.password ?? ""))
        let response = try await client.execute(request, timeout: Self.timeAmount(options.requestTimeout))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok, let auth = try? JSONDecoder().decode(AuthResponse.self, from: data), let token = auth.token else {
            metrics.failed("authenticate")
            let gateway = (try? JSONDecoder().decode(GatewayError.self, from: data))?.text
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
}
