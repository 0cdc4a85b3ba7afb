// Truncated and malformed replies throw `.malformed`; nothing crashes or reads out of bounds.
import NetAddress
@testable import Netlink
import Testing

@Suite struct MalformedReplyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "header claims more than received", bytes: hex("64000000 1800 0200 01000000 00000000") + [UInt8](repeating: 0, count: 12)),
        Case(name: "nlmsg_len below the header size", bytes: hex("08000000 1800 0200 01000000 00000000")),
        Case(name: "trailing bytes after a message", bytes: hex("14000000 0300 0200 01000000 00000000 00000000 ffff")),
        Case(name: "route shorter than rtmsg", bytes: hex("14000000 1800 0200 01000000 00000000 02180000")),
        Case(name: "attribute overruns the message", bytes: hex("""
            24000000 1800 0200 01000000 00000000  # len 36
            02 18 00 00 fe 4d 00 01 00000000      # rtmsg
            1000 0100 0af40100                     # RTA_DST claiming 16 bytes, 8 present
            """)),
        Case(name: "attribute length below its header", bytes: hex("""
            24000000 1800 0200 01000000 00000000
            02 18 00 00 fe 4d 00 01 00000000
            0200 0100 0af40100                     # nla_len 2
            """)),
        Case(name: "IPv4 destination of 3 bytes", bytes: hex("""
            24000000 1800 0200 01000000 00000000
            02 18 00 00 fe 4d 00 01 00000000
            0700 0100 0af40100                     # RTA_DST, 3-byte payload
            """)),
        Case(name: "RTA_OIF of 2 bytes", bytes: hex("""
            24000000 1800 0200 01000000 00000000
            02 18 00 00 fe 4d 00 01 00000000
            0600 0400 02000000                     # RTA_OIF, 2-byte payload
            """)),
        Case(name: "destination length 33 for IPv4", bytes: hex("""
            1c000000 1800 0200 01000000 00000000
            02 21 00 00 fe 4d 00 01 00000000       # dst_len 33
            """)),
        Case(name: "host bits beyond the prefix length", bytes: hex("""
            24000000 1800 0200 01000000 00000000
            02 10 00 00 fe 4d 00 01 00000000       # dst_len 16
            0800 0100 0af40100                     # RTA_DST 10.244.1.0
            """)),
        Case(name: "error ack without the request header", bytes: hex("18000000 0200 0000 01000000 00000000 9bffffff 00000000")),
        Case(name: "extended ack past the payload", bytes: hex("""
            24000000 0200 0002 01000000 00000000   # NLMSG_ERROR, ACK_TLVS, not capped
            9bffffff
            ff000000 1800 0506 01000000 00000000   # echoed request claims 255 bytes
            """)),
        Case(name: "reason text without NUL", bytes: hex("""
            2c000000 0200 0003 01000000 00000000   # NLMSG_ERROR, CAPPED|ACK_TLVS
            9bffffff
            34000000 1800 0506 01000000 00000000
            0800 0100 62616421                     # NLMSGERR_ATTR_MSG "bad!" with no NUL
            """)),
        Case(name: "link without a name", bytes: hex("""
            20000000 1000 0200 01000000 00000000   # RTM_NEWLINK
            00 00 0100 02000000 01000000 00000000  # ifinfomsg
            """)),
        Case(name: "address without an address", bytes: hex("""
            18000000 1400 0200 01000000 00000000   # RTM_NEWADDR
            02 18 00 00 02000000                   # ifaddrmsg
            """)),
    ]

    @Test(arguments: cases)
    func throwsMalformed(_ c: Case) {
        #expect {
            _ = try ReplyDecoder.messages(in: c.bytes)
        } throws: { error in
            (error as? NetlinkError)?.kind == .malformed
        }
    }

    @Test func everyTruncationOfARealReplyIsSafe() {
        // Any prefix of a valid reply either decodes (it ends on a message boundary) or throws
        // `.malformed`: never a crash, never another error.
        for length in 0..<dumpReply.count {
            do {
                _ = try ReplyDecoder.messages(in: Array(dumpReply[0..<length]))
                #expect([0, 76, 152].contains(length), "prefix of \(length) bytes decoded")
            } catch {
                #expect(error.kind == .malformed)
            }
        }
    }

    @Test func corruptedBytesNeverCrash() {
        // Deterministic single-byte corruptions of every position of two real replies.
        for reply in [dumpReply, errorAck] {
            for position in reply.indices {
                for value: UInt8 in [0x00, 0x01, 0x03, 0x7f, 0xff] {
                    var bytes = reply
                    bytes[position] = value
                    do {
                        _ = try ReplyDecoder.messages(in: bytes)
                    } catch {
                        #expect(error.kind == .malformed)
                    }
                }
            }
        }
    }

    @Test func unalignedInputIsCopiedNotPunned() throws {
        // The same reply one byte into a buffer: decoded through an aligned copy.
        let shifted = [0xaa] + dumpReply
        let viaSlice = try shifted.withUnsafeBytes { raw -> Int in
            var count = 0
            try ReplyDecoder.forEachMessage(in: UnsafeRawBufferPointer(rebasing: raw[1...])) { _, _ in count += 1 }
            return count
        }
        #expect(viaSlice == 3)
    }
}
