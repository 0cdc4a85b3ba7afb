// Datapath conditions in health and in `hostgw check`: a critical one (forwarding off) fails
// /healthz but keeps the watchdog fed; a warning (drop policy) leaves health alone and makes the
// check WARNING; each condition is named once in the check's line.
import Foundation
import NetAddress
import RouteSync
import Testing

@testable import HostGwAgent

@Suite struct DatapathHealthTests {
    let policy = HealthPolicy(stuckAfter: .seconds(90), storeGrace: .seconds(60), leaseExpiryMargin: .seconds(3600))
    let now = Date(timeIntervalSince1970: 2_000_000)
    let forwardingOff = DatapathFinding(
        .ipv4ForwardingOff, .critical, detail: "IPv4 forwarding is off (net.ipv4.ip_forward = 0): this node forwards no pod traffic",
        fix: "sysctl -w net.ipv4.ip_forward=1")
    let dropPolicy = DatapathFinding(
        .forwardPolicyDrop, .warning,
        detail: "policy drop on forward hook chain ip filter/FORWARD; make sure pod traffic (network 10.244.0.0/16) is accepted",
        fix: "iptables -P FORWARD ACCEPT")

    func snapshot(_ findings: [DatapathFinding]) -> HealthSnapshot {
        var s = HealthSnapshot()
        s.startedAt = now.addingTimeInterval(-100)
        s.lastReconcile = now.addingTimeInterval(-1)
        s.lastProgress = now.addingTimeInterval(-1)
        s.datapath = findings
        return s
    }

    @Test func forwardingOffIsUnhealthyButTheWatchdogKeepsPinging() {
        let s = snapshot([forwardingOff, dropPolicy])
        #expect(healthProblems(s, policy: policy, now: now) == [.datapath(forwardingOff)])
        #expect(watchdogShouldPing(s, policy: policy, now: now))
        #expect(healthProblems(snapshot([dropPolicy]), policy: policy, now: now).isEmpty)
    }

    func report(_ findings: [DatapathFinding], agentRunning: Bool = true) -> NodeStatusReport {
        let s = snapshot(findings)
        return NodeStatusReport(
            generatedAt: now, node: "n1", agentRunning: agentRunning, agentVersion: "t", interface: "eth0", publicIP: nil, publicIPv6: nil,
            lease: .init(subnet: IPPrefix("10.244.1.0/24"), ipv6Subnet: nil, expiration: nil, reservation: true, lastRenewal: nil, renewalFailures: 0, lastError: nil),
            store: .init(backend: "embedded", reachable: true), ready: true,
            healthProblems: agentRunning ? healthProblems(s, policy: policy, now: now).map(\.description) : [],
            routeSync: RouteSyncStatus(
                observeOnly: false, peers: [], routesInstalled: 0, recentDrift: [], driftCounts: [:], peerCounts: [:],
                lastFullSync: now, lastPassDurationSeconds: nil, lastPassError: nil, passes: 1),
            notes: [],
            datapath: DatapathReport(checkedAt: now, forwarding: [], forwardChains: [], filterError: nil, legacyTables: [], conditions: findings, limits: []))
    }

    @Test func checkIsCriticalForForwardingOffAndNamesItOnce() {
        let r = evaluateCheck(report([forwardingOff, dropPolicy]), CheckThresholds(), now: now)
        #expect(r.state == .critical)
        #expect(r.line.components(separatedBy: "ipv4-forwarding-off").count == 2)
        #expect(r.line.contains("forward-policy-drop: policy drop on forward hook chain ip filter/FORWARD"))
    }

    @Test func checkWarnsForADropPolicyAndIsOkWithoutConditions() {
        let warned = evaluateCheck(report([dropPolicy]), CheckThresholds(), now: now)
        #expect(warned.state == .warning)
        #expect(warned.line.hasPrefix("HOSTGW WARNING - forward-policy-drop: policy drop on forward hook chain ip filter/FORWARD; make sure pod traffic (network 10.244.0.0/16) is accepted"))
        #expect(evaluateCheck(report([]), CheckThresholds(), now: now).state == .ok)
    }

