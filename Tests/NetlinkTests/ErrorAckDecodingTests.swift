// Error acks: the errno and the kernel's extended-ack reason, as NETLINK_CAP_ACK|EXT_ACK send them.
import HostGwTestSupport
import NetAddress
@testable import Netlink
import Testing

let errorAck = hex("""
    44000000 0200 0003 05000000 d2040000  # nlmsghdr: len 68, NLMSG_ERROR, CAPPED|ACK_TLVS, seq 5, pid 1234
    9bffffff      # error = -101 (ENETUNREACH)
    34000000 1800 0506 05000000 00000000  # the request's header (capped: no body)
    2000 0100     # NLMSGERR_ATTR_MSG, 32 bytes
    """) + Array("Nexthop has invalid gateway".utf8) + [0]  // reason text, NUL-terminated (28 bytes)

@Suite struct ErrorAckDecodingTests {
    @Test func errorAckCarriesErrnoAndReason() throws {
        let messages = try ReplyDecoder.messages(in: errorAck)
        try #require(messages.count == 1)
        #expect(messages[0].0.seq == 5)
        guard case .ack(let ack) = messages[0].1 else {
            Issue.record("expected an ack, got \(messages[0].1)")
            return
        }
        #expect(ack.errno == .ENETUNREACH)
        #expect(ack.errno?.name == "ENETUNREACH")
        #expect(ack.message == "Nexthop has invalid gateway")
    }

    @Test func successAckHasNoError() throws {
        let ok = hex("""
            24000000 0200 0001 06000000 d2040000  # NLMSG_ERROR, CAPPED, seq 6
            00000000                              # error = 0: success
            34000000 1800 0506 06000000 00000000  # the request's header
            """)
        let messages = try ReplyDecoder.messages(in: ok)
        #expect(messages.map(\.1) == [.ack(Ack(code: 0))])
        #expect(Ack(code: 0).errno == nil)
    }

    @Test func uncappedAckSkipsEchoedRequest() throws {
        // Without NETLINK_CAP_ACK the whole request is echoed; the reason follows it.
        let request = try RequestEncoder.route(
            RouteChange(.add, Route(destination: try prefix("10.244.3.0/24"), gateway: try ip("10.9.9.9"))), seq: 8)
        var bytes = hex("""
            00000000 0200 0002 08000000 00000000  # NLMSG_ERROR, ACK_TLVS (not capped), seq 8; len patched below
            9bffffff                              # -ENETUNREACH
            """) + request + hex("0800 0100") + Array("bad\0".utf8)
        bytes[0] = UInt8(bytes.count)
        let messages = try ReplyDecoder.messages(in: bytes)
        #expect(messages.map(\.1) == [.ack(Ack(code: -101, message: "bad"))])
    }
}
