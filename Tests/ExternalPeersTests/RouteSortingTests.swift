// The same leases in any order give the same routes in the same order (family, then prefix), so
// a document only changes when the cluster does.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Netlink
import Testing

@Suite struct RouteSortingTests {
    @Test func inputOrderDoesNotMatter() throws {
        let reference = try ExternalRouteSet(leases: Fixtures.leases)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let shuffled = try ExternalRouteSet(leases: Fixtures.leases.shuffled(using: &generator))
            #expect(shuffled == reference)
            #expect(try ExternalRouteRenderer().render(shuffled.routes, as: .ipBatch, source: Fixtures.source)
                == ExternalRouteRenderer().render(reference.routes, as: .ipBatch, source: Fixtures.source))
        }
    }

    @Test func ipv4ComesBeforeIPv6ThenByPrefix() throws {
        let routes = try [
            ExternalRoute(destination: prefix("fd00::/64"), gateway: ip("fd01::1")),
            ExternalRoute(destination: prefix("10.244.10.0/24"), gateway: ip("10.0.0.1")),
            ExternalRoute(destination: prefix("10.244.2.0/24"), gateway: ip("10.0.0.9")),
            ExternalRoute(destination: prefix("10.244.2.0/23"), gateway: ip("10.0.0.9")),
            ExternalRoute(destination: prefix("9.0.0.0/8"), gateway: ip("10.0.0.9")),
        ]
        #expect(routes.sorted().map(\.destination.description) == [
            "9.0.0.0/8", "10.244.2.0/23", "10.244.2.0/24", "10.244.10.0/24", "fd00::/64",
        ])
    }

    @Test func theRendererSortsWhatItIsGiven() throws {
        let reversed = try ExternalRouteRenderer().render(Fixtures.routes.reversed(), as: .json, source: Fixtures.source)
        #expect(reversed == Goldens.json)
    }
}
