// The UDP edge of the probes: sockets opened here (inside a network namespace when asked, for
// tests and the benchmark; a socket keeps the namespace it was made in) and handed to swift-nio,
// whose event loops do all reads and writes: no socket call blocks the cooperative pool.
import Metrics
import NIOCore
import NIOPosix
import NetAddress
import Netlink
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum ProbeSockets {
    /// A non-blocking UDP socket bound to `address` (nil: the wildcard of `family`) and `port`
    /// (0: the kernel picks). IPv6 sockets are IPv6-only, so v4 and v6 each have their own.
    /// `mark` is set as SO_MARK: what the socket sends carries it into the `ip rule` lookup.
    static func open(
        family: IPFamily, address: IPAddress?, port: UInt16, namespace: String?, mark: UInt32? = nil
    ) throws(ProbeSocketError) -> Int32 {
        let host = address?.description ?? (family == .v4 ? "0.0.0.0" : "::")
        func failure(_ operation: String, _ errno: Errno) -> ProbeSocketError {
            ProbeSocketError(operation: operation, address: host, port: port, errno: errno, namespace: namespace)
        }
        let domain = family == .v4 ? AF_INET : AF_INET6
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let created: (fd: Int32, errno: Int32)
        if let namespace {
            do {
                created = try NetworkNamespace.runInside(namespace) {
                    let fd = socket(domain, type, 0)
                    return (fd, fd < 0 ? errno : 0)
                }
            } catch {
                throw failure("enter namespace", error.errno)
            }
        } else {
            let fd = socket(domain, type, 0)
            created = (fd, fd < 0 ? errno : 0)
        }
        let fd = created.fd
        guard fd >= 0 else { throw failure("socket", Errno(rawValue: created.errno)) }
        if family == .v6 {
            var one: Int32 = 1
            guard setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                let e = Errno.current
                close(fd)
                throw failure("setsockopt IPV6_V6ONLY", e)
            }
        }
        if var mark {
            guard setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
                let e = Errno.current
                close(fd)
                throw failure("setsockopt SO_MARK 0x" + String(mark, radix: 16), e)
            }
        }
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: host, port: Int(port))
        } catch {
            close(fd)
            throw failure("parse address", .EINVAL)
        }
        let rc = socketAddress.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        guard rc == 0 else {
            let e = Errno.current
            close(fd)
            throw failure("bind", e)
        }
        return fd
    }

    /// Sends `bytes` on `fd` to `remote`, from `source` when given (a local address: the one the
    /// request came to). Non-blocking; false when the kernel refused it (EAGAIN, EPERM, ...).
    static func send(fd: Int32, _ bytes: [UInt8], to remote: SocketAddress, from source: SocketAddress?) -> Bool {
        // struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst, ipi_addr; } and
        // struct in6_pktinfo { struct in6_addr ipi6_addr; unsigned ipi6_ifindex; }: glibc declares
        // them only under _GNU_SOURCE, so their bytes are laid out here (ifindex 0: any).
        // Per family: where the address sits in its sockaddr (after family and port; and flow
        // info for v6), its size, the pktinfo size, where the address goes in it, level, type.
        let layout: (from: Int, count: Int, size: Int, to: Int, level: Int32, type: Int32)?
        switch source?.protocol {
        case .inet?: layout = (4, 4, 12, 4, Int32(IPPROTO_IP), 8)  // IP_PKTINFO, ipi_spec_dst
        case .inet6?: layout = (8, 16, 20, 0, Int32(IPPROTO_IPV6), 50)  // IPV6_PKTINFO, ipi6_addr
        default: layout = nil
        }
        var info: [UInt8] = []
        let level = layout?.level ?? 0
        let type = layout?.type ?? 0
        if let layout, let source {
            let bytes = source.withSockAddr { pointer, length -> [UInt8] in
                guard length >= layout.from + layout.count else { return [] }
                return Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + layout.from, count: layout.count))
            }
            if !bytes.isEmpty {
                info = [UInt8](repeating: 0, count: layout.size)
                info.replaceSubrange(layout.to..<(layout.to + layout.count), with: bytes)
            }
        }
        let headerSize = MemoryLayout<cmsghdr>.size
        let align = MemoryLayout<Int>.size
        let space = info.isEmpty ? 0 : headerSize + (info.count + align - 1) / align * align
        var control = [UInt8](repeating: 0, count: max(space, 1))
        if !info.isEmpty {
            control.withUnsafeMutableBytes { raw in
                var header = cmsghdr()
                header.cmsg_len = numericCast(headerSize + info.count)
                header.cmsg_level = level
                header.cmsg_type = type
                withUnsafeBytes(of: &header) { raw.copyMemory(from: $0) }
                info.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: raw[headerSize...]).copyMemory(from: $0) }
            }
        }
        var payload = bytes
        let sent = remote.withSockAddr { name, nameLength in
            payload.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { controlBytes in
                    var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &vector) { iov in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(mutating: UnsafeRawPointer(name))
                        message.msg_namelen = socklen_t(nameLength)
                        message.msg_iov = iov
                        message.msg_iovlen = 1
                        if space > 0 {
                            message.msg_control = controlBytes.baseAddress
                            message.msg_controllen = numericCast(space)
                        }
                        return sendmsg(fd, &message, Int32(MSG_DONTWAIT))
                    }
                }
            }
        }
        return sent == bytes.count
    }

    /// `fd` as a NIO datagram channel on `group` with `handler` (made on the channel's loop).
    /// `packetInfo`: each datagram read carries the address it was sent to (the responder's).
    static func channel(
        fd: Int32, group: any EventLoopGroup, family: IPFamily, address: IPAddress?, port: UInt16, namespace: String?,
        packetInfo: Bool = false, handler: @escaping @Sendable () -> any ChannelHandler
    ) -> EventLoopFuture<any Channel> {
        DatagramBootstrap(group: group)
            // recvmmsg: one syscall reads up to 16 datagrams (answers arrive in bursts when a
            // wake sends several probes), instead of one recvmsg per datagram.
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.receivePacketInfo, value: packetInfo)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler()) }
            }
            .withBoundSocket(fd)
    }

    /// `address`:`port` built from the bytes (no text parsing per probe).
    static func socketAddress(_ address: IPAddress, port: UInt16) -> SocketAddress? {
        var packed = ByteBuffer()
        packed.writeBytes(address.bytes)
        // 4 or 16 bytes: NIO refuses only other sizes, which IPAddress cannot have.
        return try? SocketAddress(packedIPAddress: packed, port: Int(port))
    }
}

