// Where `hostgw status` and `hostgw check` get their report: from the running agent (loopback
// /status), or — when it is not running — from the store and the kernel directly, judged by the
// reconciler's own `PeerJudgement` so both paths report the same peers, reasons and drift.
import NetAddress
import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import Netlink
import NIOCore
import NIOHTTP1
import RouteSync
import SubnetLease

enum StatusSource {
    /// The running agent's report, or nil when nothing answers on the listener.
    static func fromAgent(_ q: NodeQuery) async -> NodeStatusReport? {
        do {
            let request = HTTPClientRequest(url: q.statusURL)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(2))
            guard response.status.code == 200 else { return nil }
            let body = try await response.body.collect(upTo: 16 << 20)
            return try NodeStatusReport.decode(Data(body.readableBytesView))
        } catch {
            return nil
        }
    }

    /// The report computed without the agent: leases from the store, routes from the kernel.
    static func offline(_ q: NodeQuery, store s: StoreSettings) async -> NodeStatusReport {
        let now = Date()
        var notes = ["the agent is not running (nothing answers at \(q.statusURL)); states are computed from the store and the kernel"]
        var storeReport = NodeStatusReport.StoreReport(backend: s.summary, reachable: true)
        var leaseReport: NodeStatusReport.LeaseReport?
        var sync = RouteSyncStatus(
            observeOnly: false, peers: [], routesInstalled: 0, recentDrift: [], driftCounts: [:], peerCounts: [:],
            lastFullSync: nil, lastPassDurationSeconds: nil, lastPassError: nil, passes: 0)
        var interfaceName: String?
        var publicIP: String?
        var publicIPv6: String?

        var kernel: (links: [Link], addresses: [InterfaceAddress], routes: [Route])?
        var netlink: NetlinkClient?
        do {
            let nl = try NetlinkClient()
            netlink = nl
            kernel = (try await nl.links(), try await nl.addresses(), try await nl.routes(family: nil, table: q.table, protocol: nil))
        } catch {
            notes.append("cannot read the kernel's routes: \(error)")
        }
        defer { netlink?.close() }
        var datapath: DatapathReport?
        if let kernel { sync.routesInstalled = kernel.routes.filter { $0.protocol == q.routeProtocol }.count }

        var store: (any SubnetStore)?
        do {
            let opened = try makeStore(s, access: .readOnly, logger: adminLogger())
            store = opened
            let keys = LeaseKeys(prefix: s.prefix)
            let config = try await opened.getConfig(keys: keys)
            let snap = try await opened.listLeases(config: config, keys: keys)
            storeReport.invalidEntries = snap.skipped.count
            let holder = LeaseHolder.existing(stateDirectory: q.stateDir)
            var mine = snap.leases.first { ownedBy($0, node: q.nodeName, kernel?.addresses ?? [], holder: holder, keys: keys) }
            // Only the own lease's expiry is shown: one lookup, not one per lease.
            if let found = mine { mine = try await opened.withExpiry(found, keys: keys) }
            if let mine {
                leaseReport = .init(
                    subnet: mine.subnet, ipv6Subnet: mine.ipv6Subnet, expiration: mine.expiration, reservation: mine.isReservation,
                    lastRenewal: nil, renewalFailures: 0, lastError: nil)
                if let k = kernel {
                    // The lease's own addresses on this host, of both families: what the agent chose.
                    let local = { (family: IPFamily) in mine.gateway(for: family).flatMap { ip in k.addresses.first { $0.address == ip } } }
                    let (v4, v6) = (local(.v4), local(.v6))
                    interfaceName = (v4 ?? v6).flatMap { a in k.links.first { $0.index == a.interfaceIndex }?.name }
                    publicIP = v4?.address.description
                    publicIPv6 = v6?.address.description
                }
            }
            if let kernel {
                let config = RouteSyncConfig(
                    network: config, routeProtocol: q.routeProtocol, table: q.table, observeOnly: true,
                    localSubnets: [mine?.subnet, mine?.ipv6Subnet].compactMap { $0 }, adoptProtocols: q.adoptProtocols)
                // The agent's own judgement (a pass's, with nothing remembered and nothing applied).
                let judged = PeerJudgement(
                    leases: snap.leases, config: config, actual: kernel.routes, links: kernel.links, addresses: kernel.addresses)
                sync.peers = judged.peers(unapplied: .agentNotRunning)
                // The datapath conditions the agent would find, read the same way, once.
                if let nl = netlink, mine != nil, let name = interfaceName, let link = kernel.links.first(where: { $0.name == name }) {
                    let own = kernel.routes.filter { $0.protocol == q.routeProtocol }
                    let watcher = DatapathWatcher(
                        config: .init(podNetworks: config.podNetworks, interfaceIndex: link.index, interfaceName: name, routeTable: q.table),
                        access: KernelDatapath(
                            netlink: nl,
                            view: .dump(links: kernel.links, addresses: kernel.addresses, routes: own, localSubnets: config.localSubnets)),
                        metrics: NOOPMetricsHandler.instance, logger: adminLogger())
                    let peers = PeerDirectory(leases: snap.leases, localSubnets: config.localSubnets, families: config.families)
                    await watcher.setPeerMTUs(peers.mtus)
                    await watcher.setPeerGateways(peers.gatewayCounts)
                    await watcher.refresh()
                    datapath = await watcher.report()
                }
                sync.recentDrift = judged.driftEvents(time: now)
                let unexpected = judged.unexpected
                if !unexpected.isEmpty {
                    notes.append("\(unexpected.count) hostgw route(s) match no lease (\(unexpected.prefix(3).map(\.destination.description).joined(separator: ", "))): the agent removes them when it runs")
                }
            }
        } catch let e as ConfigError {
            notes.append("the network config is not usable: \(e)")
        } catch {
            storeReport.reachable = false
            storeReport.lastError = "\(error)"
        }
        if let store { await closeStore(store) }
        // Every state and kind present, as the agent's status has them.
        sync.peerCounts = Dictionary(uniqueKeysWithValues: PeerState.allCases.map { s in (s, sync.peers.count { $0.state == s }) })
        sync.driftCounts = Dictionary(uniqueKeysWithValues: DriftKind.allCases.map { k in (k, sync.recentDrift.count { $0.kind == k }) })
        return NodeStatusReport(
            generatedAt: now, node: q.nodeName, agentRunning: false, agentVersion: nil, interface: interfaceName,
            publicIP: publicIP, publicIPv6: publicIPv6, lease: leaseReport, store: storeReport, ready: nil, healthProblems: [],
            routeSync: sync, notes: notes, datapath: datapath)
    }

    /// Whether `lease` is this machine's, by the agent's own rule (`LeaseOwnership`): its holder
    /// (`holder-id` in the state dir), else its name, else one of this host's addresses; never a
    /// lease that another machine with the same node name holds.
    static func ownedBy(_ lease: Lease, node: String, _ addresses: [InterfaceAddress], holder: LeaseHolder?, keys: LeaseKeys) -> Bool {
        let local: (IPAddress?) -> Bool = { ip in ip.map { ip in addresses.contains { $0.address == ip } } ?? false }
        let me = NodeIdentity(
            nodeName: node, publicIP: local(lease.attributes.publicIP.map(IPAddress.v4)) ? lease.attributes.publicIP : nil,
            publicIPv6: local(lease.attributes.publicIPv6.map(IPAddress.v6)) ? lease.attributes.publicIPv6 : nil, holder: holder)
        return LeaseOwnership.of(lease.attributes, key: keys.key(for: lease), for: me) == .mine
    }
}
