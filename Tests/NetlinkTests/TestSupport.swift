// Helpers shared by the Netlink tests: golden-byte hex, and a throwaway namespace with a dummy
// link for kernel tests.
import Foundation
import NetAddress
@testable import Netlink
import Testing

let isRoot = getuid() == 0

/// Hex with whitespace and `#` comments to the end of a line: one line per wire field.
func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let digits = code.filter { !$0.isWhitespace }
        precondition(digits.count % 2 == 0, "odd hex digits in \(line)")
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 2)
            guard let b = UInt8(digits[i..<j], radix: 16) else { preconditionFailure("bad hex \(digits[i..<j])") }
            bytes.append(b)
            i = j
        }
    }
    return bytes
}

func prefix(_ s: String) throws -> IPPrefix { try #require(IPPrefix(s)) }
func ip(_ s: String) throws -> IPAddress { try #require(IPAddress(s)) }

/// A namespace with `hgw0` (veth to `hgw1`, both up) holding 10.250.0.1/24 and fd00:250::1/64.
struct Lab {
    let namespace: NetworkNamespace
    let socket: NetlinkSocket
    let ifindex: UInt32

    static let linkName = "hgw0"
    static let peerName = "hgw1"
    static let v4Gateway = IPAddress.v4(IPv4Address(10, 250, 0, 2))

    init(_ purpose: String) throws {
        let ns = try NetworkNamespace.create(prefix: "hgw-\(purpose)")
        do {
            // veth (this kernel has no dummy driver); the peer stays inside, up, for carrier.
            try ns.run(["ip", "link", "add", Lab.linkName, "type", "veth", "peer", "name", Lab.peerName])
            try ns.run(["ip", "link", "set", Lab.peerName, "up"])
            try ns.run(["ip", "addr", "add", "10.250.0.1/24", "dev", Lab.linkName])
            try ns.run(["ip", "-6", "addr", "add", "fd00:250::1/64", "dev", Lab.linkName, "nodad"])
            try ns.run(["ip", "link", "set", Lab.linkName, "up"])
            let socket = try NetlinkSocket(namespace: ns.name)
            let link = try #require(try socket.links().first { $0.name == Lab.linkName })
            self.namespace = ns
            self.socket = socket
            self.ifindex = link.index
        } catch {
            ns.delete()
            throw error
        }
    }

    func route(_ dst: String, via gateway: String? = nil, proto: RouteProtocol = .hostgw) throws -> Route {
        Route(destination: try prefix(dst), gateway: try gateway.map(ip), outputInterface: ifindex, protocol: proto)
    }

    /// `ip route show` lines for one protocol, as an operator would check.
    func ipRoutes(_ family: String = "-4", proto: String = "77") throws -> [String] {
        // -N: numbers, not names; scripts/setup installs `hostgw` as the name of protocol 77.
        try namespace.run(["ip", "-N", family, "route", "show", "proto", proto]).split(separator: "\n").map(String.init)
    }
}
