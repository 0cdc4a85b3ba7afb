// Fuzzes what the kernel sends back: datagrams of netlink messages through the decoder the
// socket and the monitor use (message iteration, acks, route/link/address bodies, events), and
// the collectors that follow a batch's acks and a dump.
@testable import Netlink
import FuzzSupport

@main
enum FuzzNetlinkReply {
    static func main() {
        fuzzMain { bytes in
            _ = try? ReplyDecoder.messages(in: Array(bytes))
            try? ReplyDecoder.forEachMessage(in: bytes) { (header, payload) throws(NetlinkError) in
                _ = try? ReplyDecoder.event(header, payload)
            }
            var acks = AckCollector(firstSeq: 1, count: 4)
            try? acks.consume(bytes)
            var dump = DumpCollector<Route>(seq: 1)
            try? dump.consume(bytes) { (_, payload) throws(NetlinkError) in try ReplyDecoder.route(payload) }
        }
    }
}
