// The probes over real UDP: on loopback in the test's own namespace (the responder's answers,
// its refusal of garbage, a bind error), and between two network namespaces joined by a veth
// (root): the node and pod paths become reachable, go unreachable when the link goes down, and
// come back when it is repaired, with the metrics to show it.
import Foundation
import HostGwTestSupport
import MetricsTestKit
import NIOCore
import NIOPosix
import NetAddress
import Netlink
@testable import RouteSync
import Synchronization
import Testing

/// A UDP socket of the test's own that collects what comes back.
private final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let received = Mutex<[[UInt8]]>([])
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data).data
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        received.withLock { $0.append(bytes) }
    }
}

/// Waits up to `limit` for `condition` (a bounded wait, not a timing assertion).
private func eventually(within limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

@Suite struct ProbeResponderLoopbackTests {
    @Test func answersValidProbesSameSizeAndIgnoresGarbage() async throws {
        let metrics = TestMetrics()
        let responder = ProbeResponder(port: 0, metrics: metrics, logger: quietLogger)
        let port = try await responder.bind()
        let running = Task { try await responder.run() }
        defer { running.cancel() }

        let collector = Collector()
        let client = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { client.close(promise: nil) }
        let remote = try SocketAddress(ipAddress: "127.0.0.1", port: Int(port))
        func send(_ bytes: [UInt8]) async throws {
            var buffer = client.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            try await client.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer))
        }
        let request = ProbePacket(kind: .request, sequence: 7, nonce: 99)
        var wrongMagic = request.bytes
        wrongMagic[1] = 0
        let garbage: [[UInt8]] = [
            [], Array("GET / HTTP/1.1\r\n\r\n".utf8), request.bytes + [0], Array(request.bytes.dropLast()), wrongMagic,
            request.reply.bytes, [UInt8](repeating: 0xFF, count: 1400),
        ]
        for g in garbage { try await send(g) }
        try await send(request.bytes)
        let answered = await eventually {
            collector.received.withLock { !$0.isEmpty } && metrics.counter("hostgw_peer_probe_malformed_total") == Double(garbage.count)
        }
        #expect(answered)
        // Only the valid request got an answer: the reply, same size.
        try await Task.sleep(for: .milliseconds(200))
        let answers = collector.received.withLock { $0 }
        #expect(answers == [request.reply.bytes])
        #expect(answers.first?.count == request.bytes.count)
        #expect(metrics.counter("hostgw_peer_probe_requests_answered_total") == 1)
        #expect(metrics.counter("hostgw_peer_probe_malformed_total") == Double(garbage.count))
    }

    /// A reply leaves from the address the request was sent to (not the one the kernel would
    /// pick for the way back): 127.0.0.2 answers as 127.0.0.2, as a pod gateway answers as itself.
    @Test func repliesComeFromTheAddressProbed() async throws {
        let responder = ProbeResponder(port: 0, metrics: TestMetrics(), logger: quietLogger)
        let port = try await responder.bind()
        let running = Task { try await responder.run() }
        defer { running.cancel() }
        let senders = Mutex<[String]>([])
        final class From: ChannelInboundHandler, Sendable {
            typealias InboundIn = AddressedEnvelope<ByteBuffer>
            let seen: @Sendable (String) -> Void
            init(_ seen: @escaping @Sendable (String) -> Void) { self.seen = seen }
            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                let envelope = unwrapInboundIn(data)
                seen("\(envelope.remoteAddress.ipAddress ?? "?") \(envelope.remoteAddress.port ?? 0)")
            }
        }
        let client = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(From { s in senders.withLock { $0.append(s) } }) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { client.close(promise: nil) }
        for (n, host) in ["127.0.0.2", "127.0.0.3"].enumerated() {
            var buffer = client.allocator.buffer(capacity: ProbePacket.size)
            ProbePacket(kind: .request, sequence: UInt64(n), nonce: 5).write(into: &buffer)
            try await client.writeAndFlush(AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: host, port: Int(port)), data: buffer))
            #expect(await eventually { senders.withLock { $0.count == n + 1 } })
        }
        #expect(senders.withLock { $0 } == ["127.0.0.2 \(port)", "127.0.0.3 \(port)"])
    }

    @Test func aTakenPortIsATypedErrorNamingPortAndErrno() async throws {
        let first = ProbeResponder(port: 0, metrics: TestMetrics(), logger: quietLogger)
        let port = try await first.bind()
        let running = Task { try await first.run() }
        defer { running.cancel() }
        let second = ProbeResponder(port: port, metrics: TestMetrics(), logger: quietLogger)
        do {
            try await second.bind()
            Issue.record("a second responder bound UDP \(port)")
        } catch let error as ProbeSocketError {
            #expect(error.errno == .EADDRINUSE)
            #expect(error.port == port)
            #expect(error.operation == "bind")
            #expect(error.description.contains("\(port)") && error.description.contains("EADDRINUSE"))
        }
    }

    @Test func proberOnLoopbackSeesV4AndV6Reachable() async throws {
        let responder = ProbeResponder(port: 0, metrics: TestMetrics(), logger: quietLogger)
        let port = try await responder.bind()
        let metrics = TestMetrics()
        let prober = PeerProber(
            config: ProbeConfig(port: port, interval: .milliseconds(200), timeout: .milliseconds(500)), metrics: metrics, logger: quietLogger)
        let targets = [
            ProbeTarget(peer: "a", path: .node, address: try ip("127.0.0.1")),
            ProbeTarget(peer: "a", path: .pod, address: try ip("127.0.0.1"), source: try ip("127.0.0.1")),
        ]
        let v6 = ProbeTarget(peer: "b", path: .node, address: try ip("::1"))
        let hasV6 = ProcessRunner.locate("ip").flatMap { try? ProcessRunner.check([$0, "-6", "addr", "show", "dev", "lo"]) }?.contains("::1") ?? false
        await prober.setTargets(targets + (hasV6 ? [v6] : []))
        let tasks = [Task { try await responder.run() }, Task { try await prober.run() }]
        defer { for t in tasks { t.cancel() } }
        let up = await eventually { await prober.stats().values.allSatisfy { $0.state == .reachable } }
        #expect(up)
        let stats = await prober.stats()
        #expect(stats.count == (hasV6 ? 3 : 2))
        for (target, s) in stats { #expect(s.lastRTT != nil && s.received > 0, "\(target): \(s)") }
        #expect(metrics.counter("hostgw_peer_probes_sent_total{path=node}") > 0)
        #expect(metrics.counter("hostgw_peer_probes_sent_total{path=pod}") > 0)
        #expect(metrics.timer("hostgw_peer_probe_rtt_seconds{path=node}") != nil)
        #expect(metrics.gauge("hostgw_peers_unreachable{path=node}") == 0)
        #expect(metrics.gauge("hostgw_peer_probe_budget_limited") == 0)
    }
}

