// The status JSON keeps its shape now that the counts are keyed by DriftKind and PeerState:
// objects keyed by the raw values, as `hostgw status --json` consumers read them.
import HostGwTestSupport
import Foundation
import NetAddress
import Netlink
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

    /// lastErrno is an Errno now; in JSON it is still the name, and it reads back.
    @Test func lastErrnoIsTheErrnoName() throws {
        let peer = try PeerStatus(
            leaseKey: "10.244.2.0-24", node: "b", family: .v4, subnet: prefix("10.244.2.0/24"), gateway: nil, state: .missing,
            lastError: "add ...: ENETUNREACH", lastErrno: .ENETUNREACH)
        let unnamed = try PeerStatus(
            leaseKey: "10.244.3.0-24", node: "c", family: .v4, subnet: prefix("10.244.3.0/24"), gateway: nil, state: .missing,
            lastErrno: Errno(rawValue: 200))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try #require(String(data: try encoder.encode([peer, unnamed]), encoding: .utf8))
        #expect(json.contains(#""lastErrno":"ENETUNREACH""#), "\(json)")
        #expect(json.contains(#""lastErrno":"errno 200""#), "\(json)")
        #expect(try JSONDecoder().decode([PeerStatus].self, from: Data(json.utf8)) == [peer, unnamed])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Errno.self, from: Data(#""ENOTANERRNO""#.utf8))
        }
    }
}
