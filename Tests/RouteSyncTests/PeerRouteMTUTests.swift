import NetAddress
import HostGwTestSupport
import Foundation
import Netlink
import RouteSync
import SubnetLease
import Testing

/// Per-peer route MTU (issue 13): a peer publishing a smaller link MTU than the link its route
/// leaves by gets `mtu <its MTU>` on the route; equal, larger or unknown gets none; a change of
/// the published MTU replaces the route and is not drift.
@Suite struct PeerRouteMTUTests {
    @Test func onlyASmallerPublishedMTUSetsTheAttribute() {
        let jumbo = Link(index: 2, name: "eth0", mtu: 9000, isUp: true, hasCarrier: true, operState: .up)
        #expect(DesiredRoutes.routeMTU(published: 1500, link: jumbo) == 1500)
        #expect(DesiredRoutes.routeMTU(published: 9000, link: jumbo) == nil)
        #expect(DesiredRoutes.routeMTU(published: 65535, link: jumbo) == nil)
        #expect(DesiredRoutes.routeMTU(published: nil, link: jumbo) == nil)
        var unknown = jumbo
        unknown.mtu = 0
        #expect(DesiredRoutes.routeMTU(published: 1500, link: unknown) == nil)
    }

    @Test func theMTUConditionNamesTheSmallerPeersAndTheFix() throws {
        var facts = DatapathFacts(
            podNetworks: [.v4: try prefix("10.244.0.0/16")], interfaceIndex: 2, interfaceName: "eth0",
            netconf: [.v4: .success([.init(family: .v4, scope: .all, forwarding: true), .init(family: .v4, scope: .interface(2), forwarding: true)])],
            chains: .success([]), legacyTables: [], interfaceMTU: 9000, peerMTUs: ["node-b": 9000, "node-c": 1500])
        let found = try #require(DatapathConditions.evaluate(facts).first { $0.condition == .mtuMismatch })
        #expect(found.severity == .warning)
        #expect(found.detail.hasPrefix("1 peer(s) publish a smaller link MTU than eth0's 9000 (node-c 1500)"))
        #expect(found.fix.contains("ip link set dev eth0 mtu 1500"))
        facts.peerMTUs = ["node-b": 9000, "node-c": 9000]
        #expect(!DatapathConditions.evaluate(facts).contains { $0.condition == .mtuMismatch })
        // The node on the smaller MTU has nothing to fix locally: its peers' routes carry it.
        facts.interfaceMTU = 1500
        facts.peerMTUs = ["node-b": 9000]
        #expect(!DatapathConditions.evaluate(facts).contains { $0.condition == .mtuMismatch })
    }
}

@Suite(.needsRoot)
struct KernelPeerRouteMTUTests {
    @Test func aSmallerPeerGetsAnMTURouteInTheKernelAndAChangeIsNoDrift() async throws {
        let lab = try KernelLab()
        defer { lab.close() }
        try lab.ip("link", "set", "veth0", "mtu", "9000")
        let r = try lab.reconciler()
        var b = try lease("10.244.2.0/24", via: "10.0.0.2", node: "b")
        b.attributes.published.mtu = 1500
        var c = try lease("10.244.3.0/24", via: "10.0.0.3", node: "c")
        c.attributes.published.mtu = 9000
        await r.update(leases: [b, c], localSubnets: try labLocal)
        await r.sync()
        #expect(try mtus(lab) == ["10.244.2.0/24": 1500, "10.244.3.0/24": 0])
        // b moves to jumbo frames: the attribute goes, c moves down: it comes; no drift either way.
        b.attributes.published.mtu = 9000
        c.attributes.published.mtu = 1400
        await r.update(leases: [b, c], localSubnets: try labLocal)
        let report = try #require(await r.sync())
        #expect(report.drift.isEmpty, "\(report.drift)")
        #expect(try mtus(lab) == ["10.244.2.0/24": 0, "10.244.3.0/24": 1400])
        let again = try #require(await r.sync())
        #expect(again.plan.isEmpty, "\(again.plan.changes)")
        #expect(await r.status().peers.allSatisfy { $0.state == .ok })
    }

    /// hostgw's IPv4 routes with their `mtu` metric as the kernel holds them (0: none).
    func mtus(_ lab: KernelLab) throws -> [String: Int] {
        let out = try lab.namespace.ip(["-N", "-j", "-4", "-d", "route", "show", "proto", "77"])
        let decoded = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
        var result: [String: Int] = [:]
        for r in decoded {
            let metrics = r["metrics"] as? [[String: Any]] ?? []
            result["\(r["dst"] ?? "?")"] = metrics.compactMap { $0["mtu"] as? Int }.first ?? 0
        }
        return result
    }
}
