// What the socket layer does with received bytes, as pure state machines: matching a batch's
// acks by sequence number, and following a dump to NLMSG_DONE. Kept apart from the syscalls so
// tests can replay recorded datagrams through exactly the code the socket runs.

/// Collects the acks of one batch, whose requests carry `firstSeq ..< firstSeq + count`.
struct AckCollector {
    let firstSeq: UInt32
    private(set) var acks: [Ack?]
    private(set) var outstanding: Int

    init(firstSeq: UInt32, count: Int) {
        self.firstSeq = firstSeq
        acks = Array(repeating: nil, count: count)
        outstanding = count
    }

    /// Takes every ack of a datagram that belongs to this batch. Acks of an earlier call that was
    /// abandoned midway carry other numbers and are skipped, as are repeats and non-acks.
    mutating func consume(_ datagram: UnsafeRawBufferPointer) throws(NetlinkError) {
        try ReplyDecoder.forEachMessage(in: datagram) { (header, payload) throws(NetlinkError) in
            guard header.type == Wire.error else { return }
            let offset = Int(header.seq &- firstSeq)
            guard offset >= 0, offset < acks.count, acks[offset] == nil else { return }
            acks[offset] = try ReplyDecoder.ack(header, payload)
            outstanding -= 1
        }
    }
}

/// Follows one dump (sequence number `seq`) to NLMSG_DONE.
struct DumpCollector<Item> {
    let seq: UInt32
    private(set) var items: [Item] = []
    /// NLM_F_DUMP_INTR was seen: the table changed during the dump, which must be run again.
    private(set) var interrupted = false
    private(set) var finished = false
    /// The kernel ended the dump with an error (NLMSG_ERROR, or NLMSG_DONE carrying one).
    private(set) var failure: Ack?

    init(seq: UInt32) { self.seq = seq }

    mutating func consume(
        _ datagram: UnsafeRawBufferPointer,
        _ decode: (MessageHeader, UnsafeRawBufferPointer) throws(NetlinkError) -> Item?
    ) throws(NetlinkError) {
        try ReplyDecoder.forEachMessage(in: datagram) { (header, payload) throws(NetlinkError) in
            guard header.seq == seq, !finished else { return }
            if header.flags & Wire.dumpInterrupted != 0 { interrupted = true }
            switch header.type {
            case Wire.done, Wire.error:
                let ack = header.type == Wire.done ? try ReplyDecoder.done(header, payload) : try ReplyDecoder.ack(header, payload)
                if ack.errno != nil { failure = ack }
                finished = true
            case Wire.noop:
                break
            default:
                if let item = try decode(header, payload) { items.append(item) }
            }
        }
    }
}
