// Against the kernel, in a namespace of its own: the rule dump reads back what `ip rule add`
// wrote (priority, table, fwmark and mask, from, iif, not), the kernel's defaults included.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

@Suite(.needsRoot)
struct KernelRulesTests {
    @Test func ruleDumpReadsWhatIpRuleWrote() throws {
        let lab = try Lab("nl-rules")
        defer { lab.namespace.delete() }
        _ = try lab.namespace.ip(["rule", "add", "fwmark", "0x64", "lookup", "100", "priority", "100"])
        _ = try lab.namespace.ip(["rule", "add", "fwmark", "0x10/0xf0", "lookup", "1000", "priority", "110"])
        _ = try lab.namespace.ip(["rule", "add", "not", "from", "10.244.3.0/24", "iif", "hgw0", "lookup", "main", "priority", "120"])
        _ = try lab.namespace.ip(["rule", "add", "nop", "priority", "140"])
        _ = try lab.namespace.ip(["-6", "rule", "add", "from", "fd10:244:0:3::/64", "lookup", "100", "priority", "130"])

        let v4 = try lab.socket.rules(family: .v4)
        #expect(v4.allSatisfy { $0.family == .v4 })
        #expect(v4.contains { $0.priority == 0 && $0.table == RouteTableID.local && $0.action == .lookup })
        #expect(v4.contains { $0.priority == 32766 && $0.table == RouteTableID.main })
        let mark = try #require(v4.first { $0.priority == 100 })
        #expect(mark.table == 100 && mark.fwmark == 0x64 && mark.fwmask == .max && mark.source == nil && !mark.inverted)
        #expect(mark.description == "100: from all fwmark 0x64 lookup 100")
        let masked = try #require(v4.first { $0.priority == 110 })
        #expect(masked.table == 1000 && masked.fwmark == 0x10 && masked.fwmask == 0xf0)
        let not = try #require(v4.first { $0.priority == 120 })
        let notFrom = try prefix("10.244.3.0/24")
        #expect(not.inverted && not.source == notFrom && not.inputInterface == "hgw0" && not.table == RouteTableID.main)
        #expect(not.description == "120: not from 10.244.3.0/24 iif hgw0 lookup 254")

        #expect(v4.first { $0.priority == 140 }?.action == .nop)
        #expect(v4.first { $0.priority == 140 }?.description == "140: from all nop")

        let v6 = try lab.socket.rules(family: .v6)
        #expect(v6.allSatisfy { $0.family == .v6 })
        let from6 = try #require(v6.first { $0.priority == 130 })
        let from6Prefix = try prefix("fd10:244:0:3::/64")
        #expect(from6.source == from6Prefix && from6.table == 100 && from6.fwmark == nil)
    }
}
