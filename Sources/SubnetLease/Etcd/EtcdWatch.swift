// The watch stream: one long POST to /v3/watch whose answer is a line of JSON per message. A
// watch must never go quietly deaf, so:
// - it asks for a leader (`hasleader` metadata): a member cut off from its cluster cancels it;
// - it asks for progress notifications, which keep the resume revision current (etcd 3.4 sends
//   them every 10 minutes by default: no liveness signal);
// - after `watchIdleTimeout` without a message, an idle check asks the watched member itself
//   (does it answer, does it have a leader) and, through another member, for the newest write
//   under the prefix: no answer, no leader, or a write the watch did not deliver ends the watch,
//   and the caller resumes it on the next member;
// - TCP keepalive (EtcdTransport) ends a connection whose peer vanished.
// A line longer than `watchLineLimit` is a store error, not unbounded memory.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization
import Logging

/// Splits a byte stream into lines, refusing any line longer than `limit` bytes.
struct LineFramer: Sendable {
    let limit: Int
    private(set) var buffer = Data()

    init(limit: Int) { self.limit = limit }

    /// Appends `bytes` and returns every complete line (without the newline). Throws
    /// `lineTooLong` once the unfinished line exceeds the limit.
    mutating func append(_ bytes: some Sequence<UInt8>) throws(LineTooLong) -> [Data] {
        buffer.append(contentsOf: bytes)
        var lines: [Data] = []
        var start = buffer.startIndex
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            guard newline - start <= limit else { throw LineTooLong(limit: limit) }
            lines.append(Data(buffer[start..<newline]))
            start = newline + 1
        }
        buffer.removeSubrange(buffer.startIndex..<start)
        if buffer.count > limit { throw LineTooLong(limit: limit) }
        return lines
    }

    /// What is left when the stream ends (a last line without newline).
    var rest: Data { buffer }
}

struct LineTooLong: Error, Sendable { let limit: Int }

/// What the watched member said to an idle check.
enum IdleProbe: Sendable, Hashable {
    case answered(hasLeader: Bool)
    case failed(String)
}

/// The idle check's decision: keep the watch, or end it so it resumes on another member.
enum WatchIdleVerdict: Sendable, Hashable {
    case keep
    case reconnect(String)

    /// `member` is the watched member's answer; `newest` the mod revision of the newest key
    /// under the prefix as another member sees it (nil when it could not be asked); `delivered`
    /// the revision the watch has delivered up to.
    static func judge(member: IdleProbe, newest: Int64?, delivered: Int64) -> WatchIdleVerdict {
        switch member {
        case .failed(let why): return .reconnect("the watched member did not answer an idle check (\(why))")
        case .answered(hasLeader: false): return .reconnect("the watched member has no leader")
        case .answered(hasLeader: true): break
        }
        if let newest, newest > delivered {
            return .reconnect("a write at revision \(newest) did not arrive on the watch (delivered up to \(delivered))")
        }
        return .keep
    }
}

extension EtcdStore {
    func runWatch(prefix: String, fromRevision: Int64, yield: @escaping @Sendable (WatchBatch) -> Void) async throws {
        let endpoint = currentEndpoint
        var request = try makeRequest(endpoint: endpoint, path: "/v3/watch", body: WatchRequest.prefix(prefix, from: fromRevision))
        request.headers.replaceOrAdd(name: "Accept", value: "application/json")
        // gRPC metadata through the gateway: etcd cancels a watch on a member without a leader.
        request.headers.add(name: "Grpc-Metadata-hasleader", value: "true")
        let response: HTTPClientResponse
        do {
            response = try await watchClient.execute(request, timeout: Self.timeAmount(options.requestTimeout + options.dialTimeout))
        } catch {
            metrics.failed("watch")
            markFailed(endpoint)
            throw classify(error, endpoint: endpoint, operation: "watch")
        }
        guard response.status == .ok else {
            let data = try await response.body.collect(upTo: 1 << 20)
            metrics.failed("watch")
            markFailed(endpoint)
            throw StoreError.server(endpoint: endpoint, operation: "watch", status: Int(response.status.code), message: String(buffer: data))
        }
        logger.debug("etcd watch started", metadata: ["endpoint": "\(endpoint)", "revision": "\(fromRevision)"])
        watchConnected(endpoint)
        let progress = WatchProgress(delivered: fromRevision - 1)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.readWatch(response.body, endpoint: endpoint, from: fromRevision, progress: progress, yield: yield)
                }
                group.addTask {
                    try await self.monitorIdle(endpoint: endpoint, prefix: prefix, progress: progress)
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as StoreError {
            if case .compacted = error {} else { markFailed(endpoint) }
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            metrics.failed("watch")
            markFailed(endpoint)
            throw classify(error, endpoint: endpoint, operation: "watch")
        }
    }

