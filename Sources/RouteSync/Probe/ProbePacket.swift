// The probe datagram: 32 bytes, fixed. A reply is the request with its kind flipped, so it is
// exactly as large as what asked for it: the responder amplifies nothing, and it answers
// requests only (never replies), so two responders cannot be made to talk to each other.
//
//   0  magic   "HGWP" (0x48 0x47 0x57 0x50)
//   4  version 1
//   5  kind    1 request, 2 reply
//   6  reserved, 0 (ignored on receipt)
//   8  sequence UInt64, big endian
//  16  nonce    UInt64, big endian: random per probe, so an answer cannot be guessed
//  24  sender's opaque 8 bytes, echoed unchanged
struct ProbePacket: Sendable, Hashable {
    static let size = 32
    static let magic: [UInt8] = [0x48, 0x47, 0x57, 0x50]
    static let version: UInt8 = 1

    enum Kind: UInt8, Sendable { case request = 1, reply = 2 }

    var kind: Kind
    var sequence: UInt64
    var nonce: UInt64
    var opaque: UInt64 = 0

    var bytes: [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.size)
        out.append(Self.version)
        out.append(kind.rawValue)
        out.append(contentsOf: [0, 0])
        for value in [sequence, nonce, opaque] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return out
    }

    /// The packet in `bytes`, or nil for anything else: wrong size, magic, version or kind.
    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.size else { return nil }
        let b = Array(bytes)
        guard Array(b[0..<4]) == Self.magic, b[4] == Self.version, let kind = Kind(rawValue: b[5]) else { return nil }
        func word(_ at: Int) -> UInt64 { b[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(kind: kind, sequence: word(8), nonce: word(16), opaque: word(24))
    }

    init(kind: Kind, sequence: UInt64, nonce: UInt64, opaque: UInt64 = 0) {
        self.kind = kind
        self.sequence = sequence
        self.nonce = nonce
        self.opaque = opaque
    }

    /// The answer to a request: the same bytes, kind reply.
    var reply: ProbePacket {
        var r = self
        r.kind = .reply
        return r
    }
}

import NIOCore

extension ProbePacket {
    /// The packet in the readable bytes of `buffer`, read in place (the probe paths' hot loop).
    init?(buffer: ByteBuffer) {
        let at = buffer.readerIndex
        guard buffer.readableBytes == Self.size, buffer.getInteger(at: at, as: UInt32.self) == 0x4847_5750,
            buffer.getInteger(at: at + 4, as: UInt8.self) == Self.version,
            let kindByte = buffer.getInteger(at: at + 5, as: UInt8.self), let kind = Kind(rawValue: kindByte),
            let sequence = buffer.getInteger(at: at + 8, as: UInt64.self), let nonce = buffer.getInteger(at: at + 16, as: UInt64.self),
            let opaque = buffer.getInteger(at: at + 24, as: UInt64.self)
        else { return nil }
        self.init(kind: kind, sequence: sequence, nonce: nonce, opaque: opaque)
    }

    func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(0x4847_5750))
        buffer.writeInteger(Self.version)
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(sequence)
        buffer.writeInteger(nonce)
        buffer.writeInteger(opaque)
    }
}
