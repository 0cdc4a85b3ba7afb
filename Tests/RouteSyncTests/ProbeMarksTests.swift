// How the agent's pod-path probes reach hostgw's table (ProbeMarks.choose): the rules are walked
// as the kernel walks them for locally sent traffic from the pod gateway, unmarked first, then
// with each fwmark that leads to the table.
import HostGwTestSupport
import NetAddress
import Netlink
import RouteSync
import Testing

@Suite struct ProbeMarksTests {
    let subnet = try! prefix("10.244.3.0/24")
    let subnet6 = try! prefix("fd10:244:0:3::/64")

    /// The kernel's three default rules of a family.
    func defaults(_ family: IPFamily = .v4) -> [RoutingRule] {
        [
            RoutingRule(family: family, priority: 0, table: RouteTableID.local),
            RoutingRule(family: family, priority: 32766, table: RouteTableID.main),
            RoutingRule(family: family, priority: 32767, table: RouteTableID.default),
        ]
    }

    @Test func routesInTheMainTableNeedNoMark() {
        let marks = ProbeMarks.choose(rules: [], table: RouteTableID.main, podSubnets: [subnet, subnet6])
        #expect(marks.ways == [.v4: .unmarked, .v6: .unmarked])
        #expect(marks.mark(.v4) == nil && marks.description == "unmarked")
    }

    @Test func anFwmarkRuleToTheTableGivesItsMark() {
        let rule = RoutingRule(family: .v4, priority: 100, table: 100, fwmark: 0x64, fwmask: .max)
        let marks = ProbeMarks.choose(rules: defaults() + [rule], table: 100, podSubnets: [subnet])
        #expect(marks.ways[.v4] == .mark(0x64, rule: rule))
        #expect(marks.mark(.v4) == 0x64 && marks.mark(.v6) == nil)
        #expect(marks.description == "ipv4 fwmark 0x64 (ip rule 100: from all fwmark 0x64 lookup 100)")
    }

    @Test func aFromRuleCoveringThePodSubnetNeedsNoMark() {
        let from = RoutingRule(family: .v4, priority: 100, table: 100, source: try! prefix("10.244.0.0/16"))
        let mark = RoutingRule(family: .v4, priority: 110, table: 100, fwmark: 0x64)
        #expect(ProbeMarks.choose(rules: defaults() + [from, mark], table: 100, podSubnets: [subnet]).ways[.v4] == .unmarked)
        // A from rule for another subnet does not match the probes; the mark does.
        let other = RoutingRule(family: .v4, priority: 100, table: 100, source: try! prefix("10.245.0.0/16"))
        #expect(ProbeMarks.choose(rules: defaults() + [other, mark], table: 100, podSubnets: [subnet]).mark(.v4) == 0x64)
    }

    @Test func anIifRuleAloneLeavesTheProbesToTheMainTable() {
        let iif = RoutingRule(family: .v4, priority: 100, table: 100, inputInterface: "cni0")
        let marks = ProbeMarks.choose(rules: defaults() + [iif], table: 100, podSubnets: [subnet])
        #expect(marks.ways[.v4] == .noRule(caughtBy: defaults()[1]))
        #expect(marks.mark(.v4) == nil)
        #expect(marks.description.contains("no mark reaches the table (taken by ip rule 32766: from all lookup 254)"))
        // `iif lo` is what locally sent traffic has.
        let lo = RoutingRule(family: .v4, priority: 100, table: 100, inputInterface: "lo")
        #expect(ProbeMarks.choose(rules: defaults() + [lo], table: 100, podSubnets: [subnet]).ways[.v4] == .unmarked)
    }

    @Test func aRuleThatCatchesTheMarkEarlierWinsOverIt() {
        let early = RoutingRule(family: .v4, priority: 50, table: RouteTableID.main, fwmark: 0x64)
        let rule = RoutingRule(family: .v4, priority: 100, table: 100, fwmark: 0x64)
        #expect(ProbeMarks.choose(rules: defaults() + [early, rule], table: 100, podSubnets: [subnet]).ways[.v4] == .noRule(caughtBy: defaults()[1]))
        // A blackhole before the table ends the walk too; a lookup in another table falls through.
        let hole = RoutingRule(family: .v4, priority: 50, table: 0, action: .other(6), fwmark: 0x64)
        #expect(ProbeMarks.choose(rules: defaults() + [hole, rule], table: 100, podSubnets: [subnet]).mark(.v4) == nil)
        let elsewhere = RoutingRule(family: .v4, priority: 50, table: 200)
        #expect(ProbeMarks.choose(rules: defaults() + [elsewhere, rule], table: 100, podSubnets: [subnet]).mark(.v4) == 0x64)
        // A nop before it goes on too.
        let nop = RoutingRule(family: .v4, priority: 50, table: 0, action: .nop)
        #expect(ProbeMarks.choose(rules: defaults() + [nop, rule], table: 100, podSubnets: [subnet]).mark(.v4) == 0x64)
    }

    @Test func maskedAndInvertedRules() {
        // fwmark 0x10/0xf0: a mark of 0x10 matches.
        let masked = RoutingRule(family: .v4, priority: 100, table: 100, fwmark: 0x10, fwmask: 0xf0)
        #expect(ProbeMarks.choose(rules: defaults() + [masked], table: 100, podSubnets: [subnet]).mark(.v4) == 0x10)
        // `not fwmark 0x64 lookup 100` matches unmarked traffic: no mark needed.
        let not = RoutingRule(family: .v4, priority: 100, table: 100, inverted: true, fwmark: 0x64)
        #expect(ProbeMarks.choose(rules: defaults() + [not], table: 100, podSubnets: [subnet]).ways[.v4] == .unmarked)
    }

    @Test func eachFamilyFollowsItsOwnRules() {
        let mark4 = RoutingRule(family: .v4, priority: 100, table: 100, fwmark: 0x64)
        let from6 = RoutingRule(family: .v6, priority: 100, table: 100, source: subnet6)
        let marks = ProbeMarks.choose(rules: defaults() + defaults(.v6) + [mark4, from6], table: 100, podSubnets: [subnet, subnet6])
        #expect(marks.mark(.v4) == 0x64)
        #expect(marks.ways[.v6] == .unmarked)
    }
}
