// Throwaway X.509 material made by `openssl` at test time, so TLS tests never depend on files
// checked into the repository (which would expire) nor on the machine's trust store.
import Foundation
import HostGwTestSupport

/// A certificate authority whose key lives in a test's temporary directory; `issue` signs
/// server and client certificates with it. P-256 keys: generating them takes milliseconds.
struct TestCA: Sendable {
    let directory: String
    let name: String
    let certFile: String
    let keyFile: String

    /// A self-signed CA named `name`, written to `directory/name.pem` and `directory/name.key`.
    static func create(in directory: String, name: String) async throws -> TestCA {
        let config = try writeConfig(in: directory)
        let ca = TestCA(directory: directory, name: name, certFile: "\(directory)/\(name).pem", keyFile: "\(directory)/\(name).key")
        try await openssl([
            "req", "-x509", "-config", config, "-extensions", "ca", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", ca.keyFile, "-out", ca.certFile, "-days", "2", "-subj", "/CN=\(name)",
        ])
        return ca
    }

    enum Usage: String, Sendable {
        /// serverAuth and clientAuth, SAN IP:127.0.0.1. etcd's JSON gateway dials etcd's own gRPC
        /// port with the server certificate, so with --client-cert-auth it needs clientAuth too.
        case server
        /// Like `server`, but naming only DNS:etcd.invalid: valid, trusted, and not for 127.0.0.1.
        case misnamedServer
        /// clientAuth only.
        case client
    }

    /// A key and a certificate signed by this CA: `directory/name.pem`, `directory/name.key`.
    /// Without `commonName` the subject carries only an organisation.
    func issue(_ name: String, commonName: String?, usage: Usage) async throws -> (cert: String, key: String) {
        let config = try Self.writeConfig(in: directory)
        let cert = "\(directory)/\(name).pem"
        let key = "\(directory)/\(name).key"
        let request = "\(directory)/\(name).csr"
        try await Self.openssl([
            "req", "-new", "-config", config, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", request, "-subj", commonName.map { "/CN=\($0)" } ?? "/O=hgw-test",
        ])
        try await Self.openssl([
            "x509", "-req", "-in", request, "-CA", certFile, "-CAkey", keyFile, "-set_serial", "\(UInt32.random(in: 1...UInt32.max))",
            "-days", "2", "-extfile", config, "-extensions", usage.rawValue, "-out", cert,
        ])
        return (cert, key)
    }

    /// One config for every call: our own extension sections, so the result does not depend on
    /// the machine's openssl.cnf.
    private static func writeConfig(in directory: String) throws -> String {
        let path = "\(directory)/openssl.cnf"
        let text = """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            CN = unused
            [ca]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            [server]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = serverAuth,clientAuth
            subjectAltName = IP:127.0.0.1
            [misnamedServer]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = serverAuth,clientAuth
            subjectAltName = DNS:etcd.invalid
            [client]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = clientAuth

            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static func openssl(_ args: [String]) async throws {
        let result = try await ProcessRunner.runSuspending(["openssl"] + args)
        guard result.status == 0 else { throw HarnessError.command(result) }
    }
}

/// Everything a TLS test needs: the CA etcd trusts, etcd's server certificate, a client
/// certificate etcd accepts, and a second CA that signed nothing etcd knows.
struct TestPKI: Sendable {
    let directory: String
    let ca: TestCA
    let otherCA: TestCA
    let serverCert: String
    let serverKey: String
    let clientCert: String
    let clientKey: String
    /// etcd's JSON gateway refuses client certificates with a CN once auth is enabled.
    let anonymousClientCert: String
    let anonymousClientKey: String

    /// The server side for `EtcdCluster.start(tls:)`; etcdctl uses the client certificate.
    var etcdTLS: EtcdTLS {
        EtcdTLS(caFile: ca.certFile, certFile: serverCert, keyFile: serverKey, clientCertFile: clientCert, clientKeyFile: clientKey)
    }

    /// etcd serving a certificate from the right CA that does not name 127.0.0.1.
    func misnamedEtcdTLS() async throws -> EtcdTLS {
        let server = try await ca.issue("misnamed", commonName: "etcd.invalid", usage: .misnamedServer)
        return EtcdTLS(
            caFile: ca.certFile, certFile: server.cert, keyFile: server.key, clientCertFile: clientCert, clientKeyFile: clientKey,
            etcdctlSkipsServerVerification: true)
    }
}

/// Runs `body` with fresh TLS material in a temporary directory, removed afterwards on every path.
func withTestPKI<T>(_ body: (TestPKI) async throws -> T) async throws -> T {
    let directory = try tempDirectory("pki")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let ca = try await TestCA.create(in: directory, name: "ca")
    let other = try await TestCA.create(in: directory, name: "other-ca")
    let server = try await ca.issue("server", commonName: "127.0.0.1", usage: .server)
    // Not a user name: with auth enabled, etcd must not take the certificate's CN for the user.
    let client = try await ca.issue("client", commonName: "hgw-test-client", usage: .client)
    let anonymous = try await ca.issue("anonymous", commonName: nil, usage: .client)
    let pki = TestPKI(
        directory: directory, ca: ca, otherCA: other, serverCert: server.cert, serverKey: server.key, clientCert: client.cert,
        clientKey: client.key, anonymousClientCert: anonymous.cert, anonymousClientKey: anonymous.key)
    return try await body(pki)
}

/// A single TLS etcd member requiring client certificates, with its PKI; both removed afterwards.
func withTLSEtcd<T>(_ body: (EtcdCluster, TestPKI) async throws -> T) async throws -> T {
    try await withTestPKI { pki in
        try await withEtcd(tls: pki.etcdTLS) { cluster in try await body(cluster, pki) }
    }
}
