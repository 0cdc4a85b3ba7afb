// One bad route in a batch fails alone, with its errno name; the others are installed.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

@Suite(.needsRoot)
struct KernelBatchPartialFailureTests {
    @Test(arguments: [256, 4, 1])
    func badGatewayFailsOnlyItsRoute(batchSize: Int) throws {
        let lab = try Lab("nl-batch")
        defer { lab.namespace.delete() }
        var changes: [RouteChange] = []
        for i in 0..<10 {
            // Route 6 names a gateway outside every connected prefix: ENETUNREACH.
            let gateway = i == 6 ? "10.99.0.1" : "10.250.0.2"
            changes.append(RouteChange(.add, try lab.route("10.244.\(20 + i).0/24", via: gateway)))
        }
        let results = try lab.socket.apply(changes, batchSize: batchSize)
        try #require(results.count == changes.count)
        for (i, result) in results.enumerated() {
            switch result {
            case .success:
                #expect(i != 6, "the off-link gateway was accepted")
            case .failure(let error):
                #expect(i == 6, "change \(i) failed: \(error)")
                #expect(error.kind == .kernel)
                #expect(error.errno.name == "ENETUNREACH")
                #expect(error.request == changes[6].description)
                #expect(error.description.contains("ENETUNREACH"))
            }
        }
        let installed = Set(try lab.socket.routes(protocol: .hostgw).map(\.destination))
        #expect(installed == Set(changes.enumerated().filter { $0.offset != 6 }.map(\.element.route.destination)))
    }

    @Test func largeBatchesSplitByBytesAndKeepOrder() throws {
        let lab = try Lab("nl-big")
        defer { lab.namespace.delete() }
        let routes = try (0..<5000).map { i in try lab.route("10.\(64 + i / 256).\(i % 256).0/24", via: "10.250.0.2") }
        let added = try lab.socket.apply(routes.map { RouteChange(.add, $0) }, batchSize: 5000)
        #expect(added.count == 5000)
        #expect(added.allSatisfy { (try? $0.get()) != nil })
        #expect(try lab.socket.routes(protocol: .hostgw).count == 5000)
        // Adding them again: every one reports EEXIST, in order.
        let again = try lab.socket.apply(routes.prefix(300).map { RouteChange(.add, $0) })
        #expect(again.allSatisfy { if case .failure(let e) = $0 { e.errno == .EEXIST } else { false } })
        let deleted = try lab.socket.apply(routes.map { RouteChange(.delete, $0) })
        #expect(deleted.allSatisfy { (try? $0.get()) != nil })
        #expect(try lab.socket.routes(protocol: .hostgw).isEmpty)
    }
}
