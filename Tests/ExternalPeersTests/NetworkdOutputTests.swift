// The networkd drop-in is strict INI that systemd-networkd reads: only [Route] sections, each with
// exactly one Destination= and one Gateway= that parse as a prefix and an address.
import NetAddress
import ExternalPeers
import Netlink
import Testing

@Suite struct NetworkdOutputTests {
    @Test func parsesAsStrictINIWithOneRouteSectionPerRoute() throws {
        let sections = try INI.parse(try Fixtures.render(.networkd))
        #expect(sections.allSatisfy { $0.name == "Route" })
        #expect(sections.allSatisfy { Set($0.entries.map(\.key)) == ["Destination", "Gateway"] && $0.entries.count == 2 })
        let parsed = sections.compactMap { section -> ExternalRoute? in
            guard let dest = section.values("Destination").first.flatMap({ IPPrefix($0) }),
                let gw = section.values("Gateway").first.flatMap({ IPAddress($0) })
            else { return nil }
            return ExternalRoute(destination: dest, gateway: gw)
        }
        #expect(try parsed == Fixtures.routes.map { ExternalRoute(destination: $0.destination, gateway: $0.gateway) })
    }

    @Test func theStrictParserRejectsWhatNetworkdWouldMisread() {
        #expect(throws: INIError.self) { try INI.parse("Destination=10.0.0.0/8\n") }
        #expect(throws: INIError.self) { try INI.parse("[Route]\nDestination 10.0.0.0/8\n") }
        #expect(throws: INIError.self) { try INI.parse("[Route\nGateway=10.0.0.1\n") }
        #expect(throws: INIError.self) { try INI.parse("[Route]\nGateway=\n") }
    }
}