/// Two namespaces, A (the prober) and B (the responder), joined by a veth: 10.77.0.1/24 and
/// fd77::1/64 in A, .2 and ::2 in B; each has a pod bridge (cni0, no ports) with its pod
/// gateway address, 10.78.1.1/24 in A and 10.78.2.1/24 in B, and the pod route to the other.
private final class TwoNodes: Sendable {
    let a: NamespaceLab
    let b: NamespaceLab

    init() throws {
        a = try NamespaceLab("probe-a", addresses: ["10.77.0.1/24", "fd77::1/64"])
        b = try NamespaceLab("probe-b", link: "vethb0", peer: "vethb1", addresses: [])
        do {
            try a.ip("link", "set", a.peer, "netns", b.name)
            try b.ip("addr", "add", "10.77.0.2/24", "dev", a.peer)
            try b.ip("-6", "addr", "add", "fd77::2/64", "dev", a.peer, "nodad")
            try b.ip("link", "set", a.peer, "up")
            for (lab, gateway) in [(a, "10.78.1.1/24"), (b, "10.78.2.1/24")] {
                try lab.ip("link", "add", "cni0", "type", "bridge")
                try lab.ip("addr", "add", gateway, "dev", "cni0")
                try lab.ip("link", "set", "cni0", "up")
            }
            try routes()
        } catch {
            delete()
            throw error
        }
    }

