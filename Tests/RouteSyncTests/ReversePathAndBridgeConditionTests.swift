// The rp_filter and br_netfilter decisions: raw NETCONF rp_filter values, the table and egress
// interfaces of hostgw's routes, br_netfilter's switches and the forward chains -> conditions.
import NetAddress
import HostGwTestSupport
import Netlink
@testable import RouteSync
import Testing

@Suite struct ReversePathAndBridgeConditionTests {
    let v4Net: IPPrefix
    let v6Net: IPPrefix
    static let drop4 = FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, policy: .drop)
    static let drop6 = FilterChain(family: .ip6, table: "filter", name: "FORWARD", hook: 2, policy: .drop)
    static let dropInet = FilterChain(family: .inet, table: "fw", name: "forward", hook: 2, policy: .drop)

    init() throws {
        v4Net = try prefix("10.244.0.0/16")
        v6Net = try prefix("fd10:244::/56")
    }

    func facts(
        all: UInt32? = 0, iface: UInt32? = 0, table: UInt32 = RouteTableID.main, egress: [UInt32: String] = [2: "eth0"],
        v6: Bool = false, chains: [FilterChain] = [], bridge: BridgeNetfilter? = nil
    ) -> DatapathFacts {
        var nets: [IPFamily: IPPrefix] = [.v4: v4Net]
        var netconf: [IPFamily: Result<[NetconfEntry], DatapathFacts.ReadFailure>] = [
            .v4: .success([
                .init(family: .v4, scope: .all, forwarding: true, rpFilter: all),
                .init(family: .v4, scope: .interface(2), forwarding: true, rpFilter: iface),
                .init(family: .v4, scope: .interface(7), forwarding: true, rpFilter: 1),  // another interface: not judged
            ])
        ]
        if v6 {
            nets[.v6] = v6Net
            netconf[.v6] = .success([.init(family: .v6, scope: .all, forwarding: true), .init(family: .v6, scope: .interface(2), forwarding: true)])
        }
        return DatapathFacts(
            podNetworks: nets, interfaceIndex: 2, interfaceName: "eth0", netconf: netconf, chains: .success(chains), legacyTables: [],
            routeTable: table, routeInterfaces: egress, bridge: bridge)
    }

    func conditions(_ f: DatapathFacts) -> [DatapathCondition] { DatapathConditions.evaluate(f).map(\.condition) }

    // (all, interface, table, egress, reported): the kernel applies max(all, interface).
    @Test(arguments: [
        (UInt32(0), UInt32(0), UInt32(100), [UInt32(2): "eth0"], false),  // off
        (0, 2, 100, [2: "eth0"], false),  // loose
        (2, 1, 100, [2: "eth0"], false),  // max(2, 1) = 2: loose
        (0, 1, 254, [2: "eth0"], false),  // strict, main table, routes by eth0: the reverse route is eth0
        (0, 1, 100, [2: "eth0"], true),  // strict, another table
        (1, 0, 100, [2: "eth0"], true),  // strict from conf.all
        (0, 1, 254, [2: "eth0", 3: "eth1"], true),  // strict, a peer route leaves by eth1
        (0, 1, 254, [:], false),  // no routes yet: nothing to judge against
    ])
    func strictModeIsReportedOnlyWhereTheReverseRouteIsNotTheNodeInterface(
        all: UInt32, iface: UInt32, table: UInt32, egress: [UInt32: String], reported: Bool
    ) {
        let found = DatapathConditions.evaluate(facts(all: all, iface: iface, table: table, egress: egress))
        #expect(found.map(\.condition) == (reported ? [.rpFilterStrict] : []))
        #expect(found.allSatisfy { $0.severity == .warning })
    }

    @Test func strictModeNamesTheValuesTheReasonAndTheOneFix() throws {
        let f = try #require(DatapathConditions.evaluate(facts(all: 0, iface: 1, table: 100, egress: [2: "eth0", 3: "eth1"])).first)
        #expect(f.detail.hasPrefix("strict reverse-path filtering on eth0 (rp_filter all 0, eth0 1) while hostgw's routes are in table 100"))
        #expect(f.detail.contains("and peer routes leave by eth1, not eth0"))
        // Writing 2 on the interface gives loose whatever conf.all holds (max of the two).
        #expect(f.fix.hasPrefix("sysctl -w net.ipv4.conf.eth0.rp_filter=2"))
    }

    @Test func unknownRpFilterOrNoIPv4IsNotClaimed() {
        #expect(conditions(facts(all: nil, iface: 1, table: 100)).isEmpty)
        var f = facts(all: 1, iface: 1, table: 100)
        f.podNetworks = [.v6: v6Net]
        f.netconf[.v6] = .success([.init(family: .v6, scope: .all, forwarding: true), .init(family: .v6, scope: .interface(2), forwarding: true)])
        #expect(conditions(f).isEmpty)
        #expect(facts(all: 2, iface: 1).rpFilter == ReversePathFilter(all: 2, interface: 1))
        #expect(facts(all: 2, iface: 1).rpFilter?.effective == 2)
    }

    @Test func bridgeNetfilterWithoutADropPolicyOrWithoutTheModuleIsNoCondition() {
        let on = BridgeNetfilter(loaded: true, callIptables: true, callIp6tables: true)
        #expect(conditions(facts(v6: true, bridge: on)).isEmpty)
        #expect(conditions(facts(chains: [Self.drop4], bridge: .notLoaded)) == [.forwardPolicyDrop])
        #expect(conditions(facts(chains: [Self.drop4], bridge: nil)) == [.forwardPolicyDrop])
        #expect(conditions(facts(chains: [Self.drop4], bridge: BridgeNetfilter(loaded: true, callIptables: false))) == [.forwardPolicyDrop])
        // Unreadable switch: not claimed.
        #expect(conditions(facts(chains: [Self.drop4], bridge: BridgeNetfilter(loaded: true))) == [.forwardPolicyDrop])
    }

    @Test func bridgeNetfilterIsJudgedPerFamilyAgainstThatFamilysChains() throws {
        let on = BridgeNetfilter(loaded: true, callIptables: true, callIp6tables: true)
        #expect(conditions(facts(chains: [Self.drop4], bridge: on)) == [.forwardPolicyDrop, .bridgeCallIptables])
        // An ip6 chain on an IPv4-only network is not a forward chain of this network at all.
        #expect(conditions(facts(chains: [Self.drop6], bridge: on)).isEmpty)
        #expect(conditions(facts(v6: true, chains: [Self.drop6], bridge: on)) == [.forwardPolicyDrop, .bridgeCallIp6tables])
        #expect(conditions(facts(v6: true, chains: [Self.dropInet], bridge: on)) == [.forwardPolicyDrop, .bridgeCallIptables, .bridgeCallIp6tables])
        #expect(conditions(facts(v6: true, chains: [Self.dropInet], bridge: BridgeNetfilter(loaded: true, callIptables: false, callIp6tables: true)))
            == [.forwardPolicyDrop, .bridgeCallIp6tables])

        let f = try #require(DatapathConditions.evaluate(facts(chains: [Self.drop4], bridge: on)).first { $0.condition == .bridgeCallIptables })
        #expect(f.severity == .warning)
        #expect(f.detail.contains("net.bridge.bridge-nf-call-iptables = 1"))
        #expect(f.detail.contains("ip filter/FORWARD has policy drop: traffic between pods on this node (10.244.0.0/16) is dropped too"))
        #expect(f.fix.hasPrefix("iptables -A FORWARD -s 10.244.0.0/16 -j ACCEPT"))
        #expect(f.fix.hasSuffix("(keep net.bridge.bridge-nf-call-iptables=1 where kube-proxy needs it)"))
    }
}
