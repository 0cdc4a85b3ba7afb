// Routes are owned by their protocol: listing filters by it, and a delete naming hostgw's
// protocol never removes another owner's route of the same prefix.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

@Suite(.needsRoot)
struct KernelProtocolOwnershipTests {
    @Test func protocolFilterListsOnlyOurs() throws {
        let lab = try Lab("nl-proto")
        defer { lab.namespace.delete() }
        try lab.namespace.ip(["route", "add", "10.244.5.0/24", "via", "10.250.0.2", "proto", "static"])
        let ours = try lab.route("10.244.6.0/24", via: "10.250.0.2")
        try lab.socket.add(ours)

        #expect(try lab.socket.routes(protocol: .hostgw) == [ours])
        #expect(try lab.socket.routes(protocol: .static).map(\.destination.description) == ["10.244.5.0/24"])
        // Unfiltered: both, plus the kernel's connected route.
        let all = try lab.socket.routes(family: .v4).map(\.destination.description)
        #expect(Set(all).isSuperset(of: ["10.244.5.0/24", "10.244.6.0/24", "10.250.0.0/24"]))
    }

    @Test func deleteNamingOurProtocolLeavesForeignRoute() throws {
        let lab = try Lab("nl-owner")
        defer { lab.namespace.delete() }
        try lab.namespace.ip(["route", "add", "10.244.5.0/24", "via", "10.250.0.2", "proto", "static"])
        let same = try lab.route("10.244.5.0/24", via: "10.250.0.2", proto: .hostgw)
        #expect {
            try lab.socket.delete(same)
        } throws: { error in
            (error as? NetlinkError).map { $0.kind == .kernel && $0.errno == .ESRCH } ?? false
        }
        #expect(try lab.ipRoutes(proto: "static") == ["10.244.5.0/24 via 10.250.0.2 dev hgw0 "])
    }
}
