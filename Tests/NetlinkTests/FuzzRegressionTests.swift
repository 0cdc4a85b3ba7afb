// Inputs the fuzzer (scripts/fuzz netlink-reply) found crashing the decoder, kept as tests. The
// same bytes are in Tests/Fuzz/regressions/netlink-reply/ and the seed corpus.
@testable import Netlink
import Testing

@Suite struct FuzzRegressionTests {
    /// NLMSG_DONE whose status is Int32.min: negating it for the errno trapped (arithmetic overflow).
    static let doneWithInt32Min = hex("""
        24000000 0300 0005 01000000 00100001  # nlmsghdr: len 36, NLMSG_DONE, seq 1
        00000080                              # status: Int32.min
        10000000 00ffffff ff00004c 00000018 0000ff  # garbage after the status
        """)

    @Test func ackCodeInt32MinIsAnErrnoNotATrap() throws {
        var dump = DumpCollector<Route>(seq: 1)
        // The trailing garbage makes the datagram malformed (an error, not a trap); the DONE
        // before it was read first.
        Self.doneWithInt32Min.withUnsafeBytes { raw in
            _ = try? dump.consume(raw) { (_, p) throws(NetlinkError) in try ReplyDecoder.route(p) }
        }
        #expect(dump.finished)
        #expect(dump.failure?.errno == Errno(rawValue: .max))
        #expect(Ack(code: .min).errno == Errno(rawValue: .max))
        #expect(Ack(code: -2).errno == .ENOENT)
    }
}
