import NetAddress
import HostGwTestSupport
import Foundation
import Netlink
import RouteSync
import Testing

@Suite struct PeerStateNamesTests {
    @Test func rawStringsAreTheStatusAndMetricsVocabulary() {
        #expect(PeerState.allCases.map(\.rawValue) == ["ok", "missing", "changed", "not-adjacent", "invalid-lease", "conflict", "pending"])
        #expect(DriftKind.allCases.map(\.rawValue) == ["missing", "changed", "unexpected", "conflict"])
    }

    @Test func peerStatusEncodesStatesAsTheirRawStrings() throws {
        let peer = try PeerStatus(
            leaseKey: "10.244.3.0-24", node: "b", family: .v4, subnet: prefix("10.244.3.0/24"), gateway: ip("10.0.0.3"),
            state: .notAdjacent, reason: "far")
        let json = try #require(String(data: try JSONEncoder().encode(peer), encoding: .utf8))
        #expect(json.contains("\"state\":\"not-adjacent\""))
        #expect(json.contains("\"subnet\":\"10.244.3.0\\/24\""))
        #expect(try JSONDecoder().decode(PeerStatus.self, from: Data(json.utf8)) == peer)
    }
}
