// Leases become one route per subnet and family; anything unusable is left out with a warning
// that names the lease, never silently.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Foundation
import Netlink
import SubnetLease
import Testing

@Suite struct RouteDerivationTests {
    @Test func dualStackLeasesGiveOneRoutePerFamily() throws {
        let set = try ExternalRouteSet(leases: Fixtures.leases)
        #expect(try set.routes == Fixtures.routes)
    }

    @Test func aLeaseWithoutAnIPv6GatewayKeepsItsIPv4RouteAndWarns() throws {
        let set = try ExternalRouteSet(leases: Fixtures.leases)
        #expect(try set.warnings == [
            .missingGateway(lease: "10.244.3.0-24&fd00:10:244:3::-64", node: "node-c", family: .v6, subnet: prefix("fd00:10:244:3::/64"))
        ])
        #expect(set.routes.contains { $0.node == "node-c" && $0.family == .v4 })
        #expect(!set.routes.contains { $0.node == "node-c" && $0.family == .v6 })
        let text = set.warnings.map(\.description).joined()
        #expect(text.contains("node-c") && text.contains("PublicIPv6"))
    }

    @Test func aLeaseWithNoGatewayAtAllIsSkipped() throws {
        let set = try ExternalRouteSet(leases: [Fixtures.lease("10.244.9.0/24", gateway: nil, node: "node-x")])
        #expect(set.routes.isEmpty)
        #expect(try set.warnings == [.missingGateway(lease: "10.244.9.0-24", node: "node-x", family: .v4, subnet: prefix("10.244.9.0/24"))])
    }

    @Test func aLeaseWithoutSubnetIsSkipped() throws {
        let set = try ExternalRouteSet(leases: [Fixtures.lease(nil, gateway: "10.0.0.9", node: "node-x")])
        #expect(set.routes.isEmpty)
        #expect(set.warnings == [.noSubnet(lease: "", node: "node-x")])
    }

    @Test func aGatewayInsideItsOwnSubnetIsSkipped() throws {
        let set = try ExternalRouteSet(leases: [Fixtures.lease("10.244.9.0/24", gateway: "10.244.9.1", node: "node-x")])
        #expect(set.routes.isEmpty)
        #expect(try set.warnings == [.gatewayInsideSubnet(lease: "10.244.9.0-24", node: "node-x", subnet: prefix("10.244.9.0/24"), gateway: ip("10.244.9.1"))])
    }

    @Test func expiredLeasesAreSkippedOnlyWhenACurrentTimeIsGiven() throws {
        let expired = try Fixtures.lease("10.244.9.0/24", gateway: "10.0.0.9", node: "old", expiration: Fixtures.time.addingTimeInterval(-1))
        let reservation = try Fixtures.lease("10.244.8.0/24", gateway: "10.0.0.8", node: "reserved", expiration: nil)
        let withoutClock = ExternalRouteSet(leases: [expired, reservation])
        #expect(withoutClock.routes.count == 2)
        let withClock = ExternalRouteSet(leases: [expired, reservation], now: Fixtures.time)
        #expect(withClock.routes.map(\.node) == ["reserved"])
        #expect(withClock.warnings == [.expired(lease: "10.244.9.0-24", node: "old", expiration: Fixtures.time.addingTimeInterval(-1))])
    }

    @Test func ofTwoLeasesForOneSubnetTheOlderClaimIsKept() throws {
        // Distinct keys cannot repeat an IPv4 subnet, but the IPv6 halves of two keys can collide.
        // The older claim holds it (SubnetClaims: the agents' rule, no longer the lower gateway),
        // and the younger lease gives way in both families, as in the agents' lease snapshot.
        var a = try Fixtures.lease("10.244.1.0/24", "fd00:10:244:1::/64", gateway: "10.0.0.11", gateway6: "fd00::11", node: "a")
        var b = try Fixtures.lease("10.244.2.0/24", "fd00:10:244:1::/64", gateway: "10.0.0.12", gateway6: "fd00::12", node: "b")
        a.createRevision = 20
        b.createRevision = 10
        let set = ExternalRouteSet(leases: [a, b])
        #expect(try set.routes == [
            ExternalRoute(destination: prefix("10.244.2.0/24"), gateway: ip("10.0.0.12"), node: "b"),
            ExternalRoute(destination: prefix("fd00:10:244:1::/64"), gateway: ip("fd00::12"), node: "b"),
        ])
        #expect(set.warnings.count == 2)
        #expect(try set.warnings.contains(
            .duplicateSubnet(subnet: prefix("fd00:10:244:1::/64"), kept: ip("fd00::12"), dropped: ip("fd00::11"), droppedNode: "a")))
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
