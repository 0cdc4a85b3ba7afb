import NetAddress
import HostGwTestSupport
import Netlink
import RouteSync
import SubnetLease
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// 5,000 peers (/24s of a /11) and 5,000 foreign routes in the table: the pure core must give the
/// exact plan at this size (it was O(peers x routes) before the overlap index; its speed is
/// printed here and belongs to a benchmark).
@Suite struct ScaleTests {
    @Test func fiveThousandPeersPlanQuickly() throws {
        var config = try RouteSyncConfig(podNetworks: [.v4: prefix("10.32.0.0/11")], localSubnets: [prefix("10.32.0.0/24")])
        config.subnetLengths = [.v4: 24]
        let addresses = try [address("172.16.0.1/16", on: 2)]
        let leases = try (1...5000).map { n in
            try lease("10.\(32 + n / 256).\(n % 256).0/24", via: "172.16.\(n / 256).\(n % 256 == 0 ? 1 : n % 256)", node: "n\(n)")
        }
        // Half the routes already in, a few hundred wrong, plus 5,000 foreign host routes elsewhere.
        let foreign = try (0..<5000).map { n in
            try Route(destination: prefix("192.168.\(n / 256).\(n % 256)/32"), gateway: ip("172.16.0.254"), protocol: .static)
        }
        let clock = ContinuousClock()
        var desired = DesiredRoutes(routes: [], peers: [])
        let desiredTime = clock.measure {
            desired = DesiredRoutes(leases: leases, config: config, links: nodeLinks, addresses: addresses)
        }
        #expect(desired.routes.count > 4900)
        var actual = Array(desired.routes.prefix(2500))
        for i in stride(from: 0, to: 2500, by: 10) { actual[i].gateway = try ip("172.16.255.254") }
        actual += foreign
        var result = RoutePlan()
        let pods = [try prefix("10.32.0.0/11")]
        let planTime = clock.measure {
            result = plan(desired: desired.routes, actual: actual, protocol: .hostgw, podNetworks: pods)
        }
        #expect(result.changes.count == desired.routes.count - 2500 + 250)
        // Durations are reported, not asserted: on a shared, loaded machine wall time says little,
        // and the project keeps timing targets in benchmarks, not in tests.
        print("scale: desired for \(leases.count) leases in \(desiredTime), plan over \(actual.count) routes in \(planTime)")
    }
}
