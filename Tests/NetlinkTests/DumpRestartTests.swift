// A dump is followed to NLMSG_DONE across datagrams; NLM_F_DUMP_INTR marks it for a re-run;
// kernel errors end it; messages of other dumps are skipped.
import NetAddress
@testable import Netlink
import Testing

@Suite struct DumpRestartTests {
    func collect(seq: UInt32, _ datagrams: [[UInt8]]) throws -> DumpCollector<Route> {
        var c = DumpCollector<Route>(seq: seq)
        for d in datagrams {
            try d.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
                try c.consume(raw) { (header, payload) throws(NetlinkError) in
                    header.type == Wire.newRoute ? try ReplyDecoder.route(payload) : nil
                }
            }
        }
        return c
    }

    @Test func followsTheDumpAcrossDatagrams() throws {
        let c = try collect(seq: 7, [Array(dumpReply[0..<76]), Array(dumpReply[76..<152]), Array(dumpReply[152...])])
        #expect(c.finished && !c.interrupted && c.failure == nil)
        #expect(c.items.map(\.destination.description) == ["10.244.1.0/24", "::/0"])
    }

    @Test func unfinishedUntilDone() throws {
        let c = try collect(seq: 7, [Array(dumpReply[0..<152])])
        #expect(!c.finished)
        #expect(c.items.count == 2)
    }

    @Test func interruptedFlagAsksForARerun() throws {
        var bytes = dumpReply
        bytes[82] |= UInt8(Wire.dumpInterrupted)  // flags of the second message (offset 76 + 6)
        let c = try collect(seq: 7, [bytes])
        #expect(c.finished && c.interrupted)
    }

    @Test func otherDumpsAreSkipped() throws {
        // The same reply under seq 7 while dump 8 is running: nothing of it counts.
        let c = try collect(seq: 8, [dumpReply])
        #expect(!c.finished && c.items.isEmpty)
    }

    @Test func kernelErrorEndsTheDump() throws {
        let done = hex("""
            14000000 0300 0200 09000000 00000000  # NLMSG_DONE, NLM_F_MULTI, seq 9
            f4ffffff                              # -12: ENOMEM, the dump failed midway
            """)
        let c = try collect(seq: 9, [done])
        #expect(c.finished)
        #expect(c.failure?.errno == .ENOMEM)

        let refused = try collect(seq: 5, [errorAck])  // NLMSG_ERROR for the dump request itself
        #expect(refused.finished)
        #expect(refused.failure?.errno == .ENETUNREACH)
    }
}