    @Test func statusJSONCarriesTypedConditions() throws {
        let data = try report([forwardingOff]).jsonData()
        let back = try NodeStatusReport.decode(data)
        #expect(back.datapath?.conditions == [forwardingOff])
        #expect(String(decoding: data, as: UTF8.self).contains("\"condition\" : \"ipv4-forwarding-off\""))
        #expect(renderStatus(report([forwardingOff])).contains("CRITICAL ipv4-forwarding-off: IPv4 forwarding is off"))
    }

    let rpStrict = DatapathFinding(
        .rpFilterStrict, .warning,
        detail: "strict reverse-path filtering on eth0 (rp_filter all 0, eth0 1) while hostgw's routes are in table 100, which the reverse-path lookup reaches only through an ip rule that matches it (fwmark rules do not): pod traffic from other nodes is dropped where the route back to its source does not leave by eth0",
        fix: "sysctl -w net.ipv4.conf.eth0.rp_filter=2")

    @Test func strictRpFilterIsACheckWarningAndLeavesHealthAlone() {
        #expect(healthProblems(snapshot([rpStrict]), policy: policy, now: now).isEmpty)
        let r = evaluateCheck(report([rpStrict]), CheckThresholds(), now: now)
        #expect(r.state == .warning)
        #expect(r.line.hasPrefix("HOSTGW WARNING - rp-filter-strict: strict reverse-path filtering on eth0"))
        #expect(r.line.contains("fix: sysctl -w net.ipv4.conf.eth0.rp_filter=2"))
    }

    @Test func statusShowsRpFilterTableAndBridgeNetfilter() throws {
        var r = report([rpStrict])
        r.datapath?.forwarding = [.init(family: .v4, scope: "all", enabled: true), .init(family: .v4, scope: "eth0", enabled: true)]
        r.datapath?.rpFilter = ReversePathFilter(all: 0, interface: 1)
        r.datapath?.routeTable = 100
        r.datapath?.bridgeNetfilter = BridgeNetfilter(loaded: true, callIptables: true, callIp6tables: false)
        let text = renderStatus(r)
        #expect(text.contains("rp_filter eth0 strict (all 0, eth0 1), hostgw's routes in table 100; br_netfilter: bridge-nf-call-iptables 1, bridge-nf-call-ip6tables 0"))
        #expect(text.contains("WARNING rp-filter-strict: strict reverse-path filtering on eth0"))
        r.datapath?.bridgeNetfilter = .notLoaded
        #expect(renderStatus(r).contains("br_netfilter: not loaded (no /proc/sys/net/bridge)"))
        let back = try NodeStatusReport.decode(try r.jsonData())
        #expect(back.datapath?.rpFilter?.effective == 1)
        #expect(back.datapath?.bridgeNetfilter == .notLoaded)
        #expect(back.datapath?.routeTable == 100)
    }

    @Test func bridgeSwitchesAreReadFromTheDirectoryAndAbsenceMeansNotLoaded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-brnf-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(KernelDatapath.bridgeNetfilter(directory: dir) == .notLoaded)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "1\n".write(toFile: dir + "/bridge-nf-call-iptables", atomically: true, encoding: .utf8)
        try "0\n".write(toFile: dir + "/bridge-nf-call-ip6tables", atomically: true, encoding: .utf8)
        #expect(KernelDatapath.bridgeNetfilter(directory: dir) == BridgeNetfilter(loaded: true, callIptables: true, callIp6tables: false))
        try FileManager.default.removeItem(atPath: dir + "/bridge-nf-call-ip6tables")
        #expect(KernelDatapath.bridgeNetfilter(directory: dir) == BridgeNetfilter(loaded: true, callIptables: true, callIp6tables: nil))
    }
}
