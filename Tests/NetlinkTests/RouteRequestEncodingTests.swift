// Route requests against golden bytes: what hostgw sends for add, replace and delete.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

@Suite struct RouteRequestEncodingTests {
    let route: Route

    init() throws {
        route = Route(destination: try prefix("10.244.3.0/24"), gateway: try ip("10.0.0.3"), outputInterface: 2, protocol: .hostgw)
    }

    @Test func addRequest() throws {
        let bytes = try RequestEncoder.route(RouteChange(.add, route), seq: 1)
        #expect(bytes == hex("""
            34000000  # nlmsghdr.nlmsg_len = 52
            1800      # nlmsg_type = RTM_NEWROUTE (24)
            0506      # nlmsg_flags = REQUEST|ACK|EXCL|CREATE (0x605)
            01000000  # nlmsg_seq = 1
            00000000  # nlmsg_pid = 0 (kernel)
            02        # rtmsg.rtm_family = AF_INET
            18        # rtm_dst_len = 24
            00 00     # rtm_src_len, rtm_tos
            fe        # rtm_table = RT_TABLE_MAIN (254)
            4d        # rtm_protocol = 77 (hostgw)
            00        # rtm_scope = RT_SCOPE_UNIVERSE
            01        # rtm_type = RTN_UNICAST
            00000000  # rtm_flags
            0800 0100 0af40300  # RTA_DST 10.244.3.0
            0800 0500 0a000003  # RTA_GATEWAY 10.0.0.3
            0800 0400 02000000  # RTA_OIF 2
            """))
    }

    @Test func replaceRequestFlags() throws {
        let bytes = try RequestEncoder.route(RouteChange(.replace, route), seq: 9)
        #expect(Array(bytes[0..<16]) == hex("""
            34000000  # nlmsg_len = 52
            1800      # RTM_NEWROUTE
            0505      # REQUEST|ACK|REPLACE|CREATE (0x505): no EXCL
            09000000  # nlmsg_seq = 9
            00000000  # nlmsg_pid
            """))
        // Same body as an add.
        #expect(Array(bytes[16...]) == Array(try RequestEncoder.route(RouteChange(.add, route), seq: 9)[16...]))
    }

    @Test func deleteRequestNamesProtocol() throws {
        var withMTU = route
        withMTU.mtu = 1400  // metrics mean nothing to a delete and are not sent
        let bytes = try RequestEncoder.route(RouteChange(.delete, withMTU), seq: 2)
        #expect(bytes == hex("""
            34000000  # nlmsg_len = 52
            1900      # RTM_DELROUTE (25)
            0500      # REQUEST|ACK
            02000000  # nlmsg_seq = 2
            00000000  # nlmsg_pid
            02 18 00 00  # AF_INET, dst_len 24, src_len 0, tos 0
            fe        # rtm_table = main
            4d        # rtm_protocol = 77: only a route of this protocol is removed
            ff        # rtm_scope = RT_SCOPE_NOWHERE: match any scope
            01        # RTN_UNICAST
            00000000  # rtm_flags
            0800 0100 0af40300  # RTA_DST 10.244.3.0
            0800 0500 0a000003  # RTA_GATEWAY 10.0.0.3
            0800 0400 02000000  # RTA_OIF 2
            """))
    }

    @Test func ipv6TableMetricsAndDefault() throws {
        let r = Route(
            destination: try prefix("::/0"), gateway: try ip("fd00::1"), table: 1000,
            protocol: RouteProtocol(3), onLink: true, priority: 5, mtu: 1400)
        let bytes = try RequestEncoder.route(RouteChange(.add, r), seq: 3)
        #expect(bytes == hex("""
            4c000000  # nlmsg_len = 76
            1800 0506 03000000 00000000  # RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq 3, pid 0
            0a 00 00 00  # AF_INET6, dst_len 0 (default: no RTA_DST), src_len, tos
            fc        # rtm_table = RT_TABLE_COMPAT (252): the id travels in RTA_TABLE
            03        # rtm_protocol = boot
            00 01     # scope universe, RTN_UNICAST
            04000000  # rtm_flags = RTNH_F_ONLINK
            1400 0500 fd000000000000000000000000000001  # RTA_GATEWAY fd00::1
            0800 0600 05000000  # RTA_PRIORITY 5
            0800 0f00 e8030000  # RTA_TABLE 1000
            0c00 0880           # RTA_METRICS | NLA_F_NESTED (libmnl marks nests), 12 bytes
            0800 0200 78050000  #   RTAX_MTU 1400
            """))
    }

    @Test func sizeMatchesEveryShape() throws {
        let shapes: [Route] = [
            route,
            Route(destination: try prefix("fd00:1::/64"), gateway: try ip("10.0.0.1"), preferredSource: try ip("fd00::2")),
            Route(destination: try prefix("0.0.0.0/0"), table: 7, priority: 1, mtu: 9000),
        ]
        for r in shapes {
            for kind in [RouteChange.Kind.add, .replace, .delete] {
                let change = RouteChange(kind, r)
                let bytes = try RequestEncoder.route(change, seq: 1)
                #expect(bytes.count == RequestEncoder.routeMessageSize(change))
                #expect(bytes.count <= RequestEncoder.maxRouteMessageSize)
                #expect(Int(bytes[0]) | Int(bytes[1]) << 8 == bytes.count)
            }
        }
    }
}
