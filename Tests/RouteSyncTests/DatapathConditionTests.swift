// The datapath decision: raw forwarding settings, nftables chains and legacy tables -> conditions.
import NetAddress
import HostGwTestSupport
import Netlink
@testable import RouteSync
import Testing

@Suite struct DatapathConditionTests {
    let v4Net: IPPrefix
    let v6Net: IPPrefix

    init() throws {
        v4Net = try prefix("10.244.0.0/16")
        v6Net = try prefix("fd10:244::/56")
    }

    func facts(
        v6: Bool = false, v4: [NetconfEntry]? = nil, v6Entries: [NetconfEntry]? = nil,
        chains: Result<[FilterChain], DatapathFacts.ReadFailure> = .success([]), legacy: [String]? = []
    ) -> DatapathFacts {
        var nets: [IPFamily: IPPrefix] = [.v4: v4Net]
        var netconf: [IPFamily: Result<[NetconfEntry], DatapathFacts.ReadFailure>] = [
            .v4: .success(v4 ?? [.init(family: .v4, scope: .all, forwarding: true), .init(family: .v4, scope: .interface(2), forwarding: true)])
        ]
        if v6 {
            nets[.v6] = v6Net
            netconf[.v6] = .success(v6Entries ?? [.init(family: .v6, scope: .all, forwarding: true), .init(family: .v6, scope: .interface(2), forwarding: true)])
        }
        return DatapathFacts(podNetworks: nets, interfaceIndex: 2, interfaceName: "eth0", netconf: netconf, chains: chains, legacyTables: legacy)
    }

    func conditions(_ f: DatapathFacts) -> [DatapathCondition] { DatapathConditions.evaluate(f).map(\.condition) }

    @Test func healthyNodeHasNoCondition() {
        #expect(DatapathConditions.evaluate(facts(v6: true)).isEmpty)
    }

    @Test func globalIPv4ForwardingOffIsCriticalAndNamesTheSysctl() throws {
        let f = DatapathConditions.evaluate(facts(v4: [
            .init(family: .v4, scope: .all, forwarding: false), .init(family: .v4, scope: .interface(2), forwarding: false),
        ]))
        // One finding: writing ip_forward=1 turns every interface on too.
        try #require(f.count == 1)
        #expect(f[0].condition == .ipv4ForwardingOff)
        #expect(f[0].severity == .critical)
        #expect(f[0].fix.hasPrefix("sysctl -w net.ipv4.ip_forward=1"))
    }

    @Test func interfaceIPv4ForwardingOffIsCritical() throws {
        let f = DatapathConditions.evaluate(facts(v4: [
            .init(family: .v4, scope: .all, forwarding: true), .init(family: .v4, scope: .interface(2), forwarding: false),
            .init(family: .v4, scope: .interface(3), forwarding: false),  // another interface: not ours
        ]))
        #expect(f.map(\.condition) == [.ipv4InterfaceForwardingOff])
        #expect(f.first?.severity == .critical)
        #expect(f.first?.fix == "sysctl -w net.ipv4.conf.eth0.forwarding=1")
    }

    @Test func ipv6IsJudgedOnlyWhenTheNetworkHasIt() {
        let off: [NetconfEntry] = [.init(family: .v6, scope: .all, forwarding: false), .init(family: .v6, scope: .interface(2), forwarding: false)]
        #expect(conditions(facts(v6: true, v6Entries: off)) == [.ipv6ForwardingOff])
        var f = facts(v6: false)
        f.netconf[.v6] = .success(off)
        #expect(conditions(f).isEmpty)
        let devOff: [NetconfEntry] = [.init(family: .v6, scope: .all, forwarding: true), .init(family: .v6, scope: .interface(2), forwarding: false)]
        let found = DatapathConditions.evaluate(facts(v6: true, v6Entries: devOff))
        #expect(found.map(\.condition) == [.ipv6InterfaceForwardingOff])
        #expect(found.first?.severity == .warning)
    }

    @Test func unreadableOrMissingForwardingIsUnknownNotOk() {
        var f = facts()
        f.netconf[.v4] = .failure(.init("dump ipv4 netconf: EPERM", errno: .EPERM))
        #expect(conditions(f) == [.forwardingUnknown])
        // The interface has no entry (renamed, gone): unknown too.
        #expect(conditions(facts(v4: [.init(family: .v4, scope: .all, forwarding: true)])) == [.forwardingUnknown])
        f.netconf[.v4] = nil
        #expect(conditions(f) == [.forwardingUnknown])
    }

