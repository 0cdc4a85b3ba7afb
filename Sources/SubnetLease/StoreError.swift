// Store failures, typed so the agent can tell "etcd is down" from "wrong password" from "TLS
// files missing" and say what to check, plus the store metrics every backend reports.
import Foundation
import Metrics

/// A store request that failed, with which endpoint and what an operator should check.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// No endpoint answered (connection refused, DNS, reset).
    case unreachable(endpoints: [String], underlying: String)
    /// The endpoint accepted the connection but did not answer in time.
    case timeout(endpoint: String, operation: String, after: Duration)
    /// Authentication was refused.
    case auth(endpoint: String, message: String)
    /// The TLS files could not be loaded.
    case tlsConfig(file: String, message: String)
    /// The TLS handshake with an endpoint failed: its certificate is not signed by our CA, or it
    /// refused our client certificate (or our lack of one).
    case tlsHandshake(endpoint: String, message: String)
    /// The watch start revision was compacted away; re-list.
    case compacted(requested: Int64, compactRevision: Int64)
    /// A write lost a race it can not retry by itself.
    case conflict(key: String, message: String)
    /// The store answered with an error.
    case server(endpoint: String, operation: String, status: Int, message: String)
    /// The store answered with something we could not read.
    case protocolViolation(endpoint: String, operation: String, message: String)
    /// The embedded database failed.
    case database(path: String, message: String)
    /// A read-only command found no embedded store at the path (and created none).
    case missing(path: String)
    /// A message from the store was longer than we accept.
    case tooLarge(endpoint: String, operation: String, limit: Int)
    /// A watch went silent and its member failed the idle check; the watch resumes elsewhere.
    case watchStalled(endpoint: String, reason: String)
    /// The store no longer holds a write the watcher applied (`key` at `revision`): its history
    /// was replaced (a restored backup that new writes carried past the watcher's revision).
    case historyChanged(key: String, revision: Int64, found: String)

    public var description: String {
        switch self {
        case .unreachable(let endpoints, let underlying):
            "store unreachable: no endpoint of \(endpoints.joined(separator: ",")) answered (\(underlying)); check that etcd is running and the endpoints, ports and firewall are right"
        case .timeout(let endpoint, let operation, let after):
            "store timeout: \(operation) on \(endpoint) got no answer within \(after); check the endpoint's load and the network, or raise the request timeout"
        case .auth(let endpoint, let message):
            "store authentication failed on \(endpoint): \(message); check the user name and password"
        case .tlsConfig(let file, let message):
            "store TLS config: \(file): \(message); check the CA, certificate and key paths and formats (PEM)"
        case .tlsHandshake(let endpoint, let message):
            "store TLS handshake with \(endpoint) failed: \(message)"
        case .compacted(let requested, let compactRevision):
            "store watch from revision \(requested) is compacted (oldest kept \(compactRevision)); a full re-list is needed"
        case .conflict(let key, let message):
            "store conflict on \(key): \(message)"
        case .server(let endpoint, let operation, let status, let message):
            "store error: \(operation) on \(endpoint) answered HTTP \(status): \(message)"
        case .protocolViolation(let endpoint, let operation, let message):
            "store protocol error: \(operation) on \(endpoint): \(message); check that the endpoint is an etcd v3 server"
        case .database(let path, let message):
            "embedded store \(path): \(message); check the file's permissions and free disk space"
        case .missing(let path):
            "no store at \(path) (nothing was created): is the agent running with another --store-path, or not started yet?"
        case .tooLarge(let endpoint, let operation, let limit):
            "store message too large: \(operation) on \(endpoint) sent a message over \(limit) bytes; check what writes such values under the prefix"
        case .watchStalled(let endpoint, let reason):
            "store watch on \(endpoint) stalled: \(reason); resuming on another endpoint"
        case .historyChanged(let key, let revision, let found):
            "the store's history changed: the write of \(key) at revision \(revision) is gone (\(found)); was a backup restored? a full re-list is needed"
        }
    }
}

/// Store request metrics, labelled by backend and operation.
struct StoreMetrics: Sendable {
    let factory: any MetricsFactory
    let store: String
    let reachable: Gauge

    init(store: String, factory: any MetricsFactory) {
        self.factory = factory
        self.store = store
        reachable = Gauge(label: "hostgw_store_reachable", dimensions: [("store", store)], factory: factory)
    }

    func failed(_ operation: String) {
        Counter(label: "hostgw_store_request_errors_total", dimensions: [("store", store), ("operation", operation)], factory: factory)
            .increment()
    }

    func setReachable(_ ok: Bool) { reachable.record(ok ? 1 : 0) }

    /// The watch moved to `member` (1) from `previous` (0).
    func watchMember(_ member: String, previous: String?, heard: Date) {
        if let previous, previous != member {
            Gauge(label: "hostgw_store_watch_member", dimensions: [("store", store), ("member", previous)], factory: factory).record(0)
        }
        Gauge(label: "hostgw_store_watch_member", dimensions: [("store", store), ("member", member)], factory: factory).record(1)
        watchHeard(heard)
    }

    func watchHeard(_ at: Date) {
        Gauge(label: "hostgw_store_watch_last_heard_timestamp_seconds", dimensions: [("store", store)], factory: factory)
            .record(at.timeIntervalSince1970)
    }

    func clockStep() {
        Counter(label: "hostgw_store_clock_steps_total", dimensions: [("store", store)], factory: factory).increment()
    }

    func watchReconnect() {
        Counter(label: "hostgw_store_watch_stalls_total", dimensions: [("store", store)], factory: factory).increment()
    }
}

extension StoreError {
    /// The store's history is not the one the watcher followed (`historyChanged`).
    public var isHistoryChange: Bool {
        if case .historyChanged = self { return true }
        return false
    }
}