    private func readWatch(
        _ body: HTTPClientResponse.Body, endpoint: String, from: Int64, progress: WatchProgress,
        yield: @Sendable (WatchBatch) -> Void
    ) async throws {
        var framer = LineFramer(limit: options.watchLineLimit)
        func handle(_ line: Data) async throws {
            progress.heard()
            watchHeard()
            if let batch = try handleWatchLine(line, endpoint: endpoint, from: from) {
                // A progress notification covers its revision; events only their own (a catch-up
                // chunk is stamped with the current revision while later chunks are still coming).
                let covered = batch.progress ? batch.revision : batch.events.map(\.revision).max()
                if let covered { progress.delivered(through: covered) }
                yield(batch)
            }
        }
        do {
            for try await chunk in body {
                for line in try framer.append(chunk.readableBytesView) { try await handle(line) }
            }
        } catch let e as LineTooLong {
            metrics.failed("watch")
            throw StoreError.tooLarge(endpoint: endpoint, operation: "watch", limit: e.limit)
        }
        if !framer.rest.isEmpty { try await handle(framer.rest) }
        throw StoreError.unreachable(endpoints: [endpoint], underlying: "watch stream closed by the server")
    }

    /// Every `watchIdleTimeout` without a message from the watch: the idle check. Returns only by
    /// throwing `watchStalled` (or cancellation).
    private func monitorIdle(endpoint: String, prefix: String, progress: WatchProgress) async throws {
        while true {
            try await clock.sleep(for: options.watchIdleTimeout)
            if progress.takeHeard() { continue }
            let probeTimeout = min(options.requestTimeout, options.watchIdleTimeout)
            let member: IdleProbe
            do {
                let status: StatusResponse = try await ask(endpoint, "/v3/maintenance/status", EmptyRequest(), operation: "watch idle check", timeout: probeTimeout)
                member = .answered(hasLeader: status.hasLeader)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                member = .failed("\(error)")
            }
            var newest: Int64?
            if case .answered(hasLeader: true) = member {
                let other = options.endpoints.first { $0 != endpoint } ?? endpoint
                let r: RangeResponse? = try? await ask(other, "/v3/kv/range", RangeRequest.newest(under: prefix), operation: "watch idle check", timeout: probeTimeout)
                newest = r?.kvs?.first?.modRevision
                // The watch may have delivered in the meantime: compare with what it has now.
            }
            let delivered = progress.delivered
            switch WatchIdleVerdict.judge(member: member, newest: newest, delivered: delivered) {
            case .keep:
                watchHeard()
            case .reconnect(let why):
                metrics.watchReconnect()
                logger.warning("etcd watch stalled; resuming it on another member", metadata: ["endpoint": "\(endpoint)", "reason": "\(why)"])
                throw StoreError.watchStalled(endpoint: endpoint, reason: why)
            }
        }
    }

    /// One line of the watch stream: events, a progress notification, or the creation answer (a
    /// header batch: its revision is the member's current one, which may be below the start
    /// revision after a restore). Nil for lines that carry nothing. A put carries its lease ID
    /// only; its expiry is not looked up (etcd expires the key itself, and routing never reads
    /// it).
    func handleWatchLine(_ line: Data, endpoint: String, from: Int64) throws -> WatchBatch? {
        try WatchStreamLine.batch(line, endpoint: endpoint, from: from)
    }

    private func watchConnected(_ endpoint: String) {
        let previous = state.withLock { s -> String? in
            defer {
                s.watch.member = endpoint
                s.watch.connectedSince = now()
                s.watch.lastHeard = now()
            }
            return s.watch.member
        }
        metrics.watchMember(endpoint, previous: previous, heard: now())
    }

    private func watchHeard() {
        let t = now()
        state.withLock { $0.watch.lastHeard = t }
        metrics.watchHeard(t)
    }
}

/// What the reading side of one watch shares with its idle check.
final class WatchProgress: Sendable {
    private let state: Mutex<(delivered: Int64, heard: Bool)>

    init(delivered: Int64) { state = Mutex((delivered, false)) }

    /// The revision up to which the watch has delivered every change.
    var delivered: Int64 { state.withLock { $0.delivered } }
    func delivered(through revision: Int64) { state.withLock { $0.delivered = max($0.delivered, revision) } }

    /// A message arrived.
    func heard() { state.withLock { $0.heard = true } }

    /// Whether a message arrived since the last call.
    func takeHeard() -> Bool {
        state.withLock { s in
            defer { s.heard = false }
            return s.heard
        }
    }
}
