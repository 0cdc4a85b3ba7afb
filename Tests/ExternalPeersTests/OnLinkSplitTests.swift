// --external-ip / --external-iface: routes whose gateway the external host cannot reach on-link
// are split off (and named), so the printed document installs cleanly.
import NetAddress
import ExternalPeers
import Netlink
import Testing

@Suite struct OnLinkSplitTests {
    static func host(_ text: String) -> InterfaceAddress {
        guard let a = InterfaceAddress(externalIP: text) else { fatalError("bad --external-ip in test: \(text)") }
        return a
    }

    @Test func gatewaysInsideAConnectedPrefixAreReachable() {
        let routes = ExternalRouteSet(leases: Fixtures.leases).routes
        let split = OnLinkSplit(routes: routes, hostAddresses: [Self.host("10.0.0.50/29"), Self.host("fd00::50/64")])
        // 10.0.0.48/29 holds .48-.55: none of the v4 gateways (.10-.13).
        #expect(split.reachable == [Fixtures.routes[4]])
        #expect(split.unreachable.map(\.route) == Array(Fixtures.routes[0..<4]))
        #expect(split.unreachable.first?.reason == .notOnLink(connected: [Fixtures.prefix("10.0.0.48/29")]))

        let wide = OnLinkSplit(routes: routes, hostAddresses: [Self.host("10.0.0.50/24"), Self.host("fd00::50/64")])
        #expect(wide.reachable == Fixtures.routes)
        #expect(wide.unreachable.isEmpty)
    }

    @Test func aHostWithoutIPv6CannotUseIPv6Routes() {
        let split = OnLinkSplit(routes: Fixtures.routes, hostAddresses: [Self.host("10.0.0.50/24")])
        #expect(split.reachable == Array(Fixtures.routes[0..<4]))
        #expect(split.unreachable == [UnreachableRoute(route: Fixtures.routes[4], reason: .noPrefixOfFamily(.v6))])
        #expect(split.unreachable[0].description.contains("node node-a"))
        #expect(split.unreachable[0].description.contains("--include-unreachable"))
    }

    @Test func theHostsOwnAddressAsGatewayIsUnreachable() {
        let split = OnLinkSplit(routes: Fixtures.routes, hostAddresses: [Self.host("10.0.0.11/24")])
        #expect(split.unreachable.contains(UnreachableRoute(route: Fixtures.routes[1], reason: .gatewayIsLocal)))
    }

    @Test func includeUnreachablePutsThemBackInOrder() {
        // 10.0.0.8/30 holds .8-.11: node-a's and the flanneld lease's gateways only.
        let split = OnLinkSplit(routes: Fixtures.routes, hostAddresses: [Self.host("10.0.0.8/30")])
        #expect(split.reachable == Array(Fixtures.routes[0...1]))
        #expect(split.routes(includeUnreachable: false) == Array(Fixtures.routes[0...1]))
        #expect(split.routes(includeUnreachable: true) == Fixtures.routes)
    }

    @Test(arguments: [
        ("10.0.0.50/24", "10.0.0.50", 24),
        ("10.0.0.50/32", "10.0.0.50", 32),
        ("fd00::50/64", "fd00::50", 64),
    ])
    func externalIPParsesAddressAndLength(text: String, address: String, length: Int) throws {
        let parsed = try #require(InterfaceAddress(externalIP: text))
        #expect(parsed.address == Fixtures.address(address))
        #expect(parsed.prefixLength == length)
    }

    @Test(arguments: ["10.0.0.50", "10.0.0.50/33", "10.0.0.50/", "/24", "10.0.0.50/24/1", "fd00::1/129", "10.0.0.50/+24", "host/24"])
    func externalIPRejectsMalformedText(text: String) {
        #expect(InterfaceAddress(externalIP: text) == nil)
    }
}
