// etcd as a production cluster runs it: https only, a client certificate required, optionally
// user/password auth on top. Everything the agent does must work through that.
import HostGwTestSupport
import NetAddress
import Foundation
import SubnetLease
import Testing

@Suite struct EtcdTLSTests {
    @Test func clientCertificateCreatesGetsRangesAndWatches() async throws {
        try await withTLSEtcd { cluster, pki in
            let endpoint = cluster.clientURLs[0]
            #expect(endpoint.hasPrefix("https://"))
            let options = EtcdOptions(endpoints: [endpoint], caFile: pki.ca.certFile, certFile: pki.clientCert, keyFile: pki.clientKey)
            try await withEtcdStore(options) { store in
                try await store.checkHealth()
                let created = try #require(try await store.create(key: "/tls/a", value: Data("1".utf8), ttl: .seconds(60)))
                #expect(created.hasTTL)
                #expect(try await store.create(key: "/tls/a", value: Data("2".utf8), ttl: nil) == nil)
                #expect(try await store.get(key: "/tls/a")?.value == Data("1".utf8))
                let listed = try await store.range(prefix: "/tls/")
                #expect(listed.entries.map(\.key) == ["/tls/a"])
                #expect(listed.revision >= created.modRevision)

                // From the next revision on, so the put is seen whether or not the watch is
                // established before it lands.
                let watch = store.watch(prefix: "/tls/", fromRevision: listed.revision + 1)
                try await cluster.put("/tls/b", "from-etcdctl")
                let batch = try await firstBatch(watch)
                guard case .put(let entry)? = batch.events.first else {
                    Issue.record("expected a put, got \(batch.events)")
                    return
                }
                #expect(entry.key == "/tls/b")
                #expect(entry.value == Data("from-etcdctl".utf8))
            }
        }
    }

    /// etcd's JSON gateway refuses client certificates with a CommonName once auth is enabled
    /// (CVE-2018-16886), so password auth over client-certificate TLS needs a certificate without CN.
    @Test func passwordAuthOverTLS() async throws {
        try await withTLSEtcd { cluster, pki in
            let endpoint = cluster.clientURLs[0]
            #expect(try await cluster.etcdctl(["--endpoints", endpoint, "user", "add", "root:tls-s3cret"]).status == 0)
            #expect(try await cluster.etcdctl(["--endpoints", endpoint, "auth", "enable"]).status == 0)
            func options(_ user: String?, _ password: String?) -> EtcdOptions {
                EtcdOptions(
                    endpoints: [endpoint], caFile: pki.ca.certFile, certFile: pki.anonymousClientCert, keyFile: pki.anonymousClientKey,
                    username: user, password: password)
            }

            try await withEtcdStore(options("root", "tls-s3cret")) { store in
                _ = try await store.put(key: "/tls/auth", value: Data("ok".utf8))
                #expect(try await store.get(key: "/tls/auth")?.value == Data("ok".utf8))
            }
            // Proof that the write above really went through auth: etcdctl without a user is refused.
            #expect(try await cluster.etcdctl(["--endpoints", endpoint, "get", "/tls/auth"]).status != 0)
            #expect(try await cluster.etcdctl(["--endpoints", endpoint, "--user", "root:tls-s3cret", "get", "/tls/auth"]).stdout.contains("ok"))

            try await withEtcdStore(options("root", "wrong")) { store in
                do {
                    _ = try await store.get(key: "/tls/auth")
                    Issue.record("wrong password accepted over TLS")
                } catch let error as StoreError {
                    guard case .auth(let named, _) = error else { Issue.record("wrong error \(error)"); return }
                    #expect(named == endpoint)
                }
            }
            // A valid client certificate alone is no login.
            try await withEtcdStore(options(nil, nil)) { store in
                _ = await #expect(throws: StoreError.self) { try await store.get(key: "/tls/auth") }
            }
            // The right password with a CN certificate: etcd refuses, and the error says why.
            var withCN = options("root", "tls-s3cret")
            (withCN.certFile, withCN.keyFile) = (pki.clientCert, pki.clientKey)
            try await withEtcdStore(withCN) { store in
                do {
                    _ = try await store.get(key: "/tls/auth")
                    Issue.record("etcd's gateway accepted a CN client certificate with auth enabled")
                } catch let error as StoreError {
                    guard case .auth(let named, let message) = error else { Issue.record("wrong error \(error)"); return }
                    #expect(named == endpoint)
                    #expect(message.contains("CommonName"))
                    #expect(message.contains(pki.clientCert))
                }
            }
        }
    }
}
