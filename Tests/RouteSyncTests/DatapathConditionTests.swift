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
}
