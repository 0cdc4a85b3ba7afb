// The ansible vars file is YAML with one list, hostgw_external_routes, of {dest, via, node}.
import NetAddress
import ExternalPeers
import Netlink
import Testing
import Yams

@Suite struct AnsibleOutputTests {
    struct Vars: Decodable {
        struct Entry: Decodable, Equatable {
            var dest: String
            var via: String
            var node: String?
        }
        // swiftlint:disable:next identifier_name
        var hostgw_external_routes: [Entry]
    }

    @Test func parsesWithYamsIntoTheVarsStructure() throws {
        let text = try Fixtures.render(.ansible)
        let vars = try YAMLDecoder().decode(Vars.self, from: text)
        #expect(try vars.hostgw_external_routes == Fixtures.routes.map {
            Vars.Entry(dest: $0.destination.description, via: $0.gateway.description, node: $0.node)
        })
        let root = try #require(try Yams.compose(yaml: text)?.mapping)
        #expect(root.keys.compactMap(\.string) == ["hostgw_external_routes"])
        let entries = try #require(root["hostgw_external_routes"]?.sequence)
        #expect(entries.allSatisfy { ($0.mapping.map { Array($0.keys) } ?? []).compactMap(\.string) == ["dest", "via", "node"] })
        // A lease without NodeName is YAML null, not the string "null".
        #expect(entries.first?.mapping?["node"]?.null != nil)
    }

    @Test func anEmptyListIsStillAList() throws {
        let text = try ExternalRouteRenderer().render([], as: .ansible, source: Fixtures.source)
        #expect(try YAMLDecoder().decode(Vars.self, from: text).hostgw_external_routes.isEmpty)
    }
}
