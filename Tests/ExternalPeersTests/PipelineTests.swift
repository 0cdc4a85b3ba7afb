// The CLI's whole pipeline: unreachable routes are left out (and named) unless asked for, and
// aggregation only ever uses reachable gateways.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Netlink
import SubnetLease
import Testing

@Suite struct PipelineTests {
    @Test func withoutFlagsTheDocumentIsTheGolden() throws {
        let document = try ExternalRoutesDocument(leases: Fixtures.leases, source: Fixtures.source, settings: .init(format: .ipBatch))
        #expect(document.text == Goldens.ipBatch)
        #expect(document.notices.count == 1)  // node-c's missing IPv6 gateway
    }

    @Test func unreachableRoutesAreLeftOutAndNamed() throws {
        let settings = try ExternalRoutesSettings(format: .json, hostAddresses: [Fixtures.host("10.0.0.50/24")])
        let document = try ExternalRoutesDocument(leases: Fixtures.leases, source: Fixtures.source, settings: settings)
        #expect(try document.routes == Array(Fixtures.routes[0..<4]))
        #expect(!document.text.contains("fd00:10:244:1::/64"))
        #expect(try document.notices.contains(.unreachable(UnreachableRoute(route: Fixtures.routes[4], reason: .noPrefixOfFamily(.v6)), included: false)))
    }

    @Test func includeUnreachablePrintsThemWithANotice() throws {
        let settings = try ExternalRoutesSettings(format: .json, hostAddresses: [Fixtures.host("10.0.0.50/24")], includeUnreachable: true)
        let document = try ExternalRoutesDocument(leases: Fixtures.leases, source: Fixtures.source, settings: settings)
        #expect(try document.routes == Fixtures.routes)
        #expect(document.notices.contains { if case .unreachable(_, included: true) = $0 { true } else { false } })
    }

    @Test func aggregationUsesOnlyTheReachableRouter() throws {
        // Two nodes behind router 10.0.0.1 (reachable) and one lease via 192.0.2.9 (not on-link).
        let leases = try [
            Fixtures.lease("10.244.1.0/24", gateway: "10.0.0.1", node: "a"),
            Fixtures.lease("10.244.2.0/24", gateway: "10.0.0.1", node: "b"),
            Fixtures.lease("10.244.3.0/24", gateway: "192.0.2.9", node: "far"),
        ]
        let settings = try ExternalRoutesSettings(
            format: .ipBatch, hostAddresses: [Fixtures.host("10.0.0.50/24")], aggregate: true,
            podNetworks: [prefix("10.244.0.0/16")])
        let document = try ExternalRoutesDocument(leases: leases, source: Fixtures.source, settings: settings)
        #expect(try document.routes == [ExternalRoute(destination: prefix("10.244.0.0/16"), gateway: ip("10.0.0.1"))])
        #expect(document.text.contains("\nroute replace 10.244.0.0/16 via 10.0.0.1 proto 77\n"))
        #expect(document.notices.count == 2)
    }
}