/// Echoes valid probe requests with same-size replies; counts everything else as malformed.
/// Answers on the responder's socket `fd` itself (sendmsg), from the address each request was sent
/// to (IP_PKTINFO / IPV6_PKTINFO; swift-nio sends no packet info). A reply to a pod-path probe
/// thus leaves from this node's pod gateway, as pod traffic does, and meets what pod traffic
/// meets on its way back (the prober's reverse-path filter, filters on pod addresses), where a
/// reply from the node address the kernel would pick passed them by. A reply the kernel refuses
/// (EPERM from an output filter) is that probe lost, and the socket stays open.
final class ProbeEchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let counters: ProbeResponderCounters
    private let fd: Int32

    init(counters: ProbeResponderCounters, fd: Int32) {
        self.counters = counters
        self.fd = fd
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let packet = ProbePacket(buffer: envelope.data), packet.kind == .request else {
            counters.malformed.increment()
            return
        }
        if ProbeSockets.send(fd: fd, packet.reply.bytes, to: envelope.remoteAddress, from: envelope.metadata?.packetInfo?.destinationAddress) {
            counters.answered.increment()
        }
    }

    /// A datagram socket's errors (an ICMP error for an earlier reply) do not end it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// Hands the valid replies of each read burst, with the time each arrived, to the prober (one
