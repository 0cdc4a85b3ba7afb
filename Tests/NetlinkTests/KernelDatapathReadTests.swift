// Against the kernel, in a namespace of its own: the NETCONF dump and notifications follow
// `sysctl -w` (forwarding and rp_filter, on conf.all and on the interface), and the nftables
// chain dump sees iptables-nft's FORWARD policy and a native nft forward chain, hook and policy
// included.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Foundation
import Testing

@Suite(.needsRoot)
struct KernelDatapathReadTests {
    @Test func netconfDumpFollowsSysctl() throws {
        let lab = try Lab("nl-netconf")
        defer { lab.namespace.delete() }
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        var entries = try lab.socket.netconf(family: .v4)
        #expect(entries.first { $0.scope == .all }?.forwarding == true)
        #expect(entries.first { $0.scope == .interface(lab.ifindex) }?.forwarding == true)
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.conf.\(Lab.linkName).forwarding=0"])
        entries = try lab.socket.netconf(family: .v4)
        #expect(entries.first { $0.scope == .all }?.forwarding == true)
        #expect(entries.first { $0.scope == .interface(lab.ifindex) }?.forwarding == false)
        let v6 = try lab.socket.netconf(family: .v6)
        #expect(v6.allSatisfy { $0.family == .v6 })
        #expect(v6.contains { $0.scope == .all && $0.forwarding != nil })
    }

    @Test func monitorHearsForwardingTurnedOff() async throws {
        let lab = try Lab("nl-netconf-mon")
        defer { lab.namespace.delete() }
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name, groups: .netconf)
        defer { monitor.stop() }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            monitor.stop()
        }
        defer { watchdog.cancel() }
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.ip_forward=0"])
        var heard: NetconfEntry?
        for await event in monitor {
            if case .netconfChanged(let e) = event, e.family == .v4, e.scope == .all {
                heard = e
                break
            }
        }
        #expect(heard?.forwarding == false)
    }

    @Test func netconfDumpCarriesRpFilterPerScope() throws {
        let lab = try Lab("nl-rpf")
        defer { lab.namespace.delete() }
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.\(Lab.linkName).rp_filter=1"])
        var entries = try lab.socket.netconf(family: .v4)
        #expect(entries.first { $0.scope == .all }?.rpFilter == 0)
        #expect(entries.first { $0.scope == .interface(lab.ifindex) }?.rpFilter == 1)
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=2", "net.ipv4.conf.\(Lab.linkName).rp_filter=0"])
        entries = try lab.socket.netconf(family: .v4)
        #expect(entries.first { $0.scope == .all }?.rpFilter == 2)
        #expect(entries.first { $0.scope == .interface(lab.ifindex) }?.rpFilter == 0)
    }

    @Test func monitorHearsRpFilterChangesOnTheInterfaceAndOnAll() async throws {
        let lab = try Lab("nl-rpf-mon")
        defer { lab.namespace.delete() }
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.\(Lab.linkName).rp_filter=0"])
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name, groups: .netconf)
        defer { monitor.stop() }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            monitor.stop()
        }
        defer { watchdog.cancel() }
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.conf.\(Lab.linkName).rp_filter=1"])
        try lab.namespace.run(["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=2"])
        var onInterface: UInt32?
        var onAll: UInt32?
        for await event in monitor {
            guard case .netconfChanged(let e) = event, e.family == .v4, let r = e.rpFilter else { continue }
            if e.scope == .interface(lab.ifindex) { onInterface = r }
            if e.scope == .all { onAll = r }
            if onInterface != nil, onAll != nil { break }
        }
        #expect(onInterface == 1)
        #expect(onAll == 2)
    }

    @Test func chainDumpSeesForwardDropPolicies() throws {
        let lab = try Lab("nl-nft")
        defer { lab.namespace.delete() }
        let nf = try NetfilterSocket(namespace: lab.namespace.name)
        #expect(try nf.chains().filter { $0.hook == FilterChain.forwardHook }.isEmpty)

        try lab.namespace.run(["iptables", "-P", "FORWARD", "DROP"])
        try lab.namespace.run(["nft", "add table inet hgwt"])
        try lab.namespace.run(["nft", "add chain inet hgwt pods { type filter hook forward priority -5 ; policy drop ; }"])
        try lab.namespace.run(["nft", "add chain inet hgwt regular"])
        let chains = try nf.chains()
        #expect(chains.contains(FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, priority: 0, policy: .drop, type: "filter")))
        #expect(chains.contains(FilterChain(family: .inet, table: "hgwt", name: "pods", hook: 2, priority: -5, policy: .drop, type: "filter")))
        #expect(chains.contains(FilterChain(family: .inet, table: "hgwt", name: "regular")))

        try lab.namespace.run(["iptables", "-P", "FORWARD", "ACCEPT"])
        #expect(try nf.chains().first { $0.family == .ip && $0.name == "FORWARD" }?.policy == .accept)
    }
}
