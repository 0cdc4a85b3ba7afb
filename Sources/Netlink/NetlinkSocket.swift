// The request/ack layer: one NETLINK_ROUTE socket, sequence numbers, batched requests with one ack
// each, and multipart dumps until NLMSG_DONE (restarted when the kernel flags them interrupted).
public import NetAddress
import CMnl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A synchronous rtnetlink socket (NETLINK_ROUTE). Owns the descriptor and closes it exactly once,
/// when the socket is released.
///
/// Not for concurrent use: one thread at a time (`NetlinkClient` gives it a thread of its own).
/// Every call blocks until the kernel answered, so never call it on Swift's cooperative pool.
public final class NetlinkSocket {
    private let handle: OpaquePointer
    private let fd: Int32
    let portID: UInt32
    private var lastSeq: UInt32
    private let receiver = DatagramReceiver(count: 32)
    /// Send buffer for batches: `sendLimit` bytes plus room for the one request that overflowed.
    private let sendBuffer: UnsafeMutableRawBufferPointer
    /// Bytes per sendmsg; the kernel refuses a datagram larger than the send buffer (EMSGSIZE).
    private let sendLimit = 160 * 1024
    /// Whether the kernel filters dumps itself (NETLINK_GET_STRICT_CHK); the client-side filter
    /// runs either way.
    let strictDumps: Bool

    /// - Parameter namespace: nil for the calling thread's namespace; otherwise a name under
    ///   /run/netns or an absolute path. The socket is created on a short-lived thread that
    ///   enters the namespace, so the calling thread never changes namespace.
    public convenience init(namespace: String? = nil) throws(NetlinkError) {
        try self.init(namespace: namespace, netlinkProtocol: NETLINK_ROUTE)
    }

    /// A socket of another netlink family (NETLINK_NETFILTER for `NetfilterSocket`), with the same
    /// request, ack and dump machinery.
    init(namespace: String?, netlinkProtocol: Int32) throws(NetlinkError) {
        let fd = try SocketIO.openSocket(namespace: namespace, netlinkProtocol: netlinkProtocol)
        guard let handle = mnl_socket_fdopen(fd) else {
            let e = Errno.current
            close(fd)
            throw NetlinkError(kind: .system, errno: e, request: "mnl_socket_fdopen")
        }
        guard mnl_socket_bind(handle, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let e = Errno.current
            mnl_socket_close(handle)
            throw NetlinkError(kind: .system, errno: e, request: "bind netlink socket")
        }
        self.handle = handle
        self.fd = fd
        portID = mnl_socket_get_portid(handle)
        // Short acks (no echoed request), the kernel's reason text, and kernel-side dump filters.
        // Old kernels lack some of these; requests still work without them.
        _ = SocketIO.setNetlinkFlag(fd: fd, NETLINK_CAP_ACK)
        _ = SocketIO.setNetlinkFlag(fd: fd, NETLINK_EXT_ACK)
        strictDumps = SocketIO.setNetlinkFlag(fd: fd, NETLINK_GET_STRICT_CHK)
        // Every request of a batch is acked by its own datagram, all queued while sendmsg runs:
        // the default ~208 KiB would drop acks of a few hundred requests.
        SocketIO.setBufferSize(fd: fd, receive: true, bytes: 8 << 20)
        SocketIO.setBufferSize(fd: fd, receive: false, bytes: 1 << 20)
        sendBuffer = .allocate(byteCount: sendLimit + RequestEncoder.maxRouteMessageSize, alignment: 16)
        sendBuffer.initializeMemory(as: UInt8.self, repeating: 0)
        lastSeq = UInt32(truncatingIfNeeded: time(nil)) & 0x7fff_ffff
    }

    deinit {
        mnl_socket_close(handle)
        sendBuffer.deallocate()
    }

    private func nextSeq() -> UInt32 {
        lastSeq &+= 1
        if lastSeq == 0 { lastSeq = 1 }  // 0 is what multicast notifications carry
        return lastSeq
    }

