// Multicast notifications as typed events. Notifications are lossy by design: when the receive
// buffer overflows the kernel drops them and recv fails with ENOBUFS. That is reported as
// `.overrun` (never hidden with NETLINK_NO_ENOBUFS) so the consumer re-dumps and re-diffs.
import CMnl
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which multicast groups a monitor joins.
public struct MonitorGroups: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE.
    public static let routes = MonitorGroups(rawValue: 1)
    /// RTNLGRP_LINK.
    public static let links = MonitorGroups(rawValue: 2)
    /// RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR.
    public static let addresses = MonitorGroups(rawValue: 4)
    /// RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF: forwarding and rp_filter changes.
    public static let netconf = MonitorGroups(rawValue: 8)
    /// RTNLGRP_NEIGH: neighbour (ARP / NDP) entries appearing, changing state, going away.
    public static let neighbours = MonitorGroups(rawValue: 16)
    /// What the reconciler follows.
    public static let routing: MonitorGroups = [.routes, .links, .addresses]

    var groups: [rtnetlink_groups] {
        var g: [rtnetlink_groups] = []
        if contains(.links) { g.append(RTNLGRP_LINK) }
        if contains(.addresses) { g += [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR] }
        if contains(.routes) { g += [RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE] }
        if contains(.netconf) { g += [RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF] }
        if contains(.neighbours) { g.append(RTNLGRP_NEIGH) }
        return g
    }
}

/// Route (IPv4/IPv6), link, address and (when asked) NETCONF notifications of one namespace as an
/// `AsyncSequence`.
///
/// A dedicated thread does the blocking receive (poll on the socket and a wake-up pipe, so
/// `stop()` is prompt) and yields into an `AsyncStream`. One consumer iterates it; the sequence
/// ends after `stop()` or when the socket fails.
public final class NetlinkMonitor: AsyncSequence, Sendable {
    public typealias Element = NetlinkEvent
    public typealias AsyncIterator = AsyncStream<NetlinkEvent>.Iterator

    private let stream: AsyncStream<NetlinkEvent>
    private let core: Core

    /// Events held for a slow consumer before they are dropped (and `.overrun` reported).
    static let bufferedEvents = 1 << 16

    /// - Parameter receiveBufferSize: the socket's receive buffer (SO_RCVBUFFORCE, falling back to
    ///   SO_RCVBUF); what the kernel can queue before notifications are lost.
    public convenience init(namespace: String? = nil, groups: MonitorGroups = .routing, receiveBufferSize: Int = 4 << 20) throws {
        try self.init(namespace: namespace, groups: groups, receiveBufferSize: receiveBufferSize, held: false)
    }

    /// `held`: the receiving thread waits for `release()` before it reads anything, so a test can
    /// fill the socket buffer deterministically.
    init(namespace: String?, groups: MonitorGroups = .routing, receiveBufferSize: Int, held: Bool) throws {
        let fd = try SocketIO.openRouteSocket(namespace: namespace)
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            let e = Errno.current
            close(fd)
            throw NetlinkError(kind: .system, errno: e, request: "pipe for the monitor")
        }
        let core = Core(fd: fd, wakeRead: pipeFDs[0], wakeWrite: pipeFDs[1], held: held)
        try core.subscribe(groups.groups, receiveBufferSize: receiveBufferSize)
        let (stream, continuation) = AsyncStream.makeStream(
            of: NetlinkEvent.self, bufferingPolicy: .bufferingOldest(Self.bufferedEvents))
        self.stream = stream
        self.core = core
        continuation.onTermination = { _ in core.wake() }
        guard ThreadRunner.startDetached({ core.run(continuation) }) else {
            continuation.finish()
            throw NetlinkError(kind: .system, errno: .EAGAIN, detail: "no thread for the monitor", request: "pthread_create")
        }
    }

    deinit { stop() }

    public func makeAsyncIterator() -> AsyncStream<NetlinkEvent>.Iterator { stream.makeAsyncIterator() }

    /// Ends the sequence promptly; idempotent.
    public func stop() {
        core.wake()
        core.release()
    }

    /// Lets a `held` monitor's thread start reading.
    func release() { core.release() }

    /// Descriptors shared by the monitor and its thread; closed when both have let go.
    private final class Core: Sendable {
        let fd: Int32
        let wakeRead: Int32
        let wakeWrite: Int32
        private let stopping = Mutex(false)
        private let gate: DispatchSemaphore?

        init(fd: Int32, wakeRead: Int32, wakeWrite: Int32, held: Bool) {
            self.fd = fd
            self.wakeRead = wakeRead
            self.wakeWrite = wakeWrite
            gate = held ? DispatchSemaphore(value: 0) : nil
        }

        func release() { gate?.signal() }

        deinit {
            close(fd)
            close(wakeRead)
            close(wakeWrite)
        }

        func subscribe(_ groups: [rtnetlink_groups], receiveBufferSize: Int) throws(NetlinkError) {
            var local = sockaddr_nl()
            local.nl_family = sa_family_t(AF_NETLINK)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
            guard bound == 0 else { throw NetlinkError(kind: .system, errno: .current, request: "bind monitor socket") }
            for group in groups {
                var g = Int32(group.rawValue)
                guard setsockopt(fd, Int32(SOL_NETLINK), NETLINK_ADD_MEMBERSHIP, &g, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                    throw NetlinkError(kind: .system, errno: .current, request: "join multicast group \(group.rawValue)")
                }
            }
            guard SocketIO.setBufferSize(fd: fd, receive: true, bytes: receiveBufferSize) else {
                throw NetlinkError(kind: .system, errno: .current, request: "set monitor receive buffer to \(receiveBufferSize) bytes")
            }
        }

        func wake() {
            let first = stopping.withLock { s in
                defer { s = true }
                return !s
            }
            guard first else { return }
            var byte: UInt8 = 1
            _ = SocketIO.retryingEINTR { write(wakeWrite, &byte, 1) }
        }

        func run(_ continuation: AsyncStream<NetlinkEvent>.Continuation) {
            gate?.wait()
            let receiver = DatagramReceiver(count: 8)
            var lost = false
            defer { continuation.finish() }
            func emit(_ event: NetlinkEvent) {
                // A full stream buffer loses events just like a full socket buffer: say so.
                if lost {
                    if case .dropped = continuation.yield(.overrun) { return }
                    lost = false
                }
                if case .dropped = continuation.yield(event) { lost = true }
            }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            while true {
                let ready = SocketIO.retryingEINTR { poll(&fds, 2, -1) }
                if ready < 0 { return }
                if fds[1].revents != 0 { return }
                guard fds[0].revents != 0 else { continue }
                while true {
                    let outcome: DatagramReceiver.Outcome
                    do {
                        outcome = try receiver.receive(fd: fd, nonBlocking: true)
                    } catch where error.kind == .malformed {
                        // A truncated datagram (already consumed) is a lost event too.
                        emit(.overrun)
                        continue
                    } catch {
                        return  // the socket failed: end the sequence
                    }
                    guard case .datagrams(let n) = outcome else {
                        if case .overrun = outcome { emit(.overrun); continue }
                        break  // drained
                    }
                    for d in 0..<n {
                        // A notification that does not decode is information lost, like an
                        // overflow: the consumer must re-read, so it hears `.overrun`.
                        do {
                            try ReplyDecoder.forEachMessage(in: receiver.datagram(d)) { (header, payload) throws(NetlinkError) in
                                if let event = try ReplyDecoder.event(header, payload) { emit(event) }
                            }
                        } catch {
                            emit(.overrun)
                        }
                    }
                }
            }
        }
    }
}
