// Address value types shared by every hostgw module. Text is parsed once, at the edge
// (config, store, command line); everything inside works on these values.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum IPFamily: String, Sendable, Hashable, Codable, CaseIterable {
    case v4 = "ipv4"
    case v6 = "ipv6"

    /// Address length in bits.
    public var bitWidth: Int { self == .v4 ? 32 : 128 }
    /// Address length in bytes.
    public var byteCount: Int { self == .v4 ? 4 : 16 }
    /// `IPv4` or `IPv6`, as messages write it (`rawValue` is the settings' and JSON's `ipv4`).
    public var label: String { self == .v4 ? "IPv4" : "IPv6" }
}

/// An IPv4 address in host byte order.
public struct IPv4Address: Sendable, Hashable, Comparable, LosslessStringConvertible, Codable {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Dotted-quad text; nil for anything else (no shorthand forms).
    public init?(_ text: String) {
        var addr = in_addr()
        guard !text.isEmpty, text.utf8.count <= 15, inet_pton(AF_INET, text, &addr) == 1 else { return nil }
        value = UInt32(bigEndian: addr.s_addr)
    }

    /// Network-order bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An IPv6 address as two 64-bit halves in host byte order.
public struct IPv6Address: Sendable, Hashable, Comparable, LosslessStringConvertible, Codable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init?(_ text: String) {
        var addr = in6_addr()
        guard !text.isEmpty, text.utf8.count <= 45, inet_pton(AF_INET6, text, &addr) == 1 else { return nil }
        let b = withUnsafeBytes(of: &addr) { Array($0) }
        self.init(bytes: b)
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let a = Array(bytes)
        high = a[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = a[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    /// RFC 5952 text (what inet_ntop prints).
    public var description: String {
        var addr = in6_addr()
        let b = bytes
        withUnsafeMutableBytes(of: &addr) { raw in
            for i in 0..<16 { raw[i] = b[i] }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isLinkLocal: Bool { high >> 54 == 0x3fa }  // fe80::/10

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPv6Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv6 address: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Sendable, Hashable, Comparable, LosslessStringConvertible, Codable {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public init?(_ text: String) {
        if let a = IPv4Address(text) {
            self = .v4(a)
        } else if let a = IPv6Address(text) {
            self = .v6(a)
        } else {
            return nil
        }
    }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4: guard let a = IPv4Address(bytes: bytes) else { return nil }; self = .v4(a)
        case 16: guard let a = IPv6Address(bytes: bytes) else { return nil }; self = .v6(a)
        default: return nil
        }
    }

    public var family: IPFamily {
        switch self {
        case .v4: .v4
        case .v6: .v6
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): a.bytes
        case .v6(let a): a.bytes
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IP address: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A network prefix such as `10.244.3.0/24` or `fd00:1::/64`. The address is always the
/// network address: host bits are cleared on construction.
public struct IPPrefix: Sendable, Hashable, Comparable, LosslessStringConvertible, Codable {
    public let address: IPAddress
    public let length: Int

    /// Builds a prefix, clearing host bits. Nil when the length does not fit the family.
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.family.bitWidth else { return nil }
        self.address = IPPrefix.mask(address, length)
        self.length = length
    }

    /// `ADDR/LEN` text. `strict` refuses host bits (`10.244.3.1/24`), which is what config and
    /// store data must use; non-strict clears them.
    public init?(_ text: String, strict: Bool) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let addr = IPAddress(String(parts[0])),
            parts[1].allSatisfy(\.isASCII), let len = Int(parts[1]), String(len) == parts[1]
        else { return nil }
        guard let p = IPPrefix(address: addr, length: len) else { return nil }
        if strict && p.address != addr { return nil }
        self = p
    }

    /// Strict parse (no host bits set).
    public init?(_ text: String) { self.init(text, strict: true) }

    public var family: IPFamily { address.family }
    public var description: String { "\(address)/\(length)" }

    /// True when `other` lies within this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        other.family == family && IPPrefix.mask(other, length) == address
    }

    /// True when `other` is this prefix or inside it.
    public func contains(_ other: IPPrefix) -> Bool {
        other.family == family && other.length >= length && contains(other.address)
    }

    public func overlaps(_ other: IPPrefix) -> Bool { contains(other) || other.contains(self) }

    /// The n-th subnet of length `newLength` inside this prefix (n counted from 0).
    public func subnet(_ n: UInt64, length newLength: Int) -> IPPrefix? {
        guard newLength >= length, newLength <= family.bitWidth else { return nil }
        let bits = newLength - length
        guard bits >= 64 || n < (UInt64(1) << UInt64(bits)) else { return nil }
        switch address {
        case .v4(let a):
            let shift = 32 - newLength
            let offset = shift >= 32 ? 0 : UInt32(truncatingIfNeeded: n) << UInt32(shift)
            return IPPrefix(address: .v4(IPv4Address(a.value | offset)), length: newLength)
        case .v6(let a):
            let shift = 128 - newLength
            var hi = a.high
            var lo = a.low
            if shift >= 64 {
                if shift - 64 < 64 { hi |= n << UInt64(shift - 64) }
            } else {
                lo |= n << UInt64(shift)
                if shift > 0 { hi |= n >> UInt64(64 - shift) }
            }
            return IPPrefix(address: .v6(IPv6Address(high: hi, low: lo)), length: newLength)
        }
    }

    /// Index of `sub` (of length `sub.length`) inside this prefix, inverse of `subnet(_:length:)`.
    public func index(of sub: IPPrefix) -> UInt64? {
        guard contains(sub) else { return nil }
        switch (address, sub.address) {
        case (.v4(let a), .v4(let b)):
            let shift = 32 - sub.length
            return shift >= 32 ? 0 : UInt64((b.value - a.value) >> UInt32(shift))
        case (.v6(let a), .v6(let b)):
            let shift = 128 - sub.length
            let dh = b.high - a.high
            let dl = b.low &- a.low
            if shift >= 64 { return shift - 64 >= 64 ? 0 : dh >> UInt64(shift - 64) }
            return shift == 0 ? dl : (dl >> UInt64(shift)) | (dh << UInt64(64 - shift))
        default:
            return nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.address, lhs.length) < (rhs.address, rhs.length)
    }

    static func mask(_ addr: IPAddress, _ length: Int) -> IPAddress {
        switch addr {
        case .v4(let a):
            let m: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
            return .v4(IPv4Address(a.value & m))
        case .v6(let a):
            let mh: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << UInt64(64 - length))
            let ml: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << UInt64(128 - length))
            return .v6(IPv6Address(high: a.high & mh, low: a.low & ml))
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = IPPrefix(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a network prefix: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension IPAddress {
    /// The IPv4 address, when this is one.
    public var ipv4: IPv4Address? {
        if case .v4(let a) = self { return a }
        return nil
    }

    /// The IPv6 address, when this is one.
    public var ipv6: IPv6Address? {
        if case .v6(let a) = self { return a }
        return nil
    }
}
