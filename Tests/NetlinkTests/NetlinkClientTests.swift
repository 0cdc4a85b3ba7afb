// The async facade: calls run on the client's own thread inside the namespace; close() ends it.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

@Suite(.needsRoot)
struct NetlinkClientTests {
    @Test func appliesAndListsFromAsyncCode() async throws {
        let lab = try Lab("nl-client")
        defer { lab.namespace.delete() }
        let client = try NetlinkClient(namespace: lab.namespace.name)
        let route = try lab.route("10.244.8.0/24", via: "10.250.0.2")
        let results = try await client.apply([RouteChange(.add, route), RouteChange(.add, route)])
        #expect((try? results[0].get()) != nil)
        #expect({ if case .failure(let e) = results[1] { e.errno == .EEXIST } else { false } }())
        #expect(try await client.routes(protocol: .hostgw) == [route])
        #expect(try await client.links().contains { $0.name == Lab.linkName })
        #expect(try await client.addresses(family: .v4).contains { $0.address == (try? ip("10.250.0.1")) })

        // Concurrent callers are serialized on the one thread; every call gets its own answer.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await client.routes(protocol: .hostgw).count } }
            for try await count in group { #expect(count == 1) }
        }

        client.close()
        await #expect(throws: NetlinkError.self) { try await client.links() }
    }

    @Test func missingNamespaceIsAnError() {
        #expect {
            _ = try NetlinkClient(namespace: "hgw-does-not-exist-\(UInt32.random(in: 0...UInt32.max))")
        } throws: { error in
            (error as? NetlinkError).map { $0.kind == .system && $0.errno == .ENOENT } ?? false
        }
    }
}
