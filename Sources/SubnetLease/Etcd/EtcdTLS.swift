// TLS for the etcd client: every file is read and checked when the store is made, so a bad CA,
// certificate or key is reported by name at startup, not as an unreachable endpoint later.
import Foundation
import NIOSSL
import NIOCore

extension EtcdStore {
    static func tlsConfiguration(_ options: EtcdOptions) throws(StoreError) -> TLSConfiguration? {
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
}

/// Fails a TLS handshake in which etcd asks for a client certificate that is not configured.
struct ClientCertificateRequested: Error {}
