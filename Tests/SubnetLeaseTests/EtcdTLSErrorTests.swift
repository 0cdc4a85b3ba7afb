// What an operator sees when etcd's TLS setup and hostgw's do not fit together: a typed error
// naming the endpoint or the file and what to check, quickly, never a hang or a crash.
import HostGwTestSupport
import NetAddress
import Foundation
import SubnetLease
import Testing

@Suite struct EtcdTLSErrorTests {
    /// Attempts are few and a handshake failure is immediate: a few seconds at most, however
    /// often the store retries, and never the full request timeout per attempt. The timeout is
    /// long enough that machine load never reaches it. The error itself shows which came first (a
    /// TLS error, not a timeout); no test measures how long it took.
    static let requestTimeout = Duration.seconds(10)

    /// Runs one request against `options` and returns the StoreError and how long it took.
    func failure(_ options: EtcdOptions) async throws -> (StoreError, Duration) {
        var options = options
        options.requestTimeout = Self.requestTimeout
        return try await withEtcdStore(options) { store in
            let started = ContinuousClock.now
            do {
                _ = try await store.get(key: "/tls/x")
            } catch let error as StoreError {
                return (error, ContinuousClock.now - started)
            }
            throw HarnessError.unexpectedSuccess("get through a misfitting TLS setup")
        }
    }

    @Test func serverCertificateFromAnotherCAIsATLSErrorNamingEndpointAndCA() async throws {
        try await withTLSEtcd { cluster, pki in
            let endpoint = cluster.clientURLs[0]
            let (error, _) = try await failure(
                EtcdOptions(endpoints: [endpoint], caFile: pki.otherCA.certFile, certFile: pki.clientCert, keyFile: pki.clientKey))
            guard case .tlsHandshake(let named, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(named == endpoint)
            #expect(error.description.contains(endpoint))
            #expect(error.description.contains(pki.otherCA.certFile))
            #expect(error.description.contains("check the CA"))
        }
    }

    /// The right CA, but a certificate issued for a DNS name while hostgw dials the IP.
    @Test func endpointNotNamedInTheServerCertificateIsATLSErrorSayingSo() async throws {
        try await withTestPKI { pki in
            try await withEtcd(tls: try await pki.misnamedEtcdTLS()) { cluster in
                let endpoint = cluster.clientURLs[0]
                let (error, _) = try await failure(
                    EtcdOptions(endpoints: [endpoint], caFile: pki.ca.certFile, certFile: pki.clientCert, keyFile: pki.clientKey))
                guard case .tlsHandshake(let named, let message) = error else { Issue.record("wrong error \(error)"); return }
                #expect(named == endpoint)
                #expect(message.contains("does not name 127.0.0.1"))
            }
        }
    }

    @Test func missingClientCertificateIsATLSErrorSayingSo() async throws {
        try await withTLSEtcd { cluster, pki in
            let endpoint = cluster.clientURLs[0]
            let (error, _) = try await failure(EtcdOptions(endpoints: [endpoint], caFile: pki.ca.certFile))
            guard case .tlsHandshake(let named, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(named == endpoint)
            #expect(error.description.contains("client certificate"))
        }
    }

    /// etcd drops the connection and its alert is usually lost with it, so the client can not be
    /// sure; the error stays "unreachable" (retryable) but names the certificate as the likely cause.
    @Test func clientCertificateFromAnotherCAIsUnreachableNamingTheCertificate() async throws {
        try await withTLSEtcd { cluster, pki in
            let endpoint = cluster.clientURLs[0]
            let stranger = try await pki.otherCA.issue("stranger", commonName: "stranger", usage: .client)
            let (error, _) = try await failure(
                EtcdOptions(endpoints: [endpoint], caFile: pki.ca.certFile, certFile: stranger.cert, keyFile: stranger.key))
            switch error {
            case .unreachable(let named, let reason):
                #expect(named == [endpoint])
                #expect(reason.contains(stranger.cert))
                #expect(reason.contains("--trusted-ca-file"))
            case .tlsHandshake(let named, _):
                // The alert did arrive: just as good.
                #expect(named == endpoint)
            default:
                Issue.record("wrong error \(error)")
            }
        }
    }

    enum BadFile: String, CaseIterable, Sendable {
        case keyOfAnotherCertificate, garbageKey, garbageCertificate, emptyCertificate, garbageCA, keyAsCA
    }

    /// Caught when the store is made, before any connection: `file` is the one to fix.
    @Test(arguments: BadFile.allCases)
    func badTLSFileIsATLSConfigErrorNamingIt(_ bad: BadFile) async throws {
        try await withTestPKI { pki in
            let garbage = "\(pki.directory)/garbage.pem"
            try "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n".write(
                toFile: garbage, atomically: true, encoding: .utf8)
            let empty = "\(pki.directory)/empty.pem"
            try "".write(toFile: empty, atomically: true, encoding: .utf8)
            var ca = pki.ca.certFile
            var cert = pki.clientCert
            var key = pki.clientKey
            let blamed: String
            switch bad {
            case .keyOfAnotherCertificate: (key, blamed) = (pki.serverKey, pki.serverKey)
            case .garbageKey: (key, blamed) = (garbage, garbage)
            case .garbageCertificate: (cert, blamed) = (garbage, garbage)
            case .emptyCertificate: (cert, blamed) = (empty, empty)
            case .garbageCA: (ca, blamed) = (garbage, garbage)
            case .keyAsCA: (ca, blamed) = (pki.clientKey, pki.clientKey)
            }
            let store: EtcdStore
            do throws(StoreError) {
                store = try EtcdStore(
                    options: EtcdOptions(endpoints: ["https://127.0.0.1:1"], caFile: ca, certFile: cert, keyFile: key),
                    logger: quietLogger)
            } catch {
                guard case .tlsConfig(let file, _) = error else { Issue.record("wrong error \(error)"); return }
                #expect(file == blamed)
                #expect(error.description.contains(blamed))
                return
            }
            try await store.shutdown()
            Issue.record("\(bad): the store accepted the TLS files")
        }
    }
}
