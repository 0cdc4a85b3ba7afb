// Against the kernel, in a namespace of its own: the neighbour dump reports entries as `ip neigh`
// shows them (state and link-layer address), and the monitor hears an entry change its link-layer
// address and fail; the neighbour table's thresholds and counters read as `ip -s ntable` shows them.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Foundation
import Testing

@Suite(.needsRoot)
struct KernelNeighbourTests {
    @Test func dumpShowsStatesAndLinkAddresses() throws {
        let lab = try Lab("nl-neigh")
        defer { lab.namespace.delete() }
        _ = try lab.namespace.ip(["neigh", "add", "10.250.0.5", "lladdr", "02:00:00:00:00:05", "dev", Lab.linkName, "nud", "reachable"])
        _ = try lab.namespace.ip(["neigh", "add", "10.250.0.7", "dev", Lab.linkName, "nud", "failed"])
        _ = try lab.namespace.ip(["neigh", "add", "fd00:250::9", "lladdr", "02:00:00:00:00:09", "dev", Lab.linkName, "nud", "permanent"])
        let v4 = try lab.socket.neighbours(family: .v4)
        let five = try #require(v4.first { $0.address == (try? ip("10.250.0.5")) })
        #expect(five.state == .reachable)
        #expect(five.linkAddressText == "02:00:00:00:00:05")
        #expect(five.interfaceIndex == lab.ifindex)
        #expect(!five.state.isUnresolved)
        let seven = try #require(v4.first { $0.address == (try? ip("10.250.0.7")) })
        #expect(seven.state == .failed)
        #expect(seven.state.isUnresolved)
        #expect(seven.linkAddress == nil)
        #expect(v4.allSatisfy { $0.address.family == .v4 })
        let v6 = try lab.socket.neighbours(family: .v6)
        #expect(v6.first { $0.address == (try? ip("fd00:250::9")) }?.state == .permanent)
        #expect(!v6.contains { $0.address.family == .v4 })
    }

    @Test func monitorHearsLinkAddressChangeAndFailure() async throws {
        let lab = try Lab("nl-neigh-mon")
        defer { lab.namespace.delete() }
        _ = try lab.namespace.ip(["neigh", "add", "10.250.0.5", "lladdr", "02:00:00:00:00:05", "dev", Lab.linkName, "nud", "reachable"])
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name, groups: .neighbours)
        defer { monitor.stop() }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            monitor.stop()
        }
        defer { watchdog.cancel() }
        _ = try lab.namespace.ip(["neigh", "replace", "10.250.0.5", "lladdr", "02:00:00:00:00:06", "dev", Lab.linkName, "nud", "reachable"])
        _ = try lab.namespace.ip(["neigh", "replace", "10.250.0.5", "dev", Lab.linkName, "nud", "failed"])
        _ = try lab.namespace.ip(["neigh", "del", "10.250.0.5", "dev", Lab.linkName])
        var seen: [NetlinkEvent] = []
        let five = try ip("10.250.0.5")
        for await event in monitor {
            switch event {
            case .neighbourChanged(let n) where n.address == five: seen.append(event)
            case .neighbourRemoved(let n) where n.address == five:
                seen.append(event)
            default: continue
            }
            if case .neighbourRemoved = event { break }
        }
        let changes = seen.compactMap { e -> Neighbour? in if case .neighbourChanged(let n) = e { n } else { nil } }
        #expect(changes.contains { $0.linkAddressText == "02:00:00:00:00:06" && $0.state == .reachable })
        #expect(changes.contains { $0.state == .failed })
        #expect(seen.last.map { if case .neighbourRemoved = $0 { true } else { false } } == true)
    }

    @Test func neighbourTableReadsAsIpNtableShowsIt() throws {
        let lab = try Lab("nl-ntable")
        defer { lab.namespace.delete() }
        _ = try lab.namespace.ip(["neigh", "add", "10.250.0.5", "lladdr", "02:00:00:00:00:05", "dev", Lab.linkName, "nud", "reachable"])
        for (family, name) in [(IPFamily.v4, "arp_cache"), (.v6, "ndisc_cache")] {
            // `ip` first: the counter read after it can only be as large or larger.
            let text = try lab.namespace.ip(["-s", "ntable", "show", "name", name])
            let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
            func value(after word: String) -> UInt64? {
                words.firstIndex(of: word).flatMap { words.index(after: $0) < words.endIndex ? UInt64(words[$0 + 1]) : nil }
            }
            let table = try #require(try lab.socket.neighbourTable(family: family), "no \(name) in the dump")
            #expect(table.family == family)
            #expect(table.name == name)
            #expect(UInt64(table.gcThresh1) == value(after: "thresh1"))
            #expect(UInt64(table.gcThresh2) == value(after: "thresh2"))
            #expect(UInt64(table.gcThresh3) == value(after: "thresh3"))
            let fulls = try #require(value(after: "table_fulls"), "ip printed no table_fulls: \(text)")
            #expect(try #require(table.tableFulls) >= fulls)
            #expect(table.forcedGCRuns != nil)
            if family == .v4 { #expect(try #require(table.entries) >= 1) }
        }
    }
}
