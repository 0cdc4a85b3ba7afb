// The JSON document carries store, revision, time and the routes as fields, not comments.
import NetAddress
import ExternalPeers
import Netlink
import Foundation
import Testing

@Suite struct JSONOutputTests {
    struct Document: Decodable, Equatable {
        struct Route: Decodable, Equatable {
            var destination: String
            var gateway: String
            var family: String
            var node: String?
        }
        var store: String
        var revision: Int64
        var generated: String
        var routes: [Route]
    }

    @Test func decodesWithEveryField() throws {
        let data = Data(try Fixtures.render(.json).utf8)
        let document = try JSONDecoder().decode(Document.self, from: data)
        #expect(document.store == Fixtures.source.store)
        #expect(document.revision == 42)
        #expect(document.generated == "2025-01-02T03:04:05Z")
        #expect(try document.routes.map(\.destination) == Fixtures.routes.map(\.destination.description))
        #expect(document.routes.map(\.family) == ["ipv4", "ipv4", "ipv4", "ipv4", "ipv6"])
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["store", "revision", "generated", "routes"])
    }

    @Test func theTimeIsUTCWhateverTheSubsecondsAre() throws {
        let source = ExternalRouteSource(store: "sqlite /var/lib/hostgw/leases.sqlite3", revision: 7, generatedAt: Fixtures.time.addingTimeInterval(0.75))
        let text = try ExternalRouteRenderer().render([], as: .json, source: source)
        let document = try JSONDecoder().decode(Document.self, from: Data(text.utf8))
        #expect(document.generated == "2025-01-02T03:04:05Z")
        #expect(document.routes.isEmpty)
    }
}
