// The JSON gateway's messages, as Codable types: etcd's proto3 JSON mapping, so keys and values
// are base64 and every int64/uint64 field is a JSON string. Optional fields stay nil (and are left
// out of requests) exactly where proto3 leaves a zero value out.
import Foundation

// MARK: requests

struct RangeRequest: Encodable, Sendable {
    var key: String
    var range_end: String?
    var limit: String?
    var sort_order: String?
    var sort_target: String?
    var keys_only: Bool?
    /// Read as of this revision (int64 as a JSON string); nil reads the current one.
    var revision: String?

    /// Every key under `prefix`.
    static func prefix(_ prefix: String) -> RangeRequest {
        RangeRequest(key: EtcdKey.b64(prefix), range_end: EtcdKey.b64(EtcdKey.prefixEnd(prefix)))
    }

    /// One key.
    static func key(_ key: String) -> RangeRequest { RangeRequest(key: EtcdKey.b64(key)) }

    /// The most recently modified key under `prefix`, key only: its mod_revision tells whether a
    /// watch on the prefix has missed a write.
    static func newest(under prefix: String) -> RangeRequest {
        RangeRequest(
            key: EtcdKey.b64(prefix), range_end: EtcdKey.b64(EtcdKey.prefixEnd(prefix)), limit: "1", sort_order: "DESCEND",
            sort_target: "MOD", keys_only: true)
    }
}

struct PutRequest: Encodable, Sendable {
    var key: String
    var value: String
    var lease: String?
    var prev_kv: Bool?

    init(key: String, value: Data, lease: Int64 = 0, prevKV: Bool = false) {
        self.key = EtcdKey.b64(key)
        self.value = value.base64EncodedString()
        self.lease = lease == 0 ? nil : String(lease)
        self.prev_kv = prevKV ? true : nil
    }
}

struct DeleteRangeRequest: Encodable, Sendable {
    var key: String
    init(key: String) { self.key = EtcdKey.b64(key) }
}

struct Compare: Encodable, Sendable {
    var key: String
    var target: String
    var result: String
    var create_revision: String?
    var mod_revision: String?

    /// The key does not exist (its create revision is 0).
    static func absent(_ key: String) -> Compare {
        Compare(key: EtcdKey.b64(key), target: "CREATE", result: "EQUAL", create_revision: "0")
    }

    /// The key was last written at `revision`.
    static func unchanged(_ key: String, since revision: Int64) -> Compare {
        Compare(key: EtcdKey.b64(key), target: "MOD", result: "EQUAL", mod_revision: String(revision))
    }
}

struct RequestOp: Encodable, Sendable {
    var request_range: RangeRequest?
    var request_put: PutRequest?
    var request_delete_range: DeleteRangeRequest?

    static func range(_ r: RangeRequest) -> RequestOp { RequestOp(request_range: r) }
    static func put(_ p: PutRequest) -> RequestOp { RequestOp(request_put: p) }
    static func delete(_ d: DeleteRangeRequest) -> RequestOp { RequestOp(request_delete_range: d) }
}

struct TxnRequest: Encodable, Sendable {
    var compare: [Compare]
    var success: [RequestOp]
    var failure: [RequestOp]?
}

struct LeaseGrantRequest: Encodable, Sendable {
    var TTL: String
    var ID: String = "0"
}

/// keep-alive, revoke and time-to-live all name one lease.
struct LeaseIDRequest: Encodable, Sendable {
    var ID: String
    init(_ id: Int64) { ID = String(id) }
}

struct EmptyRequest: Encodable, Sendable {}

struct AuthenticateRequest: Encodable, Sendable {
    var name: String
    var password: String
}

struct WatchRequest: Encodable, Sendable {
    struct Create: Encodable, Sendable {
        var key: String
        var range_end: String
        var start_revision: String
        /// Ask for progress notifications: they carry the revision during quiet periods (etcd 3.4
        /// sends them every 10 minutes by default, so they keep the resume revision current but
        /// are no liveness signal).
        var progress_notify: Bool
    }
    var create_request: Create

    static func prefix(_ prefix: String, from revision: Int64) -> WatchRequest {
        WatchRequest(
            create_request: Create(
                key: EtcdKey.b64(prefix), range_end: EtcdKey.b64(EtcdKey.prefixEnd(prefix)), start_revision: String(revision),
                progress_notify: true))
    }
}