/// hand-over per burst, not per datagram).
final class ProbeReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let now: @Sendable () -> Duration
    private let sink: @Sendable ([(ProbePacket, Duration)]) -> Void
    private var pending: [(ProbePacket, Duration)] = []

    init(now: @escaping @Sendable () -> Duration, sink: @escaping @Sendable ([(ProbePacket, Duration)]) -> Void) {
        self.now = now
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let packet = ProbePacket(buffer: unwrapInboundIn(data).data), packet.kind == .reply else { return }
        pending.append((packet, now()))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !pending.isEmpty else { return }
        sink(pending)
        pending.removeAll(keepingCapacity: true)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// Where the prober's datagrams go out: one channel per (family, source address), opened on
/// first use. A source that cannot be bound (the pod gateway address not on this node yet) is
/// tried again after `retryAfter`; meanwhile its probes are not sent and time out as lost.
protocol ProbeTransport: Sendable {
    /// Sends each packet to its address:`port` from its source (one flush per socket); a probe
    /// no socket could take is simply not sent (its timeout counts it lost).
    func send(_ probes: [(packet: ProbePacket, to: IPAddress, from: IPAddress?)], port: UInt16)
    /// Starts delivering replies (and the time each arrived) to `sink`, in bursts.
    func start(now: @escaping @Sendable () -> Duration, sink: @escaping @Sendable ([(ProbePacket, Duration)]) -> Void)
    func close() async
}

final class NIOProbeTransport: ProbeTransport {
    private struct Key: Hashable {
        var family: IPFamily
        var source: IPAddress?
    }

    private enum Slot {
        case open(EventLoopFuture<any Channel>)
        case failed(ProbeSocketError, retryAt: ContinuousClock.Instant)
    }

    private struct State {
        var slots: [Key: Slot] = [:]
        var now: (@Sendable () -> Duration)?
        var sink: (@Sendable ([(ProbePacket, Duration)]) -> Void)?
        var closed = false
    }

    private let group: any EventLoopGroup
    private let namespace: String?
    private let marks: ProbeMarks
    private let retryAfter: Duration
    private let onSocketError: @Sendable (ProbeSocketError) -> Void
    private let state = Mutex(State())

    init(
        group: any EventLoopGroup, namespace: String?, marks: ProbeMarks = ProbeMarks(), retryAfter: Duration = .seconds(10),
        onSocketError: @escaping @Sendable (ProbeSocketError) -> Void
    ) {
        self.group = group
        self.namespace = namespace
        self.marks = marks
        self.retryAfter = retryAfter
        self.onSocketError = onSocketError
    }

    func start(now: @escaping @Sendable () -> Duration, sink: @escaping @Sendable ([(ProbePacket, Duration)]) -> Void) {
        state.withLock {
            $0.now = now
            $0.sink = sink
        }
    }

    func send(_ probes: [(packet: ProbePacket, to: IPAddress, from: IPAddress?)], port: UInt16) {
        var byChannel: [Key: [(ProbePacket, SocketAddress)]] = [:]
        for probe in probes {
            guard let remote = ProbeSockets.socketAddress(probe.to, port: port) else { continue }
            byChannel[Key(family: probe.to.family, source: probe.from), default: []].append((probe.packet, remote))
        }
        for (key, batch) in byChannel {
            guard let channel = channel(key) else { continue }
            channel.whenSuccess { channel in
                // A failed send (no route, link down) is the probe lost: its timeout says so.
                for (packet, remote) in batch {
                    var buffer = channel.allocator.buffer(capacity: ProbePacket.size)
                    packet.write(into: &buffer)
                    channel.write(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
                }
                channel.flush()
            }
        }
    }

    private func channel(_ key: Key) -> EventLoopFuture<any Channel>? {
        let now = ContinuousClock.now
        enum Lookup { case ready(EventLoopFuture<any Channel>), wait, open(now: @Sendable () -> Duration, sink: @Sendable ([(ProbePacket, Duration)]) -> Void) }
        let lookup: Lookup = state.withLock { s in
            switch s.slots[key] {
            case .open(let future): return .ready(future)
            case .failed(_, let retryAt) where retryAt > now: return .wait
            default:
                guard !s.closed, let n = s.now, let k = s.sink else { return .wait }
                return .open(now: n, sink: k)
            }
        }
        switch lookup {
        case .ready(let future): return future
        case .wait: return nil
        case .open(let clockNow, let sink):
            do {
                // Pod-path probes (sent from the pod gateway) carry the mark that takes them to
                // hostgw's table; node-path probes follow the main table like any node traffic.
                let mark = key.source == nil ? nil : marks.mark(key.family)
                let fd = try ProbeSockets.open(family: key.family, address: key.source, port: 0, namespace: namespace, mark: mark)
                let future = ProbeSockets.channel(
                    fd: fd, group: group, family: key.family, address: key.source, port: 0, namespace: namespace,
                    handler: { ProbeReplyHandler(now: clockNow, sink: sink) })
                let kept = state.withLock { s -> EventLoopFuture<any Channel> in
                    if case .open(let other) = s.slots[key] { return other }  // a concurrent open won
                    s.slots[key] = .open(future)
                    return future
                }
                if kept !== future {
                    future.whenSuccess { $0.close(promise: nil) }
                } else {
                    // swift-nio closes a datagram channel on a send the kernel refuses (EPERM from
                    // an output filter, ENETUNREACH): forget it, so the next send opens a new one
                    // instead of every later probe from this source being lost.
                    let transport = self
                    future.whenSuccess { channel in
                        channel.closeFuture.whenComplete { _ in
                            transport.state.withLock { s in
                                if case .open(let current) = s.slots[key], current === future { s.slots[key] = nil }
                            }
                        }
                    }
                }
                return kept
            } catch {
                state.withLock { $0.slots[key] = .failed(error, retryAt: now.advanced(by: retryAfter)) }
                onSocketError(error)
                return nil
            }
        }
    }

    func close() async {
        let futures = state.withLock { s -> [EventLoopFuture<any Channel>] in
            s.closed = true
            defer { s.slots = [:] }
            return s.slots.values.compactMap { if case .open(let f) = $0 { f } else { nil } }
        }
        for future in futures {
            if let channel = try? await future.get() { try? await channel.close() }
        }
    }
}
