// Online and offline status judge peers by one function (RouteSync.PeerJudgement): for the same
// store and the same kernel, `hostgw status` with the agent down reports the peers, states,
// reasons and drift the running reconciler reports, and `hostgw check` raises the same peer and
// drift reasons. Both look at one namespace: the reconciler through a NetlinkClient opened in it,
// `hostgw status --json` run inside it with `ip netns exec`, both reading one embedded store file.
import Foundation
import HostGwTestSupport
import NetAddress
import Netlink
import RouteSync
import SubnetLease
import Testing

@testable import HostGwAgent

@Suite(.needsRoot)
struct OfflineStatusAgreementTests {
    /// One peer lease of both families: subnets and the gateways its lease carries.
    struct Peer {
        var node: String
        var v4: String
        var via: String
        var v6: String
        var via6: String
    }

    // This node is `self` at 10.0.0.1 / fd00::1 on veth0; peers at 10.0.0.x / fd00::x are on-link.
    static let peers = [
        Peer(node: "self", v4: "10.244.1.0/24", via: "10.0.0.1", v6: "fd10:244:0:1::/64", via6: "fd00::1"),
        Peer(node: "b", v4: "10.244.2.0/24", via: "10.0.0.2", v6: "fd10:244:0:2::/64", via6: "fd00::2"),
        Peer(node: "c", v4: "10.244.3.0/24", via: "10.0.0.3", v6: "fd10:244:0:3::/64", via6: "fd00::3"),
        Peer(node: "d", v4: "10.244.4.0/24", via: "10.0.0.4", v6: "fd10:244:0:4::/64", via6: "fd00::4"),
        Peer(node: "e", v4: "10.244.5.0/24", via: "10.0.0.5", v6: "fd10:244:0:5::/64", via6: "fd00::5"),
        Peer(node: "f", v4: "10.244.6.0/24", via: "192.168.9.6", v6: "fd10:244:0:6::/64", via6: "fd99::6"),
        Peer(node: "g", v4: "10.244.7.0/24", via: "10.0.0.1", v6: "fd10:244:0:7::/64", via6: "fd00::1"),
        Peer(node: "h", v4: "10.244.8.0/24", via: "10.0.0.8", v6: "fd10:244:0:8::/64", via6: "fd00::8"),
    ]

    /// The kernel as the test leaves it, and what each peer route then is.
    static let kernel: [[String]] = [
        // b: both routes as the leases ask.
        ["route", "add", "10.244.2.0/24", "via", "10.0.0.2", "dev", "veth0", "proto", "77"],
        ["-6", "route", "add", "fd10:244:0:2::/64", "via", "fd00::2", "dev", "veth0", "proto", "77"],
        // c: IPv4 missing, IPv6 via the wrong gateway.
        ["-6", "route", "add", "fd10:244:0:3::/64", "via", "fd00::33", "dev", "veth0", "proto", "77"],
        // d: IPv4 via the wrong gateway, IPv6 missing.
        ["route", "add", "10.244.4.0/24", "via", "10.0.0.44", "dev", "veth0", "proto", "77"],
        // e: another owner's routes inside both subnets.
        ["route", "add", "10.244.5.0/25", "via", "10.0.0.50", "dev", "veth0", "proto", "static"],
        ["-6", "route", "add", "fd10:244:0:5::/80", "via", "fd00::50", "dev", "veth0", "proto", "static"],
        // h: flanneld's route (proto boot), adopted when adopt-protocol is boot.
        ["route", "add", "10.244.8.0/24", "via", "10.0.0.8", "dev", "veth0", "proto", "boot"],
        // hostgw routes no lease asks for.
        ["route", "add", "10.244.9.0/24", "via", "10.0.0.9", "dev", "veth0", "proto", "77"],
        ["-6", "route", "add", "fd10:244:0:9::/64", "via", "fd00::9", "dev", "veth0", "proto", "77"],
    ]

    static let states: [String: PeerState] = [
        "10.244.2.0/24": .ok, "fd10:244:0:2::/64": .ok,
        "10.244.3.0/24": .missing, "fd10:244:0:3::/64": .changed,
        "10.244.4.0/24": .changed, "fd10:244:0:4::/64": .missing,
        "10.244.5.0/24": .conflict, "fd10:244:0:5::/64": .conflict,
        "10.244.6.0/24": .notAdjacent, "fd10:244:0:6::/64": .notAdjacent,
        "10.244.7.0/24": .invalidLease, "fd10:244:0:7::/64": .invalidLease,
        "10.244.8.0/24": .changed, "fd10:244:0:8::/64": .missing,
    ]