// MARK: responses

/// Every response's header. `cluster_id` changes when a restore names a new cluster; `revision`
/// goes backwards after a restore of an older snapshot.
struct ResponseHeader: Decodable, Sendable {
    var cluster_id: String?
    var member_id: String?
    var revision: String?
    var raft_term: String?

    var rev: Int64? { revision.flatMap { Int64($0) } }
    var clusterID: UInt64? { cluster_id.flatMap { UInt64($0) } }
    var memberID: UInt64? { member_id.flatMap { UInt64($0) } }
}

struct KeyValue: Decodable, Sendable {
    var key: String?
    var value: String?
    var create_revision: String?
    var mod_revision: String?
    var lease: String?

    func decodedKey() throws(StoreError) -> String {
        guard let key, let data = Data(base64Encoded: key) else {
            throw StoreError.protocolViolation(endpoint: "", operation: "decode", message: "key is not base64")
        }
        return String(decoding: data, as: UTF8.self)
    }

    var modRevision: Int64 { mod_revision.flatMap { Int64($0) } ?? 0 }

    func entry() throws(StoreError) -> StoreEntry {
        StoreEntry(
            key: try decodedKey(), value: value.flatMap { Data(base64Encoded: $0) } ?? Data(),
            createRevision: create_revision.flatMap { Int64($0) } ?? 0, modRevision: modRevision,
            ttlHandle: lease.flatMap { Int64($0) } ?? 0, expiration: nil)
    }
}

/// A response that carries a header (every etcd answer does; the gateway may leave it out of
/// some): the transport reads the cluster id from it.
protocol HeaderCarrying {
    var header: ResponseHeader? { get }
}

struct RangeResponse: Decodable, Sendable, HeaderCarrying {
    var header: ResponseHeader?
    var kvs: [KeyValue]?
}

struct PutResponse: Decodable, Sendable, HeaderCarrying {
    var header: ResponseHeader?
    var prev_kv: KeyValue?
}

struct TxnResponse: Decodable, Sendable, HeaderCarrying {
    struct Op: Decodable, Sendable { var response_range: RangeResponse? }
    var header: ResponseHeader?
    var succeeded: Bool?
    var responses: [Op]?
}

struct LeaseGrantResponse: Decodable, Sendable, HeaderCarrying {
    var header: ResponseHeader?
    var ID: String?
    var TTL: String?
    var error: String?
}

/// The keep-alive endpoint is a stream; the gateway answers one request with one line.
struct KeepAliveStreamLine: Decodable, Sendable {
    struct Result: Decodable, Sendable {
        var header: ResponseHeader?
        var ID: String?
        var TTL: String?
    }
    var result: Result?
}

struct TimeToLiveResponse: Decodable, Sendable, HeaderCarrying {
    var header: ResponseHeader?
    var ID: String?
    var TTL: String?
}

struct StatusResponse: Decodable, Sendable, HeaderCarrying {
    var header: ResponseHeader?
    var version: String?
    /// The member id of the leader this member knows; absent (0) when it has none.
    var leader: String?

    var hasLeader: Bool { (leader.flatMap { UInt64($0) } ?? 0) != 0 }
}

struct EmptyResponse: Decodable, Sendable {}

struct AuthResponse: Decodable, Sendable { var token: String? }

/// The gateway's error body: `code` is the gRPC status code, `error`/`message` etcd's text.
struct GatewayError: Decodable, Sendable {
    var error: String?
    var message: String?
    var code: Int?
    var http_code: Int?

    var text: String? { message ?? error }
}

struct WatchStreamLine: Decodable, Sendable {
    struct Result: Decodable, Sendable {
        var header: ResponseHeader?
        var created: Bool?
        var canceled: Bool?
        var compact_revision: String?
        var cancel_reason: String?
        var events: [Event]?
    }
    struct Event: Decodable, Sendable {
        var type: String?
        var kv: KeyValue?
    }
    var result: Result?
    var error: GatewayError?
}

