// What an etcd failure means for the request: etcd's answers are classified on their gRPC
// status code (the JSON gateway passes it as `code`), as etcd's own client does; where etcd uses
// one code for several errors (InvalidArgument, ResourceExhausted) its error constant tells
// them apart. Transport failures (connection, timeout, TLS) become the `StoreError` that names
// what to check.
import AsyncHTTPClient
import Foundation
import NIOSSL
import Logging

/// gRPC status codes etcd answers with (google.golang.org/grpc/codes).
enum GRPCCode: Int, Sendable {
    case ok = 0, canceled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists, permissionDenied,
        resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented, internalError, unavailable, dataLoss,
        unauthenticated
}

/// What to do about an error answer from etcd.
enum EtcdFailure: Sendable, Hashable {
    /// The token is missing, expired or stale: authenticate again and retry once.
    case reauthenticate
    /// The credentials or the user's permissions are refused: report, do not retry.
    case authRefused
    /// The member can not serve now (no leader, leader changed, overloaded, stopping): retry on
    /// another member.
    case transient
    /// Anything else: report it.
    case permanent

    /// etcd's error constants (etcdserver/api/v3rpc/rpctypes) where one code covers several.
    private static let userEmpty = "user name is empty"
    private static let authOldRevision = "revision of auth store is old"
    private static let tooManyRequests = "too many requests"
    /// ErrGRPCFutureRev: a read at a revision above the store's own.
    private static let futureRevision = "required revision is a future revision"

    /// Whether an error's text is etcd's answer to a read above its own revision.
    static func isFutureRevision(_ message: String) -> Bool { message.contains(futureRevision) }

    /// `code` is the gRPC code of the gateway's error body (nil when the body is not etcd's, a
    /// proxy's for example); `httpStatus` is the HTTP status of the answer.
    static func classify(code: Int?, message: String, httpStatus: Int) -> EtcdFailure {
        guard let code, let grpc = GRPCCode(rawValue: code) else { return httpStatus >= 500 ? .transient : .permanent }
        switch grpc {
        case .unauthenticated: return .reauthenticate
        case .invalidArgument:
            // "user name is empty" is etcd's answer to a request without a token once auth is on.
            if message.contains(userEmpty) || message.contains(authOldRevision) { return .reauthenticate }
            if message.contains("authentication failed") { return .authRefused }
            return .permanent
        case .permissionDenied: return .authRefused
        case .unavailable, .deadlineExceeded, .aborted: return .transient
        case .resourceExhausted: return message.contains(tooManyRequests) ? .transient : .permanent
        case .unknown, .internalError: return httpStatus >= 500 ? .transient : .permanent
        default: return .permanent
        }
    }
}

extension EtcdStore {
    func classify(_ error: any Error, endpoint: String, operation: String) -> StoreError {
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
}
