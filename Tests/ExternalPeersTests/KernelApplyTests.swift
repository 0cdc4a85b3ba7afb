// The ip formats are applied for real inside a throwaway namespace: every route appears in the
// kernel with the protocol marker, and applying twice changes nothing (replace is idempotent).
import NetAddress
import HostGwTestSupport
import ExternalPeers
import Foundation
import Netlink
import Testing

@Suite(.serialized) struct KernelApplyTests {
    struct KernelRoute: Decodable, Hashable {
        var dst: String
        var gateway: String?
        var `protocol`: String?
    }

    /// Every gatewayed route in the namespace's main tables (both families). All of them must
    /// carry protocol 77: listing without a `proto` filter is what shows the marker.
    static func kernelRoutes(_ ns: NamespaceLab) throws -> Set<ExternalRoute> {
        var result: Set<ExternalRoute> = []
        for family in ["-4", "-6"] {
            let json = try ns.ip([family, "-j", "route", "show"])
            for route in try JSONDecoder().decode([KernelRoute].self, from: Data(json.utf8)) {
                guard let gateway = route.gateway else { continue }  // connected and local routes
                #expect(route.protocol == "77" || route.protocol == "hostgw", "route without hostgw's marker: \(route)")
                guard let dst = IPPrefix(route.dst), let gw = IPAddress(gateway) else {
                    Issue.record("unexpected kernel route \(route)")
                    continue
                }
                result.insert(ExternalRoute(destination: dst, gateway: gw))
            }
        }
        return result
    }

    static var expected: Set<ExternalRoute> { get throws { Set(try Fixtures.routes.map { ExternalRoute(destination: $0.destination, gateway: $0.gateway) }) } }

    static func write(_ text: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-ext-\(UUID().uuidString)")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test(.needsRoot)
    func ipBatchInstallsEveryRoute() throws {
        let ns = try Fixtures.namespace()
        defer { ns.delete() }
        let file = try Self.write(try Fixtures.render(.ipBatch))
        defer { try? FileManager.default.removeItem(at: file) }

        #expect(try Self.kernelRoutes(ns).isEmpty)
        try ns.ip(["-batch", file.path])
        #expect(try Self.kernelRoutes(ns) == Self.expected)
        // Second application: no error (no "File exists"), same table.
        try ns.ip(["-batch", file.path])
        #expect(try Self.kernelRoutes(ns) == Self.expected)
    }

    @Test(.needsRoot)
    func ipBatchReplacesAChangedGateway() throws {
        let ns = try Fixtures.namespace()
        defer { ns.delete() }
        try ns.ip(["route", "add", "10.244.1.0/24", "via", "10.0.0.99", "proto", "77"])
        let file = try Self.write(try Fixtures.render(.ipBatch))
        defer { try? FileManager.default.removeItem(at: file) }
        try ns.ip(["-batch", file.path])
        #expect(try Self.kernelRoutes(ns) == Self.expected)
    }

    @Test(.needsRoot)
    func ipScriptRunsTwiceUnderSh() throws {
        let ns = try Fixtures.namespace()
        defer { ns.delete() }
        let file = try Self.write(try Fixtures.render(.ip))
        defer { try? FileManager.default.removeItem(at: file) }
        for _ in 0..<2 {
            let result = try ns.execute(["/bin/sh", file.path])
            #expect(result.status == 0, "script failed: \(result.stderr)")
        }
        #expect(try Self.kernelRoutes(ns) == Self.expected)
        // The header's cleanup commands remove exactly these routes, and only them.
        try ns.ip(["route", "flush", "proto", "77"])
        try ns.ip(["-6", "route", "flush", "proto", "77"])
        #expect(try Self.kernelRoutes(ns).isEmpty)
        #expect(try ns.ip(["-4", "route", "show", "10.0.0.0/24"]).contains("dev v0"))
    }

    @Test(.needsRoot)
    func anOffLinkGatewayFailsTheScript() throws {
        // set -e: the first route the kernel refuses stops the script with a non-zero status.
        let ns = try Fixtures.namespace()
        defer { ns.delete() }
        let routes = try [ExternalRoute(destination: prefix("10.244.9.0/24"), gateway: ip("192.0.2.1"))]
        let file = try Self.write(try ExternalRouteRenderer().render(routes, as: .ip, source: Fixtures.source))
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try ns.execute(["/bin/sh", file.path])
        #expect(result.status != 0)
        #expect(try Self.kernelRoutes(ns).isEmpty)
    }
}
