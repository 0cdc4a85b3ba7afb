// The status JSON keeps its shape now that the counts are keyed by DriftKind and PeerState:
// objects keyed by the raw values, as `hostgw status --json` consumers read them.
import Foundation
import RouteSync
import Testing

@Suite struct StatusJSONTests {
    @Test func countsAreObjectsKeyedByTheRawValues() throws {
        let status = RouteSyncStatus(
            observeOnly: false, peers: [], routesInstalled: 0, recentDrift: [], driftCounts: [.missing: 2, .changed: 0],
            peerCounts: [.ok: 3], lastFullSync: nil, lastPassDurationSeconds: nil, lastPassError: nil, passes: 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try #require(String(data: try encoder.encode(status), encoding: .utf8))
        #expect(json.contains(#""driftCounts":{"changed":0,"missing":2}"#), "\(json)")
        #expect(json.contains(#""peerCounts":{"ok":3}"#), "\(json)")
        #expect(try JSONDecoder().decode(RouteSyncStatus.self, from: Data(json.utf8)) == status)
    }
}
