// Every format rendered from the fixed lease set must match its golden document byte for byte:
// the header (store, revision, UTC time), the order, and each format's syntax.
import NetAddress
import ExternalPeers
import Netlink
import Testing

@Suite struct GoldenOutputTests {
    @Test(arguments: ExternalRouteFormat.allCases)
    func matchesGolden(format: ExternalRouteFormat) throws {
        let golden = try #require(Goldens.byFormat[format], "no golden for \(format.rawValue)")
        let rendered = try Fixtures.render(format)
        #expect(rendered == golden, "\(format.rawValue) differs from its golden:\n\(rendered)")
    }

    @Test func everyFormatHasAGolden() {
        #expect(Set(Goldens.byFormat.keys) == Set(ExternalRouteFormat.allCases))
    }

    @Test func formatNamesAreTheCLIValues() {
        #expect(ExternalRouteFormat.allCases.map(\.rawValue) == ["ip", "ip-batch", "networkd", "netplan", "ansible", "json"])
    }

    @Test func withoutProtocolTheIPFormatsCarryNoProtoMarker() throws {
        let rendered = try Fixtures.render(.ipBatch, options: ExternalRouteRenderOptions(routeProtocol: nil))
        #expect(!rendered.contains("proto"))
        #expect(rendered.contains("route replace 10.244.1.0/24 via 10.0.0.11  # node: node-a\n"))
    }

    @Test func anotherProtocolNumberIsPrintedAsANumber() throws {
        let rendered = try Fixtures.render(.ip, options: ExternalRouteRenderOptions(routeProtocol: RouteProtocolFixture.custom))
        #expect(rendered.contains("ip route replace 10.244.2.0/24 via 10.0.0.12 proto 201  # node: node-b\n"))
        #expect(rendered.contains("# remove: ip route flush proto 201; ip -6 route flush proto 201\n"))
    }

    @Test func netplanTakesTheInterfaceName() throws {
        let rendered = try Fixtures.render(.netplan, options: ExternalRouteRenderOptions(interface: "bond0.42"))
        #expect(rendered.contains("\n    \"bond0.42\":\n      routes:\n"))
    }

    @Test(arguments: ["", "a/b", "eth 0", "averyveryverylongname", "eth0:1", ".."])
    func netplanRefusesInvalidInterfaceNames(name: String) {
        #expect(throws: ExternalPeersError.self) {
            try Fixtures.render(.netplan, options: ExternalRouteRenderOptions(interface: name))
        }
    }
}
