// Opening the configured store: for the agent (read-write) and for the admin commands, which
// open it, run one body and close it, with store and config errors turned into exit codes.
import Foundation
import Logging
import SubnetLease

/// Whether a command may change the store. The commands that only look (status, check, leases,
/// routes, config show) open the embedded store read-only, so they never create one.
enum StoreAccess {
    case readOnly
    case readWrite
}

/// Opens the configured store.
func makeStore(_ s: StoreSettings, access: StoreAccess, logger: Logger) throws -> any SubnetStore {
    switch s.backend {
    case .embedded(let path):
        return try EmbeddedStore(path: path, readOnly: access == .readOnly, logger: logger)
    case .etcd(let e):
        return try EtcdStore(
            options: EtcdOptions(
                endpoints: e.endpoints.map(\.absoluteString), caFile: e.caFile, certFile: e.certFile, keyFile: e.keyFile,
                username: e.username, password: e.password, requestTimeout: e.timeout),
            logger: logger)
    }
}

/// Opens the store, runs `body`, closes the store; store errors end the command with 69 and the
/// store named, config errors with 65.
func withStore(_ s: StoreSettings, access: StoreAccess, _ body: (any SubnetStore) async throws -> Void) async throws {
    let store: any SubnetStore
    do {
        store = try makeStore(s, access: access, logger: adminLogger())
    } catch let e as StoreError {
        if case .missing = e { try fail("\(e)", code: ExitStatus.unavailable) }
        try fail("cannot open the store (\(s.summary)): \(e)", code: ExitStatus.unavailable)
    } catch {
        try fail("cannot open the store (\(s.summary)): \(error)", code: ExitStatus.unavailable)
    }
    // Closed on every way out, an ended command (`fail`, `ExitCode`) included.
    do {
        try await body(store)
    } catch {
        await closeStore(store)
        switch error {
        case let e as ConfigError: try fail("\(e)", code: ExitStatus.dataError)
        case let e as StoreError: try fail("store \(s.summary): \(e)", code: ExitStatus.unavailable)
        default: throw error
        }
    }
    await closeStore(store)
}

func closeStore(_ store: any SubnetStore) async {
    try? await store.shutdown()
}