    @Test(arguments: [
        (FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .drop), true),
        (FilterChain(family: .inet, table: "fw", name: "forward", hook: 2, policy: .drop), true),
        (FilterChain(family: .ip6, table: "filter", name: "FORWARD", hook: 2, policy: .drop), false),  // IPv4-only network
        (FilterChain(family: .ip, table: "filter", name: "INPUT", hook: 1, policy: .drop), false),  // input hook
        (FilterChain(family: .bridge, table: "f", name: "fwd", hook: 2, policy: .drop), false),  // bridge family
        (FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .accept), false),
        (FilterChain(family: .ip, table: "filter", name: "DOCKER-USER"), false),  // regular chain
    ])
    func forwardDropPolicy(chain: FilterChain, found: Bool) throws {
        let f = DatapathConditions.evaluate(facts(chains: .success([chain])))
        #expect(f.map(\.condition) == (found ? [.forwardPolicyDrop] : []))
        if found {
            #expect(f[0].severity == .warning)
            #expect(f[0].detail.contains("policy drop on forward hook chain \(chain.family) \(chain.table)/\(chain.name); make sure pod traffic (network 10.244.0.0/16) is accepted"))
        }
    }

    @Test func iptablesChainGetsIptablesFixAndNftChainGetsNftFix() {
        let ipt = DatapathConditions.evaluate(facts(chains: .success([FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .drop)])))
        #expect(ipt.first?.fix.contains("iptables -A FORWARD -s 10.244.0.0/16 -j ACCEPT") == true)
        #expect(ipt.first?.fix.contains("iptables -P FORWARD ACCEPT") == true)
        let nft = DatapathConditions.evaluate(facts(v6: true, chains: .success([FilterChain(family: .inet, table: "fw", name: "forward", hook: 2, policy: .drop)])))
        #expect(nft.first?.fix.contains("nft add rule inet fw forward ip saddr 10.244.0.0/16 accept") == true)
        #expect(nft.first?.fix.contains("ip6 daddr fd10:244::/56 accept") == true)
    }

    @Test func unreadableFilterAndLegacyTablesAreSaidPlainly() {
        #expect(conditions(facts(chains: .failure(.init("EPERM", errno: .EPERM)))) == [.filterUnreadable])
        #expect(conditions(facts(legacy: ["filter"])) == [.legacyIptables])
        #expect(conditions(facts(legacy: nil)).isEmpty)  // unreadable /proc: not claimed either way
    }

    @Test func criticalFindingsComeFirst() {
        let f = facts(
            v4: [.init(family: .v4, scope: .all, forwarding: false), .init(family: .v4, scope: .interface(2), forwarding: false)],
            chains: .success([FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .drop)]))
        #expect(conditions(f) == [.ipv4ForwardingOff, .forwardPolicyDrop])
    }

    func arp(fulls: UInt64 = 0, thresh2: UInt32 = 512, thresh3: UInt32 = 1024) -> NeighbourTable {
        NeighbourTable(family: .v4, name: "arp_cache", gcThresh1: 128, gcThresh2: thresh2, gcThresh3: thresh3, entries: 1024, tableFulls: fulls)
    }

    @Test func refusedNeighbourEntriesAreCriticalAndNameTheHostsSysctls() throws {
        var f = facts()
        f.neighbourTables = [.v4: NeighbourTableReading(table: arp(fulls: 900), recentRefusals: 37, window: .seconds(8))]
        f.peerGateways = [.v4: 49]
        let found = DatapathConditions.evaluate(f)
        #expect(found.map(\.condition) == [.neighbourTableFull])
        let full = try #require(found.first)
        #expect(full.severity == .critical)
        #expect(full.detail.hasPrefix("the host's IPv4 neighbour table (arp_cache) refused 37 new entries in the last 8 s (gc_thresh3 1024, 1024 entries)"))
        // Twice today's limit (49 gateways need far less), halved and quartered below it.
        #expect(full.fix.contains("sysctl -w net.ipv4.neigh.default.gc_thresh3=2048 net.ipv4.neigh.default.gc_thresh2=1024 net.ipv4.neigh.default.gc_thresh1=512"))
        #expect(full.fix.contains("host's own namespace"))
    }

    @Test func moreGatewaysThanTheTableCollectsIsAWarningSizedForThem() throws {
        var f = facts()
        f.neighbourTables = [.v4: NeighbourTableReading(table: arp())]
        f.peerGateways = [.v4: 512]
        #expect(conditions(f).isEmpty, "512 gateways fit under gc_thresh2 512")
        f.peerGateways = [.v4: 4_999]
        let found = DatapathConditions.evaluate(f)
        #expect(found.map(\.condition) == [.neighbourTableSmall])
        let small = try #require(found.first)
        #expect(small.severity == .warning)
        #expect(small.detail.hasPrefix("4999 IPv4 peer gateways, more than the neighbour table's gc_thresh2 512 and gc_thresh3 1024"))
        // Four entries per gateway, in whole thousands: 19,996 -> 20,480.
        #expect(small.fix.contains("gc_thresh3=20480 net.ipv4.neigh.default.gc_thresh2=10240 net.ipv4.neigh.default.gc_thresh1=5120"))
    }

    @Test func neighbourTablesOfFamiliesNotInUseOrNotReadSayNothing() {
        var f = facts()
        f.peerGateways = [.v4: 5_000]
        #expect(conditions(f).isEmpty, "a table not read is no claim")
        f.neighbourTables = [.v6: NeighbourTableReading(table: NeighbourTable(family: .v6, name: "ndisc_cache", gcThresh1: 128, gcThresh2: 512, gcThresh3: 1024), recentRefusals: 5, window: .seconds(8))]
        f.peerGateways = [.v6: 5_000]
        #expect(conditions(f).isEmpty, "IPv6 is not in this network")
    }
}
