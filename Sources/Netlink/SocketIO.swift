// The syscall edge: opening a netlink socket inside a namespace, EINTR retry (in this one place),
// and receiving many datagrams per syscall. Everything above works on received bytes.
import CMnl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// glibc's MSG_* are an enum in one module view and macros in another; the Linux values are fixed.
let hgwMsgDontWait: Int32 = 0x40
let hgwMsgTrunc: Int32 = 0x20

enum SocketIO {
    /// Runs a syscall-style call again while it fails with EINTR.
    @inline(__always)
    static func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }

    /// The file for a namespace argument: a name under /run/netns or an absolute path.
    static func namespacePath(_ namespace: String) -> String {
        namespace.hasPrefix("/") ? namespace : "/run/netns/\(namespace)"
    }

    /// A NETLINK_ROUTE socket created inside `namespace` (nil: the caller's). The socket keeps the
    /// namespace it was created in, so only its creation needs the namespace: that happens on a
    /// short-lived thread of its own, and the calling thread never changes namespace.
    static func openRouteSocket(namespace: String?) throws(NetlinkError) -> Int32 {
        try openSocket(namespace: namespace, netlinkProtocol: NETLINK_ROUTE)
    }

    /// A netlink socket of `netlinkProtocol` (NETLINK_ROUTE, NETLINK_NETFILTER) inside `namespace`.
    static func openSocket(namespace: String?, netlinkProtocol: Int32) throws(NetlinkError) -> Int32 {
        let createSocket = { () throws(NetlinkError) -> Int32 in try Self.createSocket(netlinkProtocol) }
        guard let namespace else { return try createSocket() }
        return try insideNamespace(namespace) { Result { () throws(NetlinkError) in try createSocket() } }.get()
    }

    /// Runs `body` on a short-lived thread of its own that entered `namespace` (a name under
    /// /run/netns or a path); the calling thread never changes namespace.
    static func insideNamespace<T>(_ namespace: String, _ body: @escaping () -> T) throws(NetlinkError) -> T {
        let path = namespacePath(namespace)
        let outcome = ThreadRunner.runOnFreshThread { () -> Result<T, NetlinkError> in
            let nsfd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
            guard nsfd >= 0 else {
                return .failure(NetlinkError(kind: .system, errno: .current, detail: "is the namespace there? (ip netns list)", request: "open namespace \(path)"))
            }
            defer { close(nsfd) }
            guard hgw_setns_net(nsfd) == 0 else {
                return .failure(NetlinkError(kind: .system, errno: .current, detail: "setns needs CAP_SYS_ADMIN", request: "setns \(path)"))
            }
            return .success(body())
        }
        guard let outcome else {
            throw NetlinkError(kind: .system, errno: .EAGAIN, detail: "no thread to enter the namespace from", request: "pthread_create")
        }
        return try outcome.get()
    }

    private static func createSocket(_ netlinkProtocol: Int32) throws(NetlinkError) -> Int32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkProtocol)
        guard fd >= 0 else {
            throw NetlinkError(kind: .system, errno: .current, request: "socket(AF_NETLINK, protocol \(netlinkProtocol))")
        }
        return fd
    }

    /// SOL_SOCKET buffer size, forced past rmem_max/wmem_max when privileged.
    @discardableResult
    static func setBufferSize(fd: Int32, receive: Bool, bytes: Int) -> Bool {
        var value = Int32(clamping: bytes)
        let size = socklen_t(MemoryLayout<Int32>.size)
        let force = receive ? SO_RCVBUFFORCE : SO_SNDBUFFORCE
        if setsockopt(fd, SOL_SOCKET, force, &value, size) == 0 { return true }
        return setsockopt(fd, SOL_SOCKET, receive ? SO_RCVBUF : SO_SNDBUF, &value, size) == 0
    }

    static func setNetlinkFlag(fd: Int32, _ option: Int32) -> Bool {
        var one: Int32 = 1
        return setsockopt(fd, Int32(SOL_NETLINK), option, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
    }
}

/// Receive slots for recvmmsg: `count` datagrams of up to `slotSize` bytes per syscall. Big
/// enough for a dump datagram (the kernel caps those at 32 KiB) and many acks at once.
final class DatagramReceiver {
    static let slotSize = 32 * 1024
    let count: Int
    private let storage: UnsafeMutableRawBufferPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<hgw_mmsghdr>
    private var received = 0

    init(count: Int) {
        self.count = count
        storage = .allocate(byteCount: count * Self.slotSize, alignment: 16)
        iovecs = .allocate(capacity: count)
        headers = .allocate(capacity: count)
        for i in 0..<count {
            iovecs[i] = iovec(iov_base: storage.baseAddress.map { $0 + i * Self.slotSize }, iov_len: Self.slotSize)
        }
    }

    deinit {
        storage.deallocate()
        iovecs.deallocate()
        headers.deallocate()
    }

    enum Outcome {
        /// `n` datagrams are ready (`datagram(i)`).
        case datagrams(Int)
        /// The socket has nothing queued (non-blocking receive only).
        case wouldBlock
        /// ENOBUFS: the kernel dropped messages because the receive buffer was full.
        case overrun
    }

    /// Blocks for the first datagram (unless `nonBlocking`), then takes whatever else is queued.
    func receive(fd: Int32, nonBlocking: Bool = false) throws(NetlinkError) -> Outcome {
        for i in 0..<count {
            var h = hgw_mmsghdr()
            h.msg_hdr.msg_iov = iovecs + i
            h.msg_hdr.msg_iovlen = 1
            headers[i] = h
        }
        let flags = HGW_MSG_WAITFORONE | (nonBlocking ? hgwMsgDontWait : 0)
        let n = SocketIO.retryingEINTR { hgw_recvmmsg(fd, headers, UInt32(count), flags) }
        if n < 0 {
            let e = Errno.current
            if e == .ENOBUFS { return .overrun }
            if e == .EAGAIN { return .wouldBlock }
            throw NetlinkError(kind: .system, errno: e, request: "recvmmsg")
        }
        for i in 0..<Int(n) where headers[i].msg_hdr.msg_flags & hgwMsgTrunc != 0 {
            throw NetlinkError(
                kind: .malformed, errno: .EMSGSIZE,
                detail: "a datagram exceeded \(Self.slotSize) bytes and was truncated", request: "recvmmsg")
        }
        received = Int(n)
        return .datagrams(Int(n))
    }

    func datagram(_ i: Int) -> UnsafeRawBufferPointer {
        precondition(i < received)
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[i * Self.slotSize..<(i * Self.slotSize + Int(headers[i].msg_len))])
    }
}
