// --external-ip / --external-iface: routes whose gateway the external host cannot reach on-link
// are split off (and named), so the printed document installs cleanly.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Netlink
import Testing

@Suite struct OnLinkSplitTests {
    @Test func gatewaysInsideAConnectedPrefixAreReachable() throws {
        let routes = try ExternalRouteSet(leases: Fixtures.leases).routes
        let split = try OnLinkSplit(routes: routes, hostAddresses: [Fixtures.host("10.0.0.50/29"), Fixtures.host("fd00::50/64")])
        // 10.0.0.48/29 holds .48-.55: none of the v4 gateways (.10-.13).
        #expect(try split.reachable == [Fixtures.routes[4]])
        #expect(try split.unreachable.map(\.route) == Array(Fixtures.routes[0..<4]))
        #expect(try split.unreachable.first?.reason == .notOnLink(connected: [prefix("10.0.0.48/29")]))

        let wide = try OnLinkSplit(routes: routes, hostAddresses: [Fixtures.host("10.0.0.50/24"), Fixtures.host("fd00::50/64")])
        #expect(try wide.reachable == Fixtures.routes)
        #expect(wide.unreachable.isEmpty)
    }

    @Test func aHostWithoutIPv6CannotUseIPv6Routes() throws {
        let split = try OnLinkSplit(routes: Fixtures.routes, hostAddresses: [Fixtures.host("10.0.0.50/24")])
        #expect(try split.reachable == Array(Fixtures.routes[0..<4]))
        #expect(try split.unreachable == [UnreachableRoute(route: Fixtures.routes[4], reason: .noPrefixOfFamily(.v6))])
        #expect(split.unreachable[0].description.contains("node node-a"))
        #expect(split.unreachable[0].description.contains("--include-unreachable"))
    }

    @Test func theHostsOwnAddressAsGatewayIsUnreachable() throws {
        let split = try OnLinkSplit(routes: Fixtures.routes, hostAddresses: [Fixtures.host("10.0.0.11/24")])
        #expect(try split.unreachable.contains(UnreachableRoute(route: Fixtures.routes[1], reason: .gatewayIsLocal)))
    }

    @Test func includeUnreachablePutsThemBackInOrder() throws {
        // 10.0.0.8/30 holds .8-.11: node-a's and the flanneld lease's gateways only.
        let split = try OnLinkSplit(routes: Fixtures.routes, hostAddresses: [Fixtures.host("10.0.0.8/30")])
        #expect(try split.reachable == Array(Fixtures.routes[0...1]))
        #expect(try split.routes(includeUnreachable: false) == Array(Fixtures.routes[0...1]))
        #expect(try split.routes(includeUnreachable: true) == Fixtures.routes)
    }

    @Test(arguments: [
        ("10.0.0.50/24", "10.0.0.50", 24),
        ("10.0.0.50/32", "10.0.0.50", 32),
        ("fd00::50/64", "fd00::50", 64),
    ])
    func externalIPParsesAddressAndLength(text: String, address: String, length: Int) throws {
        let parsed = try #require(InterfaceAddress(externalIP: text))
        #expect(try parsed.address == ip(address))
        #expect(parsed.prefixLength == length)
    }

    @Test(arguments: ["10.0.0.50", "10.0.0.50/33", "10.0.0.50/", "/24", "10.0.0.50/24/1", "fd00::1/129", "10.0.0.50/+24", "host/24"])
    func externalIPRejectsMalformedText(text: String) {
        #expect(InterfaceAddress(externalIP: text) == nil)
    }
}