    // MARK: - Routes

    /// Routes of `family` (nil: both) in `table` (nil: every table) installed by `protocol`
    /// (nil: any).
    public func routes(
        family: IPFamily? = nil, table: UInt32? = RouteTableID.main, protocol proto: RouteProtocol? = nil
    ) throws(NetlinkError) -> [Route] {
        let routes: [Route] = try dump("dump routes", { (seq) throws(NetlinkError) in
            try RequestEncoder.dumpRoutes(family: family, table: table, protocol: proto, seq: seq)
        }) { (header, payload) throws(NetlinkError) in
            guard header.type == Wire.newRoute else { return nil }
            return try ReplyDecoder.route(payload)
        }
        // The kernel filtered already when strict checking is on; this is the safety net.
        return routes.filter { route in
            (family == nil || route.family == family) && (table == nil || route.table == table)
                && (proto == nil || route.protocol == proto)
        }
    }

    public func links() throws(NetlinkError) -> [Link] {
        try dump("dump links", { (seq) throws(NetlinkError) in try RequestEncoder.dumpLinks(seq: seq) }) { (header, payload) throws(NetlinkError) in
            header.type == Wire.newLink ? try ReplyDecoder.link(payload) : nil
        }
    }

    public func addresses(family: IPFamily? = nil) throws(NetlinkError) -> [InterfaceAddress] {
        let all: [InterfaceAddress] = try dump("dump addresses", { (seq) throws(NetlinkError) in
            try RequestEncoder.dumpAddresses(family: family, seq: seq)
        }) { (header, payload) throws(NetlinkError) in
            header.type == Wire.newAddress ? try ReplyDecoder.address(payload) : nil
        }
        return all.filter { family == nil || $0.address.family == family }
    }

    /// Every NETCONF entry of `family`: `all`, `default` and one per interface.
    public func netconf(family: IPFamily) throws(NetlinkError) -> [NetconfEntry] {
        let all: [NetconfEntry] = try dump("dump \(family.rawValue) netconf", { (seq) throws(NetlinkError) in
            try RequestEncoder.dumpNetconf(family: family, seq: seq)
        }) { (header, payload) throws(NetlinkError) in
            header.type == Wire.newNetconf ? try ReplyDecoder.netconf(payload) : nil
        }
        return all.filter { $0.family == family }
    }

    /// Every policy routing rule of `family` (`ip rule`), in the kernel's order.
    public func rules(family: IPFamily) throws(NetlinkError) -> [RoutingRule] {
        let all: [RoutingRule] = try dump("dump \(family.rawValue) rules", { (seq) throws(NetlinkError) in
            try RequestEncoder.dumpRules(family: family, seq: seq)
        }) { (header, payload) throws(NetlinkError) in
            header.type == Wire.newRule ? try ReplyDecoder.rule(payload) : nil
        }
        return all.filter { $0.family == family }
    }

    /// Every neighbour (ARP / NDP) entry of `family`, on every link.
    public func neighbours(family: IPFamily) throws(NetlinkError) -> [Neighbour] {
        let all: [Neighbour] = try dump("dump \(family.rawValue) neighbours", { (seq) throws(NetlinkError) in
            try RequestEncoder.dumpNeighbours(family: family, seq: seq)
        }) { (header, payload) throws(NetlinkError) in
            header.type == Wire.newNeighbour ? try ReplyDecoder.neighbour(payload) : nil
        }
        return all.filter { $0.address.family == family }
    }

    /// The neighbour table of `family` (arp_cache, ndisc_cache): its garbage-collection thresholds
    /// and counters. The table and its counters are the host's, shared by every network namespace.
    public func neighbourTable(family: IPFamily) throws(NetlinkError) -> NeighbourTable? {
        let all: [NeighbourTable] = try dump("dump \(family.rawValue) neighbour tables", { (seq) throws(NetlinkError) in
            try RequestEncoder.dumpNeighbourTables(family: family, seq: seq)
        }) { (header, payload) throws(NetlinkError) in
            header.type == Wire.newNeighbourTable ? try ReplyDecoder.neighbourTable(payload) : nil
        }
        return all.first { $0.family == family }
    }

