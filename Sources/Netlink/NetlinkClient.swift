// The async facade: a `NetlinkSocket` confined to one OS thread that the client owns. Calls queue
// up in order and their results come back to the awaiting task; nothing blocks the cooperative pool.
public import NetAddress
import Dispatch
import Synchronization

/// Async access to a `NetlinkSocket`. Every call runs, in submission order, on one dedicated
/// thread owned by this client (not the cooperative pool, not a global queue).
public final class NetlinkClient: Sendable {
    private let worker: Worker

    private let namespace: String?

    public init(namespace: String? = nil) throws {
        self.namespace = namespace
        worker = try Worker(namespace: namespace)
    }

    deinit { worker.close() }

    public func routes(
        family: IPFamily? = nil, table: UInt32? = RouteTableID.main, protocol proto: RouteProtocol? = nil
    ) async throws -> [Route] {
        try await worker.run { (socket) throws(NetlinkError) in try socket.routes(family: family, table: table, protocol: proto) }
    }

    public func apply(_ changes: [RouteChange], batchSize: Int = 256) async throws -> [Result<Void, NetlinkError>] {
        try await worker.run { (socket) throws(NetlinkError) in try socket.apply(changes, batchSize: batchSize) }
    }

    public func links() async throws -> [Link] {
        try await worker.run { (socket) throws(NetlinkError) in try socket.links() }
    }

    public func addresses(family: IPFamily? = nil) async throws -> [InterfaceAddress] {
        try await worker.run { (socket) throws(NetlinkError) in try socket.addresses(family: family) }
    }

    /// NETCONF entries of `family` (forwarding, rp_filter for `all`, `default`, each interface).
    public func netconf(family: IPFamily) async throws -> [NetconfEntry] {
        try await worker.run { (socket) throws(NetlinkError) in try socket.netconf(family: family) }
    }

    /// Every policy routing rule of `family` (`ip rule`).
    public func rules(family: IPFamily) async throws -> [RoutingRule] {
        try await worker.run { (socket) throws(NetlinkError) in try socket.rules(family: family) }
    }

    /// Every neighbour (ARP / NDP) entry of `family`.
    public func neighbours(family: IPFamily) async throws -> [Neighbour] {
        try await worker.run { (socket) throws(NetlinkError) in try socket.neighbours(family: family) }
    }

    public func neighbourTable(family: IPFamily) async throws -> NeighbourTable? {
        try await worker.run { (socket) throws(NetlinkError) in try socket.neighbourTable(family: family) }
    }

    /// nftables chains, read over a NETLINK_NETFILTER socket opened for this one read on the
    /// client's thread (in the client's namespace) and closed after it.
    public func filterChains() async throws -> [FilterChain] {
        let namespace = namespace
        return try await worker.run { (_) throws(NetlinkError) in try NetfilterSocket(namespace: namespace).chains() }
    }

    /// Stops the thread and closes the socket once the calls already queued have run. Calls made
    /// afterwards fail with EBADF.
    public func close() { worker.close() }
}

/// The thread and its queue. The socket never leaves the thread.
private final class Worker: Sendable {
    typealias Job = @Sendable (NetlinkSocket?) -> Void

    private struct State {
        var jobs: [Job] = []
        var head = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(namespace: String?) throws {
        let ready = DispatchSemaphore(value: 0)
        let opened = OpenResult()
        let started = ThreadRunner.startDetached { [self] in
            let result = Result { () throws(NetlinkError) in try NetlinkSocket(namespace: namespace) }
            opened.value.withLock { $0 = result.map { _ in () } }
            ready.signal()
            guard case .success(let socket) = result else { return }
            self.loop(socket: socket)
        }
        guard started else {
            throw NetlinkError(kind: .system, errno: .EAGAIN, detail: "no thread for the netlink client", request: "pthread_create")
        }
        ready.wait()
        try opened.value.withLock { $0 }?.get()
    }

    private final class OpenResult: Sendable {
        let value = Mutex<Result<Void, NetlinkError>?>(nil)
    }

    private func loop(socket: NetlinkSocket) {
        while true {
            wake.wait()
            let next: Job?? = state.withLock { s in
                if s.head < s.jobs.count {
                    let job = s.jobs[s.head]
                    s.head += 1
                    if s.head > 64, s.head * 2 > s.jobs.count {
                        s.jobs.removeFirst(s.head)
                        s.head = 0
                    }
                    return .some(job)
                }
                return s.closed ? .none : .some(nil)
            }
            switch next {
            case .none: return  // closed and drained: the socket is released with this frame
            case .some(.none): continue
            case .some(.some(let job)): job(socket)
            }
        }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (NetlinkSocket) throws(NetlinkError) -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: Job = { socket in
                guard let socket else {
                    continuation.resume(throwing: Worker.closedError)
                    return
                }
                continuation.resume(with: Result { () throws(NetlinkError) in try body(socket) })
            }
            let accepted = state.withLock { s in
                guard !s.closed else { return false }
                s.jobs.append(job)
                return true
            }
            if accepted { wake.signal() } else { job(nil) }
        }
    }

    func close() {
        let first = state.withLock { s in
            defer { s.closed = true }
            return !s.closed
        }
        if first { wake.signal() }
    }

    static let closedError = NetlinkError(kind: .system, errno: .EBADF, detail: "the netlink client was closed", request: "netlink client")
}