    /// The pod routes both ways (again after a link went down and took them).
    func routes() throws {
        try a.ip("route", "replace", "10.78.2.0/24", "via", "10.77.0.2")
        try b.ip("route", "replace", "10.78.1.0/24", "via", "10.77.0.1")
    }

    func delete() {
        a.delete()
        b.delete()
    }
}

private func all(_ prober: PeerProber, _ state: Reachability, count: Int) async -> Bool {
    let stats = await prober.stats()
    return stats.count == count && stats.values.allSatisfy { $0.state == state }
}

@Suite(.needsRoot, .serialized) struct ProbeNamespaceTests {
    @Test func reachableThenUnreachableWhenTheLinkGoesDownThenBack() async throws {
        let nodes = try TwoNodes()
        defer { nodes.delete() }
        let responderMetrics = TestMetrics()
        let responder = ProbeResponder(port: ProbeConfig.defaultPort, metrics: responderMetrics, logger: quietLogger, namespace: nodes.b.name)
        try await responder.bind()
        let metrics = TestMetrics()
        let prober = PeerProber(
            config: ProbeConfig(interval: .milliseconds(250), timeout: .milliseconds(400), lossesForUnreachable: 3), metrics: metrics,
            logger: quietLogger, namespace: nodes.a.name)
        let targets = [
            ProbeTarget(peer: "10.78.2.0-24", path: .node, address: try ip("10.77.0.2")),
            ProbeTarget(peer: "10.78.2.0-24", path: .node, address: try ip("fd77::2")),
            ProbeTarget(peer: "10.78.2.0-24", path: .pod, address: try ip("10.78.2.1"), source: try ip("10.78.1.1")),
        ]
        await prober.setTargets(targets)
        let updates = await prober.stateChanges()
        let tasks = [Task { try await responder.run() }, Task { try await prober.run() }]
        defer { for t in tasks { t.cancel() } }

        var snapshot = await prober.stats()
        let up = await eventually { await all(prober, .reachable, count: targets.count) }
        snapshot = await prober.stats()
        #expect(up, "\(String(describing: snapshot))")
        #expect(responderMetrics.counter("hostgw_peer_probe_requests_answered_total") > 0)
        let lostBefore = metrics.counter("hostgw_peer_probes_lost_total{path=node}")
        let podLostBefore = metrics.counter("hostgw_peer_probes_lost_total{path=pod}")

        // B's end of the veth goes down: nothing gets through either way.
        try nodes.b.ip("link", "set", nodes.a.peer, "down")
        let down = await eventually { await all(prober, .unreachable, count: targets.count) }
        snapshot = await prober.stats()
        #expect(down, "\(String(describing: snapshot))")
        #expect(metrics.counter("hostgw_peer_probes_lost_total{path=node}") >= lostBefore + 6)
        #expect(metrics.counter("hostgw_peer_probes_lost_total{path=pod}") >= podLostBefore + 3)
        #expect(metrics.gauge("hostgw_peers_unreachable{path=node}") == 2)
        #expect(metrics.gauge("hostgw_peers_unreachable{path=pod}") == 1)
        // The stream pushed the change.
        var sawUnreachable = false
        var pushed: [ProbeTarget: ProbeStats] = [:]
        for await change in updates {
            switch change {
            case .all(let all): pushed = all
            case .some(let changed): for (target, stats) in changed { pushed[target] = stats }
            }
            if pushed.count == targets.count, pushed.values.allSatisfy({ $0.state == .unreachable }) {
                sawUnreachable = true
                break
            }
        }
        #expect(sawUnreachable)

        // Repaired: the link up, and what going down took back: the IPv6 address (the kernel
        // drops it unless keep_addr_on_down) and the pod route.
        try nodes.b.ip("link", "set", nodes.a.peer, "up")
        try nodes.b.ip("-6", "addr", "replace", "fd77::2/64", "dev", nodes.a.peer, "nodad")
        try nodes.routes()
        let upAgain = await eventually { await all(prober, .reachable, count: targets.count) }
        snapshot = await prober.stats()
        #expect(upAgain, "\(String(describing: snapshot))")
        #expect(metrics.gauge("hostgw_peers_unreachable{path=node}") == 0)
        #expect(metrics.gauge("hostgw_peers_unreachable{path=pod}") == 0)
    }
}
