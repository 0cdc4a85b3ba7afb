// The Netlink kernel tests' node: the shared NamespaceLab with `hgw0` (veth to `hgw1`) holding
// 10.250.0.1/24 and fd00:250::1/64, and a NetlinkSocket inside it.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

struct Lab {
    let namespace: NamespaceLab
    let socket: NetlinkSocket
    let ifindex: UInt32

    static let linkName = "hgw0"
    static let peerName = "hgw1"
    static let v4Gateway = IPAddress.v4(IPv4Address(10, 250, 0, 2))

    init(_ purpose: String) throws {
        let lab = try NamespaceLab(purpose, link: Lab.linkName, peer: Lab.peerName, addresses: ["10.250.0.1/24", "fd00:250::1/64"])
        let socket = try NetlinkSocket(namespace: lab.name)
        let link = try #require(try socket.links().first { $0.name == Lab.linkName })
        self.namespace = lab
        self.socket = socket
        self.ifindex = link.index
    }

    func route(_ dst: String, via gateway: String? = nil, proto: RouteProtocol = .hostgw) throws -> Route {
        Route(destination: try prefix(dst), gateway: try gateway.map { try ip($0) }, outputInterface: ifindex, protocol: proto)
    }

    /// `ip route show` lines for one protocol, as an operator would check.
    func ipRoutes(_ family: String = "-4", proto: String = "77") throws -> [String] {
        // -N: numbers, not names; scripts/setup installs `hostgw` as the name of protocol 77.
        try namespace.ip(["-N", family, "route", "show", "proto", proto]).split(separator: "\n").map(String.init)
    }
}
