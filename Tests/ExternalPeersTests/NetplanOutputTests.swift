// The netplan document is YAML of the shape netplan expects, and netplan itself (when installed)
// turns it into networkd routes equal to ours.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Foundation
import Netlink
import Testing
import Yams

@Suite struct NetplanOutputTests {
    struct Document: Decodable {
        struct Network: Decodable {
            var version: Int
            var ethernets: [String: Ethernet]
        }
        struct Ethernet: Decodable { var routes: [Route] }
        struct Route: Decodable, Equatable {
            var to: String
            var via: String
        }
        var network: Network
    }

    static var expected: [Document.Route] { get throws { try Fixtures.routes.map { Document.Route(to: $0.destination.description, via: $0.gateway.description) } } }

    @Test func parsesWithYamsIntoNetplansShape() throws {
        let text = try Fixtures.render(.netplan)
        let document = try YAMLDecoder().decode(Document.self, from: text)
        #expect(document.network.version == 2)
        #expect(Array(document.network.ethernets.keys) == ["eth0"])
        #expect(try document.network.ethernets["eth0"]?.routes == Self.expected)
        // No keys beyond the ones netplan knows.
        let root = try #require(try Yams.compose(yaml: text)?.mapping)
        #expect(root.keys.compactMap(\.string) == ["network"])
        let routes = try #require(root["network"]?.mapping?["ethernets"]?.mapping?["eth0"]?.mapping?["routes"]?.sequence)
        #expect(routes.allSatisfy { Set(($0.mapping.map { Array($0.keys) } ?? []).compactMap(\.string)) == ["to", "via"] })
    }

    @Test func anEmptyRouteListIsStillValidNetplan() throws {
        let text = try ExternalRouteRenderer().render([], as: .netplan, source: Fixtures.source)
        let document = try YAMLDecoder().decode(Document.self, from: text)
        #expect(document.network.ethernets["eth0"]?.routes == [])
    }

    @Test(.needs(tool: "netplan", package: "netplan.io"))
    func netplanGenerateProducesTheSameRoutes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-ext-netplan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("etc/netplan")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("90-hostgw-routes.yaml")
        try Fixtures.render(.netplan, options: ExternalRouteRenderOptions(interface: "ens3")).write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)

        let result = try ProcessRunner.run(["netplan", "generate", "--root-dir", root.path])
        #expect(result.status == 0, "netplan generate failed: \(result.stderr)")

        let network = root.appendingPathComponent("run/systemd/network/10-netplan-ens3.network")
        let sections = try INI.parse(try String(contentsOf: network, encoding: .utf8))
        #expect(sections.first { $0.name == "Match" }?.values("Name") == ["ens3"])
        let generated = sections.filter { $0.name == "Route" }.map {
            Document.Route(to: $0.values("Destination").joined(), via: $0.values("Gateway").joined())
        }
        #expect(try generated == Self.expected)
    }

    @Test(.needs(tool: "netplan", package: "netplan.io"))
    func netplanRejectsABrokenDocument() throws {
        // Proves the check above can fail: the same shape with routes as a mapping is refused.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-ext-netplan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("etc/netplan")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("90-hostgw-routes.yaml")
        try "network:\n  version: 2\n  ethernets:\n    eth0:\n      routes:\n        to: 10.0.0.0/8\n".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let result = try ProcessRunner.run(["netplan", "generate", "--root-dir", root.path])
        #expect(result.status != 0)
    }
}
