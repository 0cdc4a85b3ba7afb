// A multipart route dump as the kernel sends it: two routes, then NLMSG_DONE.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

/// Golden dump reply, shared with the malformed-input tests.
let dumpReply = hex("""
    4c000000 1800 0200 07000000 d2040000  # nlmsghdr: len 76, RTM_NEWROUTE, NLM_F_MULTI, seq 7, pid 1234
    02 18 00 00   # AF_INET, dst_len 24, src_len 0, tos 0
    fe 4d 00 01   # table main, proto 77, scope universe, unicast
    00000000      # rtm_flags
    0800 0f00 fe000000  # RTA_TABLE 254
    0800 0100 0af40100  # RTA_DST 10.244.1.0
    0800 0600 64000000  # RTA_PRIORITY 100
    0800 0500 0a000002  # RTA_GATEWAY 10.0.0.2
    0800 0400 02000000  # RTA_OIF 2
    0800 6300 deadbeef  # attribute 99: unknown, skipped
    4c000000 1800 0200 07000000 d2040000  # nlmsghdr: len 76, RTM_NEWROUTE, NLM_F_MULTI, seq 7
    0a 00 00 00   # AF_INET6, dst_len 0 (default route, no RTA_DST)
    fc 03 00 01   # table COMPAT (RTA_TABLE wins), proto boot, scope universe, unicast
    04000000      # rtm_flags = RTNH_F_ONLINK
    0800 0f00 e8030000  # RTA_TABLE 1000
    1400 0500 fe800000000000000000000000000001  # RTA_GATEWAY fe80::1
    0800 0400 03000000  # RTA_OIF 3
    0c00 0800 0800 0200 78050000  # RTA_METRICS { RTAX_MTU 1400 }
    14000000 0300 0200 07000000 d2040000  # nlmsghdr: len 20, NLMSG_DONE, NLM_F_MULTI, seq 7
    00000000      # status 0
    """)

@Suite struct DumpReplyDecodingTests {
    @Test func decodesBothRoutesAndDone() throws {
        let messages = try ReplyDecoder.messages(in: dumpReply)
        try #require(messages.count == 3)
        #expect(messages.map(\.0.seq) == [7, 7, 7])
        #expect(messages.map(\.0.flags).allSatisfy { $0 & Wire.multi != 0 })

        guard case .route(let first?) = messages[0].1, case .route(let second?) = messages[1].1 else {
            Issue.record("expected two routes, got \(messages.map(\.1))")
            return
        }
        #expect(first == Route(
            destination: try prefix("10.244.1.0/24"), gateway: try ip("10.0.0.2"), outputInterface: 2,
            table: 254, protocol: .hostgw, scope: .universe, type: .unicast, priority: 100))
        #expect(second == Route(
            destination: try prefix("::/0"), gateway: try ip("fe80::1"), outputInterface: 3,
            table: 1000, protocol: .boot, onLink: true, mtu: 1400))
        #expect(messages[2].1 == .done(Ack(code: 0)))
    }

    @Test func alsoDecodesWhenSplitAcrossDatagrams() throws {
        // One message per datagram, as the kernel does for big dumps: the same values come out.
        let whole = try ReplyDecoder.messages(in: dumpReply).map(\.1)
        let parts = [Array(dumpReply[0..<76]), Array(dumpReply[76..<152]), Array(dumpReply[152...])]
        let split = try parts.flatMap { try ReplyDecoder.messages(in: $0).map(\.1) }
        #expect(split == whole)
    }
}