extension WatchStreamLine {
    /// One line of the watch stream as a batch (puts carry their lease ID, not its expiry):
    /// events, a progress notification, or the
    /// creation answer (a header batch: its revision is the member's current one, which may be
    /// below the start revision after a restore). Nil for lines that carry nothing. Throws the
    /// store error a line reports (server error, compaction, cancel) or is (unreadable).
    static func batch(_ line: Data, endpoint: String, from: Int64) throws(StoreError) -> WatchBatch? {
        guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0d }) else { return nil }
        let decoded: WatchStreamLine
        do {
            decoded = try JSONDecoder().decode(WatchStreamLine.self, from: line)
        } catch {
            throw StoreError.protocolViolation(endpoint: endpoint, operation: "watch", message: "unreadable watch line: \(error)")
        }
        if let error = decoded.error {
            throw StoreError.server(endpoint: endpoint, operation: "watch", status: error.http_code ?? 0, message: error.text ?? "")
        }
        guard let result = decoded.result else { return nil }
        if let compact = result.compact_revision.flatMap({ Int64($0) }), compact > 0 {
            throw StoreError.compacted(requested: from, compactRevision: compact)
        }
        if result.canceled == true {
            throw StoreError.server(endpoint: endpoint, operation: "watch", status: 0, message: "watch canceled: \(result.cancel_reason ?? "no reason given")")
        }
        let clusterID = result.header?.clusterID
        var events: [WatchEvent] = []
        for event in result.events ?? [] {
            guard let kv = event.kv else { continue }
            if event.type == "DELETE" {
                events.append(.delete(key: try kv.decodedKey(), revision: kv.modRevision))
            } else {
                events.append(.put(try kv.entry()))
            }
        }
        guard !events.isEmpty else {
            guard let revision = result.header?.rev else { return nil }
            // Only a notification that is neither the creation answer nor a cancel says that
            // everything up to its revision has been delivered.
            return WatchBatch(revision: revision, events: [], progress: result.created != true, clusterID: clusterID)
        }
        return WatchBatch(revision: result.header?.rev ?? events.map(\.revision).max() ?? from, events: events, clusterID: clusterID)
    }
}

// MARK: keys

enum EtcdKey {
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
}

// MARK: fuzzing entry point (Tests/Fuzz/FuzzEtcdWire)

extension EtcdStore {
    /// Decodes `bytes` the way the store reads etcd's JSON gateway, with no connection: as every
    /// reply type, and as a watch stream (framed by `LineFramer` with `lineLimit`, each line
    /// through `WatchStreamLine.batch`, the watch's own decoding). Returns the number of entries
    /// decoded; never traps.
    static func decodeWireForFuzzing(_ bytes: Data, lineLimit: Int = 4096) -> Int {
        let d = JSONDecoder()
        var entries = 0
        func count(_ kvs: [KeyValue]?) { for kv in kvs ?? [] where (try? kv.entry()) != nil { entries += 1 } }
        if let r = try? d.decode(RangeResponse.self, from: bytes) { count(r.kvs); _ = r.header?.rev }
        if let r = try? d.decode(PutResponse.self, from: bytes) { count(r.prev_kv.map { [$0] }) }
        if let r = try? d.decode(TxnResponse.self, from: bytes) { for op in r.responses ?? [] { count(op.response_range?.kvs) } }
        if let r = try? d.decode(LeaseGrantResponse.self, from: bytes) { _ = r.ID.flatMap { Int64($0) }; _ = r.TTL.flatMap { Int64($0) } }
        if let r = try? d.decode(TimeToLiveResponse.self, from: bytes) { _ = r.TTL.flatMap { Int64($0) } }
        if let r = try? d.decode(KeepAliveStreamLine.self, from: bytes) { _ = r.result?.TTL.flatMap { Int64($0) } }
        if let r = try? d.decode(StatusResponse.self, from: bytes) { _ = r.hasLeader; _ = r.header?.clusterID }
        _ = try? d.decode(GatewayError.self, from: bytes)
        _ = try? d.decode(AuthResponse.self, from: bytes)
        // The stream arrives in chunks of any size: feed it in two, as the watch's reader would.
        var framer = LineFramer(limit: lineLimit)
        var lines: [Data] = []
        do {
            let cut = bytes.count / 2
            lines += try framer.append(bytes.prefix(cut))
            lines += try framer.append(bytes.dropFirst(cut))
            if !framer.rest.isEmpty { lines.append(framer.rest) }
        } catch {
            // An oversized line ends the watch (StoreError.tooLarge); the lines before it count.
        }
        for line in lines {
            guard let batch = try? WatchStreamLine.batch(line, endpoint: "fuzz", from: 1) else { continue }
            entries += batch.events.count
        }
        return entries
    }
}
