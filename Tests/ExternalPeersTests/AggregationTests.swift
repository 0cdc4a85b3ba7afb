// --aggregate: one covering route per family when all of that family's routes share a gateway.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Netlink
import Testing

@Suite struct AggregationTests {
    static func route(_ dest: String, _ gw: String, _ node: String? = nil) throws -> ExternalRoute {
        try ExternalRoute(destination: prefix(dest), gateway: ip(gw), node: node)
    }

    @Test func oneRouterGivesTheSmallestCoveringPrefix() throws {
        let set = try ExternalRouteSet(routes: [
            Self.route("10.244.1.0/24", "10.0.0.1", "a"),
            Self.route("10.244.2.0/24", "10.0.0.1", "b"),
            Self.route("10.244.5.0/24", "10.0.0.1", "c"),
        ])
        let result = set.aggregated()
        #expect(try result.routes == [Self.route("10.244.0.0/21", "10.0.0.1")])
        #expect(try result.notes == [.aggregated(family: .v4, count: 3, route: Self.route("10.244.0.0/21", "10.0.0.1"))])
    }

    @Test func theConfiguredPodNetworkIsUsedWhenItCoversEverySubnet() throws {
        let set = try ExternalRouteSet(routes: [
            Self.route("10.244.1.0/24", "10.0.0.1"), Self.route("10.244.2.0/24", "10.0.0.1"),
            Self.route("fd00:10:244:1::/64", "fd00::1"), Self.route("fd00:10:244:2::/64", "fd00::1"),
        ])
        let result = try set.aggregated(podNetworks: [prefix("10.244.0.0/16"), prefix("fd00:10:244::/56")])
        #expect(try result.routes == [Self.route("10.244.0.0/16", "10.0.0.1"), Self.route("fd00:10:244::/56", "fd00::1")])
    }

    @Test func aPodNetworkThatMissesASubnetFallsBackToTheCoveringPrefix() throws {
        let set = try ExternalRouteSet(routes: [Self.route("10.244.1.0/24", "10.0.0.1"), Self.route("10.245.1.0/24", "10.0.0.1")])
        let result = try set.aggregated(podNetworks: [prefix("10.244.0.0/16")])
        #expect(try result.routes == [Self.route("10.244.0.0/15", "10.0.0.1")])
        #expect(try result.notes.first == .podNetworkDoesNotCover(podNetwork: prefix("10.244.0.0/16"), subnet: prefix("10.245.1.0/24")))
    }

    @Test func severalGatewaysStayPerSubnetWhileTheOtherFamilyAggregates() throws {
        let result = try ExternalRouteSet(leases: Fixtures.leases).aggregated()
        #expect(try result.routes == Fixtures.routes.filter { $0.family == .v4 } + [Self.route("fd00:10:244:1::/64", "fd00::11", "node-a")])
        #expect(try result.notes.first == .severalGateways(
            family: .v4, gateways: ["10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13"].map { try ip($0) }))
    }

    @Test func aCoverThatWouldReplaceTheDefaultRouteIsRefused() throws {
        let routes = try [Self.route("10.244.1.0/24", "192.168.0.1"), Self.route("172.16.0.0/24", "192.168.0.1")]
        let result = ExternalRouteSet(routes: routes).aggregated()
        #expect(result.routes == routes)
        #expect(result.notes == [.coversEverything(family: .v4)])
    }

    @Test(arguments: [
        (["10.244.1.0/24"], "10.244.1.0/24"),
        (["10.244.0.0/24", "10.244.1.0/24"], "10.244.0.0/23"),
        (["10.244.1.0/24", "10.244.2.0/24"], "10.244.0.0/22"),
        (["10.244.3.0/24", "10.244.0.0/16"], "10.244.0.0/16"),
        (["fd00:0:0:1::/64", "fd00:0:0:ff::/64"], "fd00::/56"),
        (["fd00::/64", "fe00::/64"], "fc00::/6"),
    ])
    func smallestCoveringPrefix(inputs: [String], expected: String) throws {
        #expect(try ExternalRouteSet.smallestCoveringPrefix(inputs.map { try prefix($0) }) == prefix(expected))
    }

    @Test func mixedFamiliesHaveNoCover() throws {
        #expect(try ExternalRouteSet.smallestCoveringPrefix([prefix("10.0.0.0/8"), prefix("fd00::/8")]) == nil)
        #expect(ExternalRouteSet.smallestCoveringPrefix([]) == nil)
    }
}
