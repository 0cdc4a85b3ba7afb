// The monitor reports route changes made by others, and turns lost notifications (a full socket
// receive buffer, or a full event buffer) into `.overrun` instead of losing them silently.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Foundation
import Synchronization
import Testing

@Suite(.needsRoot)
struct KernelMonitorTests {
    /// The first event matching `predicate`, or nil once `limit` passed (the monitor is stopped
    /// then). The limit only guards against a hang: a passing test never waits for it.
    func firstEvent(_ monitor: NetlinkMonitor, within limit: Duration = .seconds(30), where predicate: (NetlinkEvent) -> Bool) async -> NetlinkEvent? {
        let watchdog = Task {
            try await Task.sleep(for: limit)
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
        try lab.namespace.ip(["route", "del", "10.244.7.0/24"])
        let event = await firstEvent(monitor) {
            if case .routeRemoved(let r) = $0 { r.destination == route.destination } else { false }
        }
        #expect(event == .routeRemoved(route))
    }

    /// The socket layer on its own: a subscribed socket nobody reads while 5,000 notifications
    /// arrive must answer the next receive with `.overrun`. Nothing drains it meanwhile, so the
    /// overflow is certain (the monitor's own thread could keep pace with a flood).
    @Test func fullReceiveBufferReadsAsOverrun() throws {
        let lab = try Lab("nl-nobufs")
        defer { lab.namespace.delete() }
        let fd = try SocketIO.openRouteSocket(namespace: lab.namespace.name)
        defer { close(fd) }
        // sockaddr_nl { family, pad, pid 0 (kernel assigns), groups RTMGRP_IPV4_ROUTE (0x40) }
        var address: [UInt8] = [UInt8(AF_NETLINK), 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0]
        let bound = address.withUnsafeMutableBytes { raw in
            bind(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        try #require(bound == 0, "bind to RTMGRP_IPV4_ROUTE failed: errno \(errno)")
        try #require(SocketIO.setBufferSize(fd: fd, receive: true, bytes: 4096))

        let routes = try (0..<5000).map { i in try lab.route("10.\(64 + i / 256).\(i % 256).0/24", via: "10.250.0.2") }
        let results = try lab.socket.apply(routes.map { RouteChange(.add, $0) }, batchSize: 5000)
        #expect(results.allSatisfy { (try? $0.get()) != nil })

        let outcome = try DatagramReceiver(count: 8).receive(fd: fd, nonBlocking: true)
        if case .overrun = outcome {} else { Issue.record("expected .overrun after a flood into a 4 KiB buffer, got \(outcome)") }
    }

    /// End to end: more notifications than the monitor can hold (socket buffer of 4 KiB plus
    /// `bufferedEvents` in the stream) arrive while the monitor's reader is held. Some must be
    /// lost, so the consumer must hear `.overrun` once the reader is released.
    @Test func floodWithTinyBufferSurfacesAsOverrun() async throws {
        let lab = try Lab("nl-enobufs")
        defer { lab.namespace.delete() }
        // The monitor's thread is held while the flood lands, so the tiny buffer overflows every
        // time instead of only when the reader happens to fall behind.
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name, receiveBufferSize: 4096, held: true)
        defer { monitor.stop() }
        let count = NetlinkMonitor.bufferedEvents + 2000
        let routes = try (0..<count).map { i in
            try lab.route("10.\(64 + i >> 16).\((i >> 8) & 255).\(i & 255)/32", via: "10.250.0.2")
        }
        let results = try lab.socket.apply(routes.map { RouteChange(.add, $0) }, batchSize: 5000)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        monitor.release()
        let event = await firstEvent(monitor, within: .seconds(30)) { $0 == .overrun }
        #expect(event == .overrun)
    }

    @Test func stopEndsTheSequenceWithoutAnyEvent() async throws {
        let lab = try Lab("nl-stop")
        defer { lab.namespace.delete() }
        let monitor = try NetlinkMonitor(namespace: lab.namespace.name)
        let ended = Mutex(false)
        let waiter = Task {
            for await _ in monitor {}
            ended.withLock { $0 = true }
        }
        // Nothing changes in the namespace: only stop() can end the sequence.
        try await Task.sleep(for: .milliseconds(50))
        #expect(!ended.withLock { $0 })
        monitor.stop()
        #expect(await completes(waiter, within: .seconds(30)), "the sequence did not end after stop()")
        #expect(ended.withLock { $0 })
    }
}

/// Whether `task` finishes before `limit`; the limit is a hang guard, not a performance bound.
func completes(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
    let (stream, continuation) = AsyncStream.makeStream(of: Bool.self)
    let finished = Task {
        await task.value
        continuation.yield(true)
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        continuation.yield(false)
    }
    var iterator = stream.makeAsyncIterator()
    let result = await iterator.next() ?? false
    timer.cancel()
    if !result { finished.cancel() }
    continuation.finish()
    return result
}
