// Errors an operator can grep for: every kernel error carries errno, its symbolic name, the
// kernel's extended-ack text when it sent one, and the request that failed.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An errno value whose description is its symbolic name (`ENETUNREACH`).
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let EPERM = Errno(rawValue: 1)
    public static let ENOENT = Errno(rawValue: 2)
    public static let ESRCH = Errno(rawValue: 3)
    public static let EINTR = Errno(rawValue: 4)
    public static let EBADF = Errno(rawValue: 9)
    public static let EAGAIN = Errno(rawValue: 11)
    public static let ENOMEM = Errno(rawValue: 12)
    public static let EACCES = Errno(rawValue: 13)
    public static let EBUSY = Errno(rawValue: 16)
    public static let EEXIST = Errno(rawValue: 17)
    public static let ENODEV = Errno(rawValue: 19)
    public static let EINVAL = Errno(rawValue: 22)
    public static let ENOSPC = Errno(rawValue: 28)
    public static let ERANGE = Errno(rawValue: 34)
    public static let EMSGSIZE = Errno(rawValue: 90)
    public static let EPROTONOSUPPORT = Errno(rawValue: 93)
    public static let EOPNOTSUPP = Errno(rawValue: 95)
    public static let EAFNOSUPPORT = Errno(rawValue: 97)
    public static let EADDRINUSE = Errno(rawValue: 98)
    public static let EADDRNOTAVAIL = Errno(rawValue: 99)
    public static let ENETDOWN = Errno(rawValue: 100)
    public static let ENETUNREACH = Errno(rawValue: 101)
    public static let ENOBUFS = Errno(rawValue: 105)
    public static let ETIMEDOUT = Errno(rawValue: 110)
    public static let EHOSTUNREACH = Errno(rawValue: 113)

    private static let names: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 9: "EBADF", 11: "EAGAIN",
        12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV",
        22: "EINVAL", 24: "EMFILE", 28: "ENOSPC", 34: "ERANGE", 61: "ENODATA", 71: "EPROTO",
        90: "EMSGSIZE", 92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT", 95: "EOPNOTSUPP",
        97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN",
        101: "ENETUNREACH", 105: "ENOBUFS", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH",
    ]

    /// The symbolic name, or `errno N` for one hostgw does not name.
    public var name: String { Errno.names[rawValue] ?? "errno \(rawValue)" }

    public var description: String { name }

    /// The C library's text for this errno ("Network is unreachable").
    public var message: String { String(cString: strerror(rawValue)) }

    /// The calling thread's errno.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The errno called `name`: a symbolic name (`ENETUNREACH`) or `errno N`, as `name` prints one
    /// hostgw does not name. nil for any other text.
    public init?(name: String) {
        if let number = Errno.names.first(where: { $0.value == name })?.key {
            self.init(rawValue: number)
        } else if name.hasPrefix("errno "), let number = Int32(name.dropFirst("errno ".count)) {
            self.init(rawValue: number)
        } else {
            return nil
        }
    }
}

/// In JSON (status documents) an errno is its name, `"ENETUNREACH"`, as before it had a type.
extension Errno: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let errno = Errno(name: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an errno name: \(text)")
        }
        self = errno
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// A netlink failure with the context needed to act on it.
public struct NetlinkError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The kernel answered the request with an error ack.
        case kernel
        /// A socket syscall failed (socket, bind, sendmsg, recvmsg, setsockopt, setns).
        case system
        /// A reply did not parse: truncated, malformed, or an unexpected sequence number.
        case malformed
    }

    public var kind: Kind
    public var errno: Errno
    /// The kernel's extended-ack text (NETLINK_EXT_ACK), or a parser's explanation.
    public var detail: String?
    /// What was being done: `add 10.244.3.0/24 via 10.0.0.3 dev#2 proto 77`, `dump routes`, `recvmsg`.
    public var request: String

    public init(kind: Kind, errno: Errno, detail: String? = nil, request: String) {
        self.kind = kind
        self.errno = errno
        self.detail = detail
        self.request = request
    }

    public var description: String {
        var s = "\(request): \(errno.name) (\(errno.message))"
        if let detail, !detail.isEmpty { s += ": \(detail)" }
        return s
    }
}
