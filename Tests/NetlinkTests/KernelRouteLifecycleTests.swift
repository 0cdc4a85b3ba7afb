// Add, replace, list and delete real routes, IPv4 and IPv6, each test in its own namespace.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

@Suite(.needsRoot)
struct KernelRouteLifecycleTests {
    @Test func ipv4AddReplaceDelete() throws {
        let lab = try Lab("nl-v4")
        defer { lab.namespace.delete() }
        let route = try lab.route("10.244.3.0/24", via: "10.250.0.2")
        try lab.socket.add(route)

        let listed = try lab.socket.routes(family: .v4, protocol: .hostgw)
        #expect(listed == [route])
        #expect(try lab.ipRoutes() == ["10.244.3.0/24 via 10.250.0.2 dev hgw0 "])

        var changed = route
        changed.gateway = try ip("10.250.0.3")
        changed.mtu = 1400
        try lab.socket.replace(changed)
        #expect(try lab.socket.routes(family: .v4, protocol: .hostgw) == [changed])
        #expect(try lab.ipRoutes() == ["10.244.3.0/24 via 10.250.0.3 dev hgw0 mtu 1400 "])

        try lab.socket.delete(changed)
        #expect(try lab.socket.routes(family: .v4, protocol: .hostgw).isEmpty)
        #expect(try lab.ipRoutes().isEmpty)
    }

    @Test func addingTwiceFailsWithEEXIST() throws {
        let lab = try Lab("nl-eexist")
        defer { lab.namespace.delete() }
        let route = try lab.route("10.244.4.0/24", via: "10.250.0.2")
        try lab.socket.add(route)
        #expect {
            try lab.socket.add(route)
        } throws: { error in
            guard let e = error as? NetlinkError else { return false }
            return e.kind == .kernel && e.errno == .EEXIST && e.request == "add \(route)"
        }
    }

    @Test func ipv6AddReplaceDelete() throws {
        let lab = try Lab("nl-v6")
        defer { lab.namespace.delete() }
        let route = try lab.route("fd00:244:3::/64", via: "fd00:250::2")
        try lab.socket.add(route)

        let listed = try lab.socket.routes(family: .v6, protocol: .hostgw)
        try #require(listed.count == 1)
        #expect(listed[0].destination == route.destination)
        #expect(listed[0].gateway == route.gateway)
        #expect(listed[0].outputInterface == lab.ifindex)
        #expect(listed[0].priority == 1024)  // the kernel's default IPv6 metric
        #expect(try lab.ipRoutes("-6") == ["fd00:244:3::/64 via fd00:250::2 dev hgw0 metric 1024 pref medium"])

        var changed = listed[0]
        changed.gateway = try ip("fd00:250::3")
        try lab.socket.replace(changed)
        #expect(try lab.socket.routes(family: .v6, protocol: .hostgw).map(\.gateway) == [changed.gateway])

        try lab.socket.delete(changed)
        #expect(try lab.socket.routes(family: .v6, protocol: .hostgw).isEmpty)
    }

    @Test func everyFieldRoundTripsThroughTheKernel() throws {
        let lab = try Lab("nl-fields")
        defer { lab.namespace.delete() }
        // On-link gateway outside the connected prefix, metric, MTU and preferred source.
        var route = try lab.route("10.244.9.0/24", via: "10.99.0.1")
        route.onLink = true
        route.priority = 50
        route.mtu = 1400
        route.preferredSource = try ip("10.250.0.1")
        try lab.socket.add(route)
        #expect(try lab.socket.routes(family: .v4, protocol: .hostgw) == [route])
        #expect(try lab.ipRoutes() == ["10.244.9.0/24 via 10.99.0.1 dev hgw0 src 10.250.0.1 metric 50 onlink mtu 1400 "])
    }

    @Test func defaultRoutesDecodeAsZeroPrefixes() throws {
        let lab = try Lab("nl-default")
        defer { lab.namespace.delete() }
        try lab.socket.add(try lab.route("0.0.0.0/0", via: "10.250.0.2"))
        try lab.socket.add(try lab.route("::/0", via: "fd00:250::2"))
        let ours = try lab.socket.routes(protocol: .hostgw)
        #expect(Set(ours.map(\.destination.description)) == ["0.0.0.0/0", "::/0"])
        #expect(try lab.namespace.ip(["-N", "route", "show", "default"]).contains("default via 10.250.0.2 dev hgw0 proto 77"))
    }

    @Test func tablesAreFilteredAndLargeIdsRoundTrip() throws {
        let lab = try Lab("nl-table")
        defer { lab.namespace.delete() }
        let inMain = try lab.route("10.244.10.0/24", via: "10.250.0.2")
        var in100 = try lab.route("10.244.11.0/24", via: "10.250.0.2")
        in100.table = 100
        var in1000 = try lab.route("10.244.12.0/24", via: "10.250.0.2")
        in1000.table = 1000
        let results = try lab.socket.apply([RouteChange(.add, inMain), RouteChange(.add, in100), RouteChange(.add, in1000)])
        #expect(results.allSatisfy { (try? $0.get()) != nil })

        #expect(try lab.socket.routes(protocol: .hostgw) == [inMain])
        #expect(try lab.socket.routes(table: 1000, protocol: .hostgw) == [in1000])
        #expect(try lab.socket.routes(table: 100, protocol: .hostgw) == [in100])
        #expect(Set(try lab.socket.routes(table: nil, protocol: .hostgw)) == [inMain, in100, in1000])
        #expect(try lab.namespace.ip(["route", "show", "table", "1000"]).contains("10.244.12.0/24 via 10.250.0.2"))
    }
}
