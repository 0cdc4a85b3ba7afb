// A batch's acks are matched by sequence number, whatever order and grouping they arrive in;
// strays from earlier calls and repeats never land on the wrong request.
import NetAddress
@testable import Netlink
import Testing

/// An NLMSG_ERROR ack for `seq` (capped, no TLVs): 36 bytes.
func ackBytes(seq: UInt32, code: Int32 = 0) -> [UInt8] {
    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    return le(UInt32(36)) + le(Wire.error) + le(Wire.capped) + le(seq) + le(UInt32(4321))  // nlmsghdr
        + le(code)  // error
        + le(UInt32(44)) + le(Wire.newRoute) + le(UInt16(0x605)) + le(seq) + le(UInt32(0))  // echoed header
}

@Suite struct AckMatchingTests {
    func feed(_ collector: inout AckCollector, _ datagrams: [[UInt8]]) throws {
        for d in datagrams {
            try d.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in try collector.consume(raw) }
        }
    }

    @Test func outOfOrderAcksLandOnTheirRequests() throws {
        var c = AckCollector(firstSeq: 10, count: 3)
        try feed(&c, [ackBytes(seq: 12, code: -17), ackBytes(seq: 10), ackBytes(seq: 11, code: -101)])
        #expect(c.outstanding == 0)
        #expect(c.acks.map { $0?.errno } == [nil, .ENETUNREACH, .EEXIST])
    }

    @Test func severalAcksInOneDatagram() throws {
        var c = AckCollector(firstSeq: 100, count: 4)
        try feed(&c, [ackBytes(seq: 100) + ackBytes(seq: 101) + ackBytes(seq: 103, code: -3)])
        #expect(c.outstanding == 1)
        #expect(c.acks[2] == nil)
        #expect(c.acks[3]?.errno == .ESRCH)
    }

    @Test func strayRepeatedAndForeignMessagesAreIgnored() throws {
        var c = AckCollector(firstSeq: 10, count: 2)
        try feed(&c, [
            ackBytes(seq: 9, code: -17),  // an earlier, abandoned batch
            ackBytes(seq: 12, code: -17),  // beyond this batch
            ackBytes(seq: 10),
            ackBytes(seq: 10, code: -22),  // a repeat must not overwrite the first answer
            Array(dumpReply[0..<76]),  // not an ack at all
        ])
        #expect(c.outstanding == 1)
        #expect(c.acks[0] == Ack(code: 0))
        #expect(c.acks[1] == nil)
    }

    @Test func sequenceNumbersWrapAround() throws {
        var c = AckCollector(firstSeq: UInt32.max, count: 2)
        try feed(&c, [ackBytes(seq: 0, code: -17), ackBytes(seq: UInt32.max)])
        #expect(c.acks.map { $0?.errno } == [nil, .EEXIST])
    }

    @Test func extendedAckTextIsKept() throws {
        var c = AckCollector(firstSeq: 5, count: 1)
        try feed(&c, [errorAck])
        #expect(c.acks[0] == Ack(code: -101, message: "Nexthop has invalid gateway"))
    }
}
