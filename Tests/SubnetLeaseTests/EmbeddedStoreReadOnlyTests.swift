// The read-only open of the embedded store (status, check, leases, routes, config show) reads a
// file as the previous release wrote it: without the store_id and clock tables, which only a
// writer adds. Nothing is written to it.
import Foundation
import HostGwTestSupport
import Testing

@testable import SubnetLease

@Suite struct EmbeddedStoreReadOnlyTests {
    /// The schema of the release before store ids and the clock record, with one key in it.
    static let previousReleaseFile = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL, compacted INTEGER NOT NULL);
        INSERT INTO meta (id, revision, compacted) VALUES (1, 2, 0);
        CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, create_revision INTEGER NOT NULL,
            mod_revision INTEGER NOT NULL, ttl_ms INTEGER, expires_at REAL);
        CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
        CREATE TABLE events (revision INTEGER PRIMARY KEY, key TEXT NOT NULL, deleted INTEGER NOT NULL, value BLOB,
            create_revision INTEGER, ttl_ms INTEGER, expires_at REAL);
        INSERT INTO kv (key, value, create_revision, mod_revision) VALUES ('/p/a', CAST('v' AS BLOB), 2, 2);
        """

    @Test func aFileOfThePreviousReleaseIsReadAndLeftAsItWas() async throws {
        let dir = try tempDirectory("ro-legacy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/store.db"
        let created = try await ProcessRunner.runSuspending(["sqlite3", path, Self.previousReleaseFile])
        try #require(created.status == 0, "\(created)")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let store = try EmbeddedStore(path: path, readOnly: true, logger: quietLogger)
        let listed = try await store.range(prefix: "/p/")
        #expect(listed.entries.map(\.key) == ["/p/a"])
        #expect(listed.revision == 2)
        #expect(try await store.get(key: "/p/a")?.value == Data("v".utf8))
        try await store.checkHealth()
        try await store.shutdown()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "a read-only open wrote to the file")
        let tables = try await ProcessRunner.runSuspending(["sqlite3", path, ".tables"]).stdout
        #expect(!tables.contains("clock") && !tables.contains("store_id"), "tables: \(tables)")
    }

    @Test func aMissingFileIsMissingAndNothingIsCreated() throws {
        let dir = try tempDirectory("ro-missing")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sub/store.db"
        #expect(throws: StoreError.self) { _ = try EmbeddedStore(path: path, readOnly: true, logger: quietLogger) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/sub"))
    }
}