    public func add(_ route: Route) throws(NetlinkError) { try single(RouteChange(.add, route)) }
    public func replace(_ route: Route) throws(NetlinkError) { try single(RouteChange(.replace, route)) }
    public func delete(_ route: Route) throws(NetlinkError) { try single(RouteChange(.delete, route)) }

    private func single(_ change: RouteChange) throws(NetlinkError) {
        guard let result = try apply([change]).first else { return }
        try result.get()
    }

    /// Applies `changes` with up to `batchSize` requests per sendmsg, each with NLM_F_ACK, and
    /// returns exactly one result per change, in order. A failed change never hides the others.
    ///
    /// Throws only when the replies themselves cannot be read (malformed); a failed sendmsg or
    /// acks lost to a full receive buffer become per-change `.system` results.
    public func apply(_ changes: [RouteChange], batchSize: Int = 256) throws(NetlinkError) -> [Result<Void, NetlinkError>] {
        guard !changes.isEmpty else { return [] }
        let perBatch = max(1, batchSize)
        var results = [Result<Void, NetlinkError>?](repeating: nil, count: changes.count)
        guard let base = sendBuffer.baseAddress, let batch = mnl_nlmsg_batch_start(base, sendLimit) else {
            throw NetlinkError(kind: .system, errno: .ENOMEM, request: "mnl_nlmsg_batch_start")
        }
        defer { mnl_nlmsg_batch_stop(batch) }

        // Sequence numbers of one batch are contiguous; `pending[k]` is the change of firstSeq + k.
        var pending: [Int] = []
        pending.reserveCapacity(perBatch)
        var firstSeq: UInt32 = 0
        for index in changes.indices {
            let size = RequestEncoder.routeMessageSize(changes[index])
            if !pending.isEmpty, mnl_nlmsg_batch_size(batch) + size > sendLimit {
                try flush(batch, firstSeq: firstSeq, pending, changes, &results)
                mnl_nlmsg_batch_reset(batch)
                pending.removeAll(keepingCapacity: true)
            }
            guard let current = mnl_nlmsg_batch_current(batch) else {
                throw NetlinkError(kind: .system, errno: .ENOMEM, request: "mnl_nlmsg_batch_current")
            }
            let seq = lastSeq &+ 1 == 0 ? 1 : lastSeq &+ 1
            let capacity = sendBuffer.count - (current - UnsafeMutableRawPointer(base))
            do {
                _ = try RequestEncoder.writeRoute(changes[index], seq: seq, at: current, capacity: capacity)
            } catch {
                // Not encodable: reported, never sent; its bytes are overwritten by the next one.
                results[index] = .failure(error)
                continue
            }
            guard mnl_nlmsg_batch_next(batch) else {
                results[index] = .failure(NetlinkError(kind: .malformed, errno: .EMSGSIZE, detail: "batch overflow", request: changes[index].description))
                continue
            }
            _ = nextSeq()
            if pending.isEmpty { firstSeq = seq }
            pending.append(index)
            if pending.count == perBatch {
                try flush(batch, firstSeq: firstSeq, pending, changes, &results)
                mnl_nlmsg_batch_reset(batch)
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { try flush(batch, firstSeq: firstSeq, pending, changes, &results) }
        return results.enumerated().map { i, r in
            r ?? .failure(NetlinkError(kind: .malformed, errno: .EPROTO, detail: "no ack was matched", request: changes[i].description))
        }
    }

    /// Sends one batch and collects its acks, matched by sequence number.
    private func flush(
        _ batch: OpaquePointer, firstSeq: UInt32, _ pending: [Int],
        _ changes: [RouteChange], _ results: inout [Result<Void, NetlinkError>?]
    ) throws(NetlinkError) {
        guard !pending.isEmpty, let head = mnl_nlmsg_batch_head(batch) else { return }
        let size = mnl_nlmsg_batch_size(batch)
        let sent = SocketIO.retryingEINTR { mnl_socket_sendto(handle, head, size) }
        if sent < 0 {
            let e = Errno.current
            for i in pending {
                results[i] = .failure(NetlinkError(kind: .system, errno: e, detail: "sendmsg failed; not applied", request: changes[i].description))
            }
            return
        }
        var collector = AckCollector(firstSeq: firstSeq, count: pending.count)
        var overran = false
        while collector.outstanding > 0 {
            // The kernel handles the whole batch inside sendmsg, so after an overrun every ack
            // that survived is already queued: drain without blocking, then stop.
            let n: Int
            switch try receiver.receive(fd: fd, nonBlocking: overran) {
            case .datagrams(let k): n = k
            case .overrun: overran = true; continue
            case .wouldBlock: n = 0
            }
            if n == 0 { break }
            for d in 0..<n { try collector.consume(receiver.datagram(d)) }
        }
        for (k, ack) in collector.acks.enumerated() {
            let i = pending[k]
            guard let ack else {
                results[i] = .failure(NetlinkError(
                    kind: .system, errno: .ENOBUFS,
                    detail: "ack lost: the receive buffer overflowed; state unknown, re-read the routes",
                    request: changes[i].description))
                continue
            }
            if let e = ack.errno {
                results[i] = .failure(NetlinkError(kind: .kernel, errno: e, detail: ack.message, request: changes[i].description))
            } else {
                results[i] = .success(())
            }
        }
    }

    // MARK: - Dumps

    private func drainWithoutBlocking() {
        while case .datagrams(let n)? = try? receiver.receive(fd: fd, nonBlocking: true), n > 0 {}
    }

    private static let maxDumpAttempts = 5

    /// Runs a dump to NLMSG_DONE and keeps what `decode` returns. A dump the kernel marks
    /// NLM_F_DUMP_INTR (the table changed underneath) is run again from the start.
    func dump<T>(
        _ what: String, _ request: (UInt32) throws(NetlinkError) -> [UInt8],
        _ decode: (MessageHeader, UnsafeRawBufferPointer) throws(NetlinkError) -> T?
    ) throws(NetlinkError) -> [T] {
        for _ in 0..<Self.maxDumpAttempts {
            let seq = nextSeq()
            let bytes = try request(seq)
            let sent = bytes.withUnsafeBytes { raw in
                SocketIO.retryingEINTR { mnl_socket_sendto(handle, raw.baseAddress, raw.count) }
            }
            guard sent >= 0 else { throw NetlinkError(kind: .system, errno: .current, request: what) }
            var collector = DumpCollector<T>(seq: seq)
            while !collector.finished {
                let n: Int
                switch try receiver.receive(fd: fd) {
                case .datagrams(let k): n = k
                case .overrun:
                    throw NetlinkError(kind: .system, errno: .ENOBUFS, detail: "receive buffer overflowed during the dump; retry", request: what)
                case .wouldBlock: continue
                }
                for d in 0..<n {
                    do {
                        try collector.consume(receiver.datagram(d), decode)
                    } catch {
                        // A dump cut short would stay running in the kernel (the next one gets
                        // EBUSY): read the rest away first. Each receive moves the dump on.
                        drainWithoutBlocking()
                        throw NetlinkError(kind: error.kind, errno: error.errno, detail: error.detail, request: what)
                    }
                }
            }
            if let failure = collector.failure, let e = failure.errno {
                throw NetlinkError(kind: .kernel, errno: e, detail: failure.message, request: what)
            }
            if !collector.interrupted { return collector.items }
        }
        throw NetlinkError(
            kind: .kernel, errno: .EBUSY,
            detail: "dump interrupted \(Self.maxDumpAttempts) times in a row by concurrent changes; retry later", request: what)
    }
}
