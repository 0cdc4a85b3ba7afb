import NetAddress
import HostGwTestSupport
import Netlink
import RouteSync
import Testing

@Suite struct RoutePlanTests {
    let b: Route
    let c: Route
    let kernelConnected: Route
    let defaultRoute: Route

    init() throws {
        b = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2")
        c = try hostgwRoute("10.244.3.0/24", via: "10.0.0.3")
        kernelConnected = Route(destination: try prefix("10.0.0.0/24"), outputInterface: 2, protocol: .kernel, scope: .link)
        defaultRoute = Route(destination: try prefix("0.0.0.0/0"), gateway: try ip("10.0.0.254"), outputInterface: 2, protocol: .boot)
    }

    @Test func missingRoutesAreAddedAndNothingElseChanges() {
        let p = plan(desired: [b, c], actual: [kernelConnected, defaultRoute, b], protocol: .hostgw)
        #expect(p.changes == [RouteChange(.add, c)])
        #expect(p.conflicts.isEmpty)
    }

    @Test func alteredRouteOfOursIsReplaced() throws {
        var wrong = b
        wrong.gateway = try ip("10.0.0.9")
        var mtu = c
        mtu.mtu = 1400
        let p = plan(desired: [b, c], actual: [wrong, mtu], protocol: .hostgw)
        #expect(p.changes == [RouteChange(.replace, b), RouteChange(.replace, c)])
    }

    @Test func routeOfOursWithoutLeaseIsDeletedDeletesFirst() throws {
        let stale = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let p = plan(desired: [b], actual: [stale], protocol: .hostgw)
        #expect(p.changes == [RouteChange(.delete, stale), RouteChange(.add, b)])
    }

    @Test func secondPassOverTheResultIsEmpty() throws {
        var wrong = b
        wrong.outputInterface = 7
        let stale = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let actual = [wrong, stale, kernelConnected, defaultRoute]
        let first = plan(desired: [b, c], actual: actual, protocol: .hostgw)
        #expect(!first.isEmpty)
        // What the kernel holds after the first plan.
        let after = [kernelConnected, defaultRoute, b, c]
        #expect(plan(desired: [b, c], actual: after, protocol: .hostgw).isEmpty)
    }

    @Test func ipv6DefaultMetricMatchesAnUnsetOne() throws {
        let want = try hostgwRoute("fd10:244:0:2::/64", via: "fd00::2")
        var dumped = want
        dumped.priority = 1024
        #expect(plan(desired: [want], actual: [dumped], protocol: .hostgw).isEmpty)
    }

    @Test func oursAtAnotherMetricIsDeletedAndTheWantedOneAdded() {
        var other = b
        other.priority = 50
        let p = plan(desired: [b], actual: [other], protocol: .hostgw)
        #expect(p.changes == [RouteChange(.delete, other), RouteChange(.add, b)])
    }

    @Test(arguments: ["10.244.2.0/24", "10.244.2.128/25", "10.244.2.7/32", "10.244.0.0/20"])
    func foreignRouteOverlappingASubnetIsAConflictAndBlocksOurs(_ foreignPrefix: String) throws {
        let foreign = try Route(destination: prefix(foreignPrefix), gateway: ip("10.0.0.77"), outputInterface: 2, protocol: .static)
        let p = try plan(desired: [b, c], actual: [foreign, b], protocol: .hostgw, podNetworks: [prefix("10.244.0.0/16")])
        #expect(try p.conflicts.map(\.desired.destination).contains(prefix("10.244.2.0/24")))
        #expect(try p.conflict(for: prefix("10.244.2.0/24"))?.foreign == [foreign])
        // Our route over it goes, and nothing touches the foreign one.
        #expect(p.changes.contains(RouteChange(.delete, b)))
        #expect(!p.changes.contains { $0.route.protocol != .hostgw })
        #expect(try p.upsert(for: prefix("10.244.2.0/24")) == nil)
    }

    @Test func lookupAgreesWithThePerDestinationQueries() throws {
        var wrong = c
        wrong.gateway = try ip("10.0.0.9")
        let d = try hostgwRoute("10.244.4.0/24", via: "10.0.0.4")
        let stale = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let foreign = try Route(destination: prefix("10.244.2.0/24"), gateway: ip("10.0.0.77"), outputInterface: 2, protocol: .static)
        let p = try plan(desired: [b, c, d], actual: [foreign, wrong, stale], protocol: .hostgw, podNetworks: [prefix("10.244.0.0/16")])
        let (upserts, conflicts) = p.lookup()
        for destination in [b, c, d, stale].map(\.destination) {
            #expect(upserts[destination].map { p.changes[$0] } == p.upsert(for: destination), "\(destination)")
            #expect(conflicts[destination] == p.conflict(for: destination), "\(destination)")
        }
        #expect(upserts.count == 2)  // c replaced, d added; b blocked, stale only deleted
        #expect(try conflicts.keys.sorted() == [prefix("10.244.2.0/24")])
    }

    @Test func aggregateAndDefaultRoutesAreNotConflicts() throws {
        let podWide = try Route(destination: prefix("10.244.0.0/16"), outputInterface: 2, protocol: .boot)
        let wide = try Route(destination: prefix("10.0.0.0/8"), gateway: ip("10.0.0.254"), protocol: .static)
        let p = try plan(desired: [b], actual: [podWide, wide, defaultRoute], protocol: .hostgw, podNetworks: [prefix("10.244.0.0/16")])
        #expect(p.conflicts.isEmpty)
        #expect(p.changes == [RouteChange(.add, b)])
    }

    @Test func neverEmitsAChangeForAForeignRoute() throws {
        let foreign = try [
            Route(destination: prefix("10.244.2.0/24"), gateway: ip("10.0.0.5"), protocol: .static),
            Route(destination: prefix("10.244.9.0/24"), gateway: ip("10.0.0.5"), protocol: .boot),
            Route(destination: prefix("10.244.10.0/24"), gateway: ip("10.0.0.5"), protocol: RouteProtocol(12)),
        ]
        let p = plan(desired: [], actual: foreign, protocol: .hostgw)
        #expect(p.changes.isEmpty)
    }
}
