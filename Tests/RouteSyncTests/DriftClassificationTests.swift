import NetAddress
import HostGwTestSupport
import Netlink
import RouteSync
import SubnetLease
import Testing

@Suite struct DriftClassificationTests {
    let peers: [Lease]
    let desired: DesiredRoutes
    let b: Route
    let c: Route

    init() throws {
        peers = [try lease("10.244.2.0/24", via: "10.0.0.2", node: "b"), try lease("10.244.3.0/24", via: "10.0.0.3", node: "c")]
        desired = DesiredRoutes(leases: peers, config: try v4Config, links: nodeLinks, addresses: nodeAddresses)
        b = try hostgwRoute("10.244.2.0/24", via: "10.0.0.2")
        c = try hostgwRoute("10.244.3.0/24", via: "10.0.0.3")
    }

    func findings(memory: DriftMemory, actual: [Route], desired: DesiredRoutes? = nil) throws -> [DriftFinding] {
        let d = desired ?? self.desired
        let p = try plan(desired: d.routes, actual: actual, protocol: .hostgw, podNetworks: [prefix("10.244.0.0/16")])
        return memory.classify(desired: d, actual: actual, plan: p, protocol: .hostgw)
    }

    @Test func firstPassWithEmptyMemoryIsNotDriftExceptStrayRoutes() throws {
        var wrong = c
        wrong.gateway = try ip("10.0.0.30")
        let stray = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let f = try findings(memory: DriftMemory(), actual: [wrong, stray])
        #expect(try f == [DriftFinding(kind: .unexpected, subnet: prefix("10.244.9.0/24"), expected: nil, actual: stray)])
    }

    @Test func routeWeInstalledThatIsGoneIsMissing() throws {
        let memory = DriftMemory(routes: [b.destination: b, c.destination: c])
        #expect(try findings(memory: memory, actual: [c]) == [DriftFinding(kind: .missing, subnet: b.destination, expected: b, actual: nil)])
    }

    @Test func routeWeInstalledThatWasAlteredIsChanged() throws {
        var wrong = b
        wrong.gateway = try ip("10.0.0.9")
        let memory = DriftMemory(routes: [b.destination: b, c.destination: c])
        #expect(try findings(memory: memory, actual: [wrong, c]) == [DriftFinding(kind: .changed, subnet: b.destination, expected: b, actual: wrong)])
    }

    @Test func changesTheAgentCausesAreNotDrift() throws {
        // The lease of b moved to another gateway, c's lease is gone: the kernel still holds what
        // the agent installed, so the agent's own updates follow, and no drift is reported.
        let moved = try [lease("10.244.2.0/24", via: "10.0.0.22", node: "b")]
        let d = try DesiredRoutes(leases: moved, config: v4Config, links: nodeLinks, addresses: nodeAddresses)
        let memory = DriftMemory(routes: [b.destination: b, c.destination: c])
        #expect(try findings(memory: memory, actual: [b, c], desired: d).isEmpty)
    }

    @Test func foreignOverlapIsAConflictReportedOnce() throws {
        let foreign = try Route(destination: prefix("10.244.3.0/25"), gateway: ip("10.0.0.77"), protocol: .static)
        let p = plan(desired: desired.routes, actual: [b, foreign], protocol: .hostgw)
        let first = DriftMemory(routes: [b.destination: b]).classify(desired: desired, actual: [b, foreign], plan: p, protocol: .hostgw)
        #expect(first.map(\.kind) == [.conflict])
        let next = DriftMemory(routes: [b.destination: b]).updated(actual: [b, foreign], plan: p, results: [], protocol: .hostgw)
        #expect(next.classify(desired: desired, actual: [b, foreign], plan: p, protocol: .hostgw).isEmpty)
    }

    @Test func memoryFollowsTheChangesThatSucceeded() throws {
        let stray = try hostgwRoute("10.244.9.0/24", via: "10.0.0.9")
        let p = plan(desired: [b, c], actual: [stray], protocol: .hostgw)
        #expect(p.changes.map(\.kind) == [.delete, .add, .add])
        let failure = NetlinkError(kind: .kernel, errno: .ENETUNREACH, request: "add")
        let next = DriftMemory().updated(actual: [stray], plan: p, results: [.success(()), .success(()), .failure(failure)], protocol: .hostgw)
        #expect(next.routes == [b.destination: b])
        // Observe-only: nothing applied, memory is what was seen.
        let seen = DriftMemory().updated(actual: [stray], plan: p, results: [], protocol: .hostgw)
        #expect(seen.routes == [stray.destination: stray])
    }

    /// A pass that dumped the routes just before the kernel flushed them (link down, last address
    /// removed) and the links just after plans deletes the kernel answers with ESRCH. The routes
    /// are gone either way; remembering them reported "missing" drift once the link came back
    /// (seen in KernelReconcileTests.linkDownAndUpAndAddressChangeAreFollowed under load).
    @Test func deleteOfARouteAlreadyGoneIsForgottenNotDrift() throws {
        let memory = DriftMemory(routes: [b.destination: b, c.destination: c])
        let linkDown = try DesiredRoutes(leases: peers, config: v4Config, links: [], addresses: [])
        #expect(linkDown.routes.isEmpty)
        let p = plan(desired: linkDown.routes, actual: [b, c], protocol: .hostgw)
        #expect(p.changes.map(\.kind) == [.delete, .delete])
        let gone = NetlinkError(kind: .kernel, errno: .ESRCH, request: "delete")
        let next = memory.updated(actual: [b, c], plan: p, results: [.failure(gone), .failure(gone)], protocol: .hostgw)
        #expect(next.routes.isEmpty)
        // The link is back and nothing is installed yet: routes to add, not drift.
        #expect(try findings(memory: next, actual: []).isEmpty)
        // Any other failure leaves the route in place, so it stays remembered.
        let refused = NetlinkError(kind: .kernel, errno: .EPERM, request: "delete")
        let kept = memory.updated(actual: [b, c], plan: p, results: [.failure(refused), .success(())], protocol: .hostgw)
        #expect(kept.routes == [b.destination: b])
    }
}
