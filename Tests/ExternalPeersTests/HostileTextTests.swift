// Store URLs and node names are whatever the store holds: a newline must not end a comment and
// run the rest as a command, and quotes must not break the YAML.
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Netlink
import Foundation
import Testing
import Yams

@Suite struct HostileTextTests {
    static let node = "evil\nreboot # \"x\": y\\ \u{7}"
    static var routes: [ExternalRoute] { get throws { [ExternalRoute(destination: try prefix("10.244.7.0/24"), gateway: try ip("10.0.0.7"), node: node)] } }
    static let source = ExternalRouteSource(store: "etcd http://x\nrm -rf /", revision: 1, generatedAt: Fixtures.time)

    @Test(arguments: [ExternalRouteFormat.ip, .ipBatch, .networkd, .netplan, .ansible])
    func noInjectedLineEscapesAComment(format: ExternalRouteFormat) throws {
        let text = try ExternalRouteRenderer().render(Self.routes, as: format, source: Self.source)
        let lines = text.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("reboot") || $0.hasPrefix("rm -rf") })
    }

    @Test func yamlKeepsTheNameExactly() throws {
        let text = try ExternalRouteRenderer().render(Self.routes, as: .ansible, source: Self.source)
        let vars = try YAMLDecoder().decode(AnsibleOutputTests.Vars.self, from: text)
        #expect(vars.hostgw_external_routes.first?.node == Self.node)
    }

    @Test func jsonKeepsTheNameExactly() throws {
        let text = try ExternalRouteRenderer().render(Self.routes, as: .json, source: Self.source)
        let document = try JSONDecoder().decode(JSONOutputTests.Document.self, from: Data(text.utf8))
        #expect(document.routes.first?.node == Self.node)
        #expect(document.store == Self.source.store)
    }
}
