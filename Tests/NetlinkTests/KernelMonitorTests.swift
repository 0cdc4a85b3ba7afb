// The monitor reports route changes made by others, and turns a receive-buffer overflow into
// `.overrun` instead of losing it silently.
@testable import Netlink
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "kernel tests need root to create network namespaces"))
struct KernelMonitorTests {
    /// The first event matching `predicate`, or nil after `seconds` (the monitor is stopped then).
    func firstEvent(_ monitor: NetlinkMonitor, within seconds: Int, where predicate: (NetlinkEvent) -> Bool) async -> NetlinkEvent? {
        let watchdog = Task {
            try await Task.sleep(for: .seconds(seconds))
            monitor.stop()
        }
        defer { watchdog.cancel() }
        for await event in monitor where predicate(event) { return event }
        return nil
    }

    @Test func seesRouteRemovedByIpRouteDel() async throws {
        let lab = try Lab("nl-mon")
        defer { lab.namespace.delete() }
        let route = try lab.route("10.244.7.0/24", via: "10.250.0.2")
        try lab.socket.add(route)
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name)
        defer { monitor.stop() }
        try lab.namespace.run(["ip", "route", "del", "10.244.7.0/24"])
        let event = await firstEvent(monitor, within: 5) {
            if case .routeRemoved(let r) = $0 { r.destination == route.destination } else { false }
        }
        #expect(event == .routeRemoved(route))
    }

    @Test func floodWithTinyBufferSurfacesAsOverrun() async throws {
        let lab = try Lab("nl-enobufs")
        defer { lab.namespace.delete() }
        // The monitor's thread is held while the flood lands, so the tiny buffer overflows every
        // time instead of only when the reader happens to fall behind.
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name, receiveBufferSize: 4096, held: true)
        defer { monitor.stop() }
        let routes = try (0..<5000).map { i in try lab.route("10.\(64 + i / 256).\(i % 256).0/24", via: "10.250.0.2") }
        let results = try lab.socket.apply(routes.map { RouteChange(.add, $0) }, batchSize: 5000)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        monitor.release()
        let event = await firstEvent(monitor, within: 10) { $0 == .overrun }
        #expect(event == .overrun)
    }

    @Test func stopEndsTheSequencePromptly() async throws {
        let lab = try Lab("nl-stop")
        defer { lab.namespace.delete() }
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name)
        let started = ContinuousClock.now
        let waiter = Task { for await _ in monitor {} }
        try await Task.sleep(for: .milliseconds(50))
        monitor.stop()
        await waiter.value
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
