// Leases become one route per subnet and family; anything unusable is left out with a warning
// that names the lease, never silently.
import NetAddress
import ExternalPeers
import Foundation
import Netlink
import SubnetLease
import Testing

@Suite struct RouteDerivationTests {
    @Test func dualStackLeasesGiveOneRoutePerFamily() {
        let set = ExternalRouteSet(leases: Fixtures.leases)
        #expect(set.routes == Fixtures.routes)
    }

    @Test func aLeaseWithoutAnIPv6GatewayKeepsItsIPv4RouteAndWarns() {
        let set = ExternalRouteSet(leases: Fixtures.leases)
        #expect(set.warnings == [
            .missingGateway(lease: "10.244.3.0-24&fd00:10:244:3::-64", node: "node-c", family: .v6, subnet: Fixtures.prefix("fd00:10:244:3::/64"))
        ])
        #expect(set.routes.contains { $0.node == "node-c" && $0.family == .v4 })
        #expect(!set.routes.contains { $0.node == "node-c" && $0.family == .v6 })
        let text = set.warnings.map(\.description).joined()
        #expect(text.contains("node-c") && text.contains("PublicIPv6"))
    }

    @Test func aLeaseWithNoGatewayAtAllIsSkipped() {
        let set = ExternalRouteSet(leases: [Fixtures.lease("10.244.9.0/24", gateway: nil, node: "node-x")])
        #expect(set.routes.isEmpty)
        #expect(set.warnings == [.missingGateway(lease: "10.244.9.0-24", node: "node-x", family: .v4, subnet: Fixtures.prefix("10.244.9.0/24"))])
    }

    @Test func aLeaseWithoutSubnetIsSkipped() {
        let set = ExternalRouteSet(leases: [Fixtures.lease(nil, gateway: "10.0.0.9", node: "node-x")])
        #expect(set.routes.isEmpty)
        #expect(set.warnings == [.noSubnet(lease: "", node: "node-x")])
    }

    @Test func aGatewayInsideItsOwnSubnetIsSkipped() {
        let set = ExternalRouteSet(leases: [Fixtures.lease("10.244.9.0/24", gateway: "10.244.9.1", node: "node-x")])
        #expect(set.routes.isEmpty)
        #expect(set.warnings == [.gatewayInsideSubnet(lease: "10.244.9.0-24", node: "node-x", subnet: Fixtures.prefix("10.244.9.0/24"), gateway: Fixtures.address("10.244.9.1"))])
    }

    @Test func expiredLeasesAreSkippedOnlyWhenACurrentTimeIsGiven() {
        let expired = Fixtures.lease("10.244.9.0/24", gateway: "10.0.0.9", node: "old", expiration: Fixtures.time.addingTimeInterval(-1))
        let reservation = Fixtures.lease("10.244.8.0/24", gateway: "10.0.0.8", node: "reserved", expiration: nil)
        let withoutClock = ExternalRouteSet(leases: [expired, reservation])
        #expect(withoutClock.routes.count == 2)
        let withClock = ExternalRouteSet(leases: [expired, reservation], now: Fixtures.time)
        #expect(withClock.routes.map(\.node) == ["reserved"])
        #expect(withClock.warnings == [.expired(lease: "10.244.9.0-24", node: "old", expiration: Fixtures.time.addingTimeInterval(-1))])
    }

    @Test func ofTwoLeasesForOneSubnetTheOlderClaimIsKept() {
        // Distinct keys cannot repeat an IPv4 subnet, but the IPv6 halves of two keys can collide.
        // The older claim holds it (SubnetClaims: the agents' rule, no longer the lower gateway),
        // and the younger lease gives way in both families, as in the agents' lease snapshot.
        var a = Fixtures.lease("10.244.1.0/24", "fd00:10:244:1::/64", gateway: "10.0.0.11", gateway6: "fd00::11", node: "a")
        var b = Fixtures.lease("10.244.2.0/24", "fd00:10:244:1::/64", gateway: "10.0.0.12", gateway6: "fd00::12", node: "b")
        a.createRevision = 20
        b.createRevision = 10
        let set = ExternalRouteSet(leases: [a, b])
        #expect(set.routes == [
            ExternalRoute(destination: Fixtures.prefix("10.244.2.0/24"), gateway: Fixtures.address("10.0.0.12"), node: "b"),
            ExternalRoute(destination: Fixtures.prefix("fd00:10:244:1::/64"), gateway: Fixtures.address("fd00::12"), node: "b"),
        ])
        #expect(set.warnings.count == 2)
        #expect(set.warnings.contains(
            .duplicateSubnet(subnet: Fixtures.prefix("fd00:10:244:1::/64"), kept: Fixtures.address("fd00::12"), dropped: Fixtures.address("fd00::11"), droppedNode: "a")))
    }

    @Test func noLeasesGiveAnEmptyDocumentInEveryFormat() throws {
        let set = ExternalRouteSet(leases: [])
        #expect(set.routes.isEmpty && set.warnings.isEmpty)
        for format in ExternalRouteFormat.allCases {
            let text = try ExternalRouteRenderer().render([], as: format, source: Fixtures.source)
            #expect(text.contains("routes: 0") || text.contains("\"routes\" : ["), "\(format.rawValue)")
        }
    }
}
