// Test doubles for RouteSync: an in-memory kernel table with the kernel's keying rules, a manual
// clock, and builders for leases and links (literals through HostGwTestSupport's prefix and ip).
import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing
import Synchronization

func lease(_ subnet: String, via gateway: String?, node: String? = nil, v6: String? = nil, gateway6: String? = nil, expires: Date? = nil) throws -> Lease {
    Lease(
        subnet: try prefix(subnet), ipv6Subnet: try v6.map { try prefix($0) },
        attributes: LeaseAttributes(
            publicIP: gateway.flatMap(IPv4Address.init), publicIPv6: gateway6.flatMap(IPv6Address.init), nodeName: node),
        expiration: expires)
}

func link(_ index: UInt32, _ name: String, up: Bool = true) -> Link {
    Link(index: index, name: name, mtu: 1500, isUp: up, hasCarrier: up, operState: up ? .up : .down)
}

/// `10.0.0.1/24` on interface `index`.
func address(_ text: String, on index: UInt32, scope: RouteScope = .universe) throws -> InterfaceAddress {
    let parts = text.split(separator: "/")
    let length = try #require(parts.count == 2 ? Int(parts[1]) : nil, "not address/length: \(text)")
    return InterfaceAddress(interfaceIndex: index, address: try ip(String(parts[0])), prefixLength: length, scope: scope)
}

func hostgwRoute(_ subnet: String, via gateway: String, dev: UInt32 = 2, protocol p: RouteProtocol = .hostgw) throws -> Route {
    Route(destination: try prefix(subnet), gateway: try ip(gateway), outputInterface: dev, protocol: p)
}

/// A node with eth0 (index 2) at 10.0.0.1/24 and fd00::1/64, and lo. Built from typed values, not
/// literals, so that `FakeKernel()` can default to them.
let nodeLinks = [link(1, "lo"), link(2, "eth0")]
let nodeAddresses = [
    InterfaceAddress(interfaceIndex: 1, address: .v4(IPv4Address(127, 0, 0, 1)), prefixLength: 8, scope: .host),
    InterfaceAddress(interfaceIndex: 2, address: .v4(IPv4Address(10, 0, 0, 1)), prefixLength: 24),
    InterfaceAddress(interfaceIndex: 2, address: .v6(IPv6Address(high: 0xfd00 << 48, low: 1)), prefixLength: 64),
]
var v4Config: RouteSyncConfig {
    get throws { RouteSyncConfig(podNetworks: [.v4: try prefix("10.244.0.0/16")], localSubnets: [try prefix("10.244.1.0/24")]) }
}

/// An in-memory routing table keyed as the kernel keys it: (table, destination, metric). Replace
/// ignores the protocol, delete naming a protocol removes only that protocol's route.
actor FakeKernel: RouteTableAccess {
    var table: [Route] = []
    var linkList: [Link]
    var addressList: [InterfaceAddress]
    /// Errors the next apply returns for changes touching these destinations (as `ip` prints them).
    var failures: [String: Errno] = [:]
    var dumpError: NetlinkError?
    /// Makes apply throw, as when the batch cannot be sent at all.
    var applyError: (any Error)?
    private(set) var dumps = 0
    private(set) var applied: [[RouteChange]] = []
    private var holding = false
    private var held: [CheckedContinuation<Void, Never>] = []

    init(routes: [Route] = [], links: [Link] = nodeLinks, addresses: [InterfaceAddress] = nodeAddresses) {
        table = routes
        linkList = links
        addressList = addresses
    }

    func routes(family: IPFamily?, table id: UInt32?, protocol p: RouteProtocol?) async throws -> [Route] {
        dumps += 1
        if holding { await withCheckedContinuation { held.append($0) } }
        if let dumpError { throw dumpError }
        return table.filter { r in
            (family == nil || r.family == family) && (id == nil || r.table == id) && (p == nil || r.protocol == p)
        }
    }

    func apply(_ changes: [RouteChange], batchSize: Int) async throws -> [Result<Void, NetlinkError>] {
        if let applyError { throw applyError }
        applied.append(changes)
        return changes.map(applyOne)
    }

    func links() async throws -> [Link] { linkList }
    func addresses(family: IPFamily?) async throws -> [InterfaceAddress] {
        addressList.filter { family == nil || $0.address.family == family }
    }

    private func slot(_ a: Route, _ b: Route) -> Bool {
        a.table == b.table && a.destination == b.destination && metric(a) == metric(b)
    }

    private func metric(_ r: Route) -> UInt32 { r.priority ?? (r.family == .v6 ? 1024 : 0) }

    private func applyOne(_ change: RouteChange) -> Result<Void, NetlinkError> {
        if let errno = failures[change.route.destination.description] {
            return .failure(NetlinkError(kind: .kernel, errno: errno, request: change.description))
        }
        let r = change.route
        switch change.kind {
        case .add:
            if table.contains(where: { slot($0, r) }) {
                return .failure(NetlinkError(kind: .kernel, errno: .EEXIST, request: change.description))
            }
            table.append(r)
        case .replace:
            table.removeAll { slot($0, r) }
            table.append(r)
        case .delete:
            guard let i = table.firstIndex(where: { slot($0, r) && $0.protocol == r.protocol }) else {
                return .failure(NetlinkError(kind: .kernel, errno: .ESRCH, request: change.description))
            }
            table.remove(at: i)
        }
        return .success(())
    }

    // Test controls.
    func set(routes: [Route]) { table = routes }
    func remove(_ destination: String) { table.removeAll { $0.destination.description == destination } }
    func insert(_ route: Route) { table.append(route) }
    func setFailure(_ destination: String, _ errno: Errno?) { failures[destination] = errno }
    func setLinks(_ links: [Link]) { linkList = links }
    func setAddresses(_ addresses: [InterfaceAddress]) { addressList = addresses }
    func setDumpError(_ error: NetlinkError?) { dumpError = error }
    func setApplyError(_ error: (any Error)?) { applyError = error }
    func hold() { holding = true }
    func release() {
        holding = false
        let waiting = held
        held = []
        for c in waiting { c.resume() }
    }
    var waitingDumps: Int { held.count }
}

/// Polls `condition` until it holds; for effects of unstructured tasks. The 30 s limit only
/// guards against a hang (a passing test returns as soon as the effect is there): a fixed number
/// of short polls turned into a wall-clock bound that a loaded machine missed.
func eventually(within limit: Swift.Duration = .seconds(30), _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

/// Starts the reconciler's service (passes on triggers, the periodic resync, the hold timer);
/// cancel the task to stop it. Without it, triggers wait for `sync()`.
func start(_ r: RouteReconciler) -> Task<Void, any Error> { Task { try await r.run() } }

/// The events a test fed to a reconciler, in order: once a marker event is here, every event the
/// kernel sent before it has been handled.
final class HandledEvents: Sendable {
    private let events = Mutex<[NetlinkEvent]>([])
    func append(_ event: NetlinkEvent) { events.withLock { $0.append(event) } }
    func containsLink(named name: String) -> Bool {
        events.withLock { $0.contains { if case .linkChanged(let l) = $0 { l.name == name } else { false } } }
    }
}