    @Test func offlineStatusReportsWhatTheRunningReconcilerReports() async throws {
        let ns = try NamespaceLab("agree", addresses: ["10.0.0.1/24", "fd00::1/64"])
        defer { ns.delete() }
        for args in Self.kernel { try ns.ip(args) }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-agree-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("store.db").path
        let store = try EmbeddedStore(path: path, logger: quietLogger)
        let keys = LeaseKeys()
        let network = try await store.putConfig(
            Data(#"{"Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd10:244::/56", "Backend": {"Type": "host-gw"}}"#.utf8),
            keys: keys)
        for p in Self.peers {
            let attributes = LeaseAttributes(publicIP: IPv4Address(p.via), publicIPv6: IPv6Address(p.via6), nodeName: p.node)
            _ = try await store.put(
                key: keys.key(subnet: try prefix(p.v4), ipv6Subnet: try prefix(p.v6)), value: try JSONEncoder().encode(attributes))
        }

        // Online: the reconciler as the agent runs it (observe-only, so the kernel stays as set up).
        let own = [try prefix("10.244.1.0/24"), try prefix("fd10:244:0:1::/64")]
        let snapshot = try await store.listLeases(config: network, keys: keys)
        let netlink = try NetlinkClient(namespace: ns.name)
        defer { netlink.close() }
        let reconciler = RouteReconciler(
            config: RouteSyncConfig(network: network, observeOnly: true, localSubnets: own, adoptProtocols: [.boot]),
            kernel: netlink, logger: quietLogger)
        await reconciler.update(leases: snapshot.leases, localSubnets: own)
        try #require(await reconciler.sync() != nil)
        let online = await reconciler.status()
        try await store.shutdown()

        // The scenario holds every case (else agreeing would prove nothing).
        #expect(Dictionary(uniqueKeysWithValues: online.peers.map { ($0.subnet.description, $0.state) }) == Self.states)
        #expect(Set(online.recentDrift.map { "\($0.kind) \($0.subnet)" })
            == ["unexpected 10.244.9.0/24", "unexpected fd10:244:0:9::/64", "conflict 10.244.5.0/24", "conflict fd10:244:0:5::/64"])

        // Offline: `hostgw status` inside the namespace, nothing listening where the agent would.
        let status = try ns.execute([
            "env", "HOSTGW_ADOPT_PROTOCOL=boot", hostGwBinary.path, "status", "--json", "--store-path", path,
            "--node-name", "self", "--listen", "127.0.0.1:1", "--state-dir", dir.appendingPathComponent("state").path,
        ])
        try #require(status.status == 0, "\(status)")
        let offline = try NodeStatusReport.decode(Data(status.stdout.utf8))
        #expect(!offline.agentRunning)
        #expect(offline.lease?.subnet == own[0] && offline.lease?.ipv6Subnet == own[1])
        #expect(offline.interface == "veth0" && offline.publicIP == "10.0.0.1" && offline.publicIPv6 == "fd00::1")

        // The same peers, field by field; only why nothing was repaired differs.
        let expected = online.peers.map { peer in
            var peer = peer
            peer.reason = peer.reason.map(Self.offlineWording)
            return peer
        }
        #expect(offline.routeSync.peers == expected)
        #expect(offline.routeSync.peerCounts == online.peerCounts)
        #expect(offline.routeSync.routesInstalled == online.routesInstalled)
        // The same drift: what the starting agent found is what offline status finds.
        let untimed = { (events: [DriftEvent]) in events.map { e in var e = e; e.time = .distantPast; return e } }
        #expect(untimed(offline.routeSync.recentDrift) == untimed(online.recentDrift))
        #expect(offline.routeSync.driftCounts == online.driftCounts)
        #expect(offline.notes.contains { $0.hasPrefix("2 hostgw route(s) match no lease (10.244.9.0/24, fd10:244:0:9::/64)") }, "\(offline.notes)")

        // The datapath is read offline too: the namespace was made with forwarding off.
        #expect(offline.datapath?.conditions.map(\.condition).contains(.ipv4ForwardingOff) == true, "\(String(describing: offline.datapath))")

        // `hostgw check`: offline raises every peer and drift reason the agent's report raises
        // (the datapath aside: the agent's passes alone were run here, not its datapath watcher).
        var routesOnly = offline
        routesOnly.datapath = nil
        var live = routesOnly
        live.agentRunning = true
        live.routeSync = online
        let now = Date()
        let onlineCheck = evaluateCheck(live, CheckThresholds(), now: now)
        let offlineCheck = evaluateCheck(routesOnly, CheckThresholds(), now: now)
        #expect(onlineCheck.state == .warning)
        #expect(offlineCheck.state == .critical)
        #expect(offlineCheck.line.replacingOccurrences(of: "HOSTGW CRITICAL - agent not running; ", with: "HOSTGW WARNING - ") == onlineCheck.line)
    }

    /// A reason as offline status words it: not repaired because no agent runs, not observe-only.
    static func offlineWording(_ reason: String) -> String {
        let online = PeerJudgement.Unapplied.observeOnly.rawValue + ":"
        guard reason.hasPrefix(online) else { return reason }
        return PeerJudgement.Unapplied.agentNotRunning.rawValue + ":" + reason.dropFirst(online.count)
    }
}
