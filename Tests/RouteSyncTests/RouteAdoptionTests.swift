import NetAddress
import HostGwTestSupport
import Netlink
import RouteSync
import Testing
import MetricsTestKit

/// `--adopt-protocol`: a foreign route equal to the desired one but for its protocol is replaced
/// in place (flanneld's `proto boot` routes on a node moving to hostgw); any other stays a conflict.
@Suite struct RouteAdoptionTests {
    let b: Route
    let c: Route
    let pods: [IPPrefix]
    let flannelB: Route
    let flannelC: Route

    init() throws {
        b = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2")
        c = try hostgwRoute("10.244.3.0/24", via: "10.0.0.3")
        pods = [try prefix("10.244.0.0/16")]
        flannelB = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2", protocol: .boot)
        flannelC = try hostgwRoute("10.244.3.0/24", via: "10.0.0.3", protocol: .boot)
    }

    @Test func identicalButForTheProtocolIsOneReplaceInPlace() {
        let p = plan(desired: [b, c], actual: [flannelB, flannelC], protocol: .hostgw, podNetworks: pods, adopt: [.boot])
        #expect(p.changes == [RouteChange(.replace, b), RouteChange(.replace, c)])
        #expect(p.conflicts.isEmpty)
        #expect(p.adoptions == [RouteAdoption(desired: b, foreign: flannelB), RouteAdoption(desired: c, foreign: flannelC)])
        // Never a delete: the destination keeps a route throughout.
        #expect(!p.changes.contains { $0.kind == .delete })
    }

    @Test func byDefaultNothingIsAdopted() {
        let p = plan(desired: [b], actual: [flannelB], protocol: .hostgw, podNetworks: pods)
        #expect(p.changes.isEmpty)
        #expect(p.adoptions.isEmpty)
        #expect(p.conflict(for: b.destination)?.foreign == [flannelB])
    }

    @Test func anotherProtocolThanTheAdoptedOnesStaysAConflict() throws {
        let staticB = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2", protocol: .static)
        let p = plan(desired: [b], actual: [staticB], protocol: .hostgw, podNetworks: pods, adopt: [.boot])
        #expect(p.changes.isEmpty)
        #expect(p.conflict(for: b.destination)?.foreign == [staticB])
    }

    static let differences: [(String, @Sendable (inout Route) throws -> Void)] = [
        ("gateway", { $0.gateway = try ip("10.0.0.9") }),
        ("device", { $0.outputInterface = 7 }),
        ("metric", { $0.priority = 100 }),
        ("mtu", { $0.mtu = 1400 }),
        ("onlink", { $0.onLink = true }),
        ("source", { $0.preferredSource = try ip("10.0.0.1") }),
        ("type", { $0.type = .blackhole }),
    ]

    @Test(arguments: RouteAdoptionTests.differences.map(\.0))
    func aForeignRouteThatDiffersStaysAConflict(_ field: String) throws {
        let change = try #require(Self.differences.first { $0.0 == field }?.1)
        var foreign = flannelB
        try change(&foreign)
        let p = plan(desired: [b], actual: [foreign], protocol: .hostgw, podNetworks: pods, adopt: [.boot])
        #expect(p.adoptions.isEmpty, "\(field)")
        #expect(p.changes.isEmpty, "\(field)")
        #expect(p.conflict(for: b.destination)?.foreign == [foreign], "\(field)")
    }

    @Test func aSecondForeignRouteOverTheSubnetBlocksTheAdoption() throws {
        let half = try Route(destination: prefix("10.244.2.128/25"), gateway: ip("10.0.0.77"), outputInterface: 2, protocol: .boot)
        let p = plan(desired: [b], actual: [flannelB, half], protocol: .hostgw, podNetworks: pods, adopt: [.boot])
        #expect(p.adoptions.isEmpty)
        #expect(p.changes.isEmpty)
        #expect(p.conflict(for: b.destination)?.foreign == [flannelB, half])
    }

    @Test func ipv6WithTheKernelsDefaultMetricIsAdopted() throws {
        let want = try hostgwRoute("fd10:244:0:2::/64", via: "fd00::2")
        var flannel = try hostgwRoute("fd10:244:0:2::/64", via: "fd00::2", protocol: .boot)
        flannel.priority = 1024
        let p = try plan(desired: [want], actual: [flannel], protocol: .hostgw, podNetworks: [prefix("fd10:244::/56")], adopt: [.boot])
        #expect(p.changes == [RouteChange(.replace, want)])
        #expect(p.adoptions.map(\.foreign) == [flannel])
    }

    @Test func aStrayOfOursBesideTheAdoptedRouteIsDeletedFirst() {
        var stray = b
        stray.priority = 50
        let p = plan(desired: [b], actual: [stray, flannelB], protocol: .hostgw, podNetworks: pods, adopt: [.boot])
        #expect(p.changes == [RouteChange(.delete, stray), RouteChange(.replace, b)])
    }

    @Test func theSecondPassAfterAdoptionIsEmpty() {
        let first = plan(desired: [b, c], actual: [flannelB, c], protocol: .hostgw, podNetworks: pods, adopt: [.boot])
        #expect(first.changes == [RouteChange(.replace, b)])
        #expect(plan(desired: [b, c], actual: [b, c], protocol: .hostgw, podNetworks: pods, adopt: [.boot]).isEmpty)
    }

    @Test func theReconcilerReplacesInPlaceAndCountsTheAdoption() async throws {
        let connected = try Route(destination: prefix("10.0.0.0/24"), outputInterface: 2, protocol: .kernel, scope: .link)
        let kernel = FakeKernel(routes: [connected, flannelB, flannelC])
        let metrics = TestMetrics()
        var config = try v4Config
        config.adoptProtocols = [.boot]
        let r = RouteReconciler(config: config, kernel: kernel, logger: quietLogger, metricsFactory: metrics)
        try await r.update(
            leases: [
                lease("10.244.1.0/24", via: "10.0.0.1", node: "self"), lease("10.244.2.0/24", via: "10.0.0.2", node: "b"),
                lease("10.244.3.0/24", via: "10.0.0.3", node: "c"),
            ], localSubnets: [prefix("10.244.1.0/24")])
        let report = try #require(await r.sync())
        #expect(await kernel.applied == [[RouteChange(.replace, b), RouteChange(.replace, c)]])
        #expect(Set(await kernel.table) == [connected, b, c])
        #expect(report.drift.isEmpty)
        #expect(await r.status().peers.map(\.state) == [.ok, .ok])
        #expect(metrics.counter("hostgw_routes_adopted_total{protocol=boot}") == 2)
        #expect(metrics.counter("hostgw_route_changes_total{op=replace}") == 2)
        #expect(try #require(await r.sync()).plan.isEmpty)
    }

    @Test func observeOnlyAdoptsNothingAndSaysWhatItWouldDo() async throws {
        let kernel = FakeKernel(routes: [flannelB])
        var config = try v4Config
        config.adoptProtocols = [.boot]
        config.observeOnly = true
        let r = RouteReconciler(config: config, kernel: kernel, logger: quietLogger, metricsFactory: TestMetrics())
        try await r.update(
            leases: [lease("10.244.1.0/24", via: "10.0.0.1", node: "self"), lease("10.244.2.0/24", via: "10.0.0.2", node: "b")],
            localSubnets: [prefix("10.244.1.0/24")])
        _ = await r.sync()
        #expect(await kernel.table == [flannelB])
        let peer = try #require(await r.status().peers.first)
        #expect(peer.state == .changed)
        #expect(peer.reason?.contains("to be adopted") == true)
    }
}
