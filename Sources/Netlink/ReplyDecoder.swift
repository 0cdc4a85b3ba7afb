// Replies as typed values: pure functions over received bytes. Every length is checked before
// it is read (libmnl's mnl_nlmsg_ok / mnl_attr_ok / mnl_attr_validate), values are read with
// unaligned loads, unknown attributes are skipped, and anything truncated or inconsistent throws
// `.malformed` instead of reading past the buffer.
import NetAddress
import CMnl

/// The fixed netlink header of one received message.
struct MessageHeader: Sendable, Hashable {
    var length: UInt32
    var type: UInt16
    var flags: UInt16
    var seq: UInt32
    var portID: UInt32
}

/// An NLMSG_ERROR (or NLMSG_DONE) outcome: `code` 0 is success, otherwise a negative errno.
struct Ack: Sendable, Hashable {
    var code: Int32
    /// NLMSGERR_ATTR_MSG: the kernel's reason text, when NETLINK_EXT_ACK was on.
    var message: String?

    /// The errno of a failure. The code is whatever the reply holds: Int32.min has no positive
    /// counterpart (negating it traps; found by the fuzzer), so it is clamped.
    var errno: Errno? { code == 0 ? nil : Errno(rawValue: Int32(clamping: code.magnitude)) }
}

enum ReplyDecoder {
    /// Calls `body` for each message of a datagram (several messages per datagram are normal).
    /// Throws when a message claims more bytes than remain or trailing bytes do not form one.
    static func forEachMessage(
        in datagram: UnsafeRawBufferPointer,
        _ body: (MessageHeader, UnsafeRawBufferPointer) throws(NetlinkError) -> Void
    ) throws(NetlinkError) {
        guard let base = datagram.baseAddress, datagram.count > 0 else { return }
        // libmnl reads headers in place; give it 4-byte aligned memory (the kernel's own
        // alignment) even when a caller hands an odd slice.
        if Int(bitPattern: base) & 3 != 0 {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: datagram.count, alignment: 8)
            defer { copy.deallocate() }
            copy.copyMemory(from: datagram)
            try forEachMessage(in: UnsafeRawBufferPointer(copy), body)
            return
        }
        var remaining = Int32(clamping: datagram.count)
        var current: UnsafePointer<nlmsghdr>? = base.assumingMemoryBound(to: nlmsghdr.self)
        while let nlh = current, mnl_nlmsg_ok(nlh, remaining) {
            let raw = UnsafeRawPointer(nlh)
            let h = raw.loadUnaligned(as: nlmsghdr.self)
            // mnl_nlmsg_ok compares `(int)nlmsg_len <= len`: a length above 2^31 turns negative
            // and passes. Check it unsigned before trusting it.
            guard Int(h.nlmsg_len) <= Int(remaining) else { break }
            let header = MessageHeader(
                length: h.nlmsg_len, type: h.nlmsg_type, flags: h.nlmsg_flags, seq: h.nlmsg_seq, portID: h.nlmsg_pid)
            let payload = UnsafeRawBufferPointer(
                start: raw + Wire.headerSize, count: Int(h.nlmsg_len) - Wire.headerSize)
            try body(header, payload)
            current = UnsafePointer(mnl_nlmsg_next(nlh, &remaining))
        }
        if remaining > 0 {
            let offset = datagram.count - Int(remaining)
            throw malformed("message at offset \(offset) is truncated or has a bad length (\(remaining) bytes left)")
        }
    }

    /// Every message of a datagram, decoded (tests and dumps).
    static func messages(in bytes: [UInt8]) throws(NetlinkError) -> [(MessageHeader, DecodedBody)] {
        var out: [(MessageHeader, DecodedBody)] = []
        let result: Result<Void, NetlinkError> = bytes.withUnsafeBytes { raw in
            Result { () throws(NetlinkError) in
                try forEachMessage(in: raw) { (header, payload) throws(NetlinkError) in
                    out.append((header, try body(header, payload)))
                }
            }
        }
        try result.get()
        return out
    }

    enum DecodedBody: Sendable, Hashable {
        case ack(Ack)
        case done(Ack)
        case route(Route?)
        case link(Link)
        case address(InterfaceAddress?)
        case netconf(NetconfEntry?)
        case neighbour(Neighbour?)
        case other(UInt16)
    }

    static func body(_ header: MessageHeader, _ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> DecodedBody {
        switch header.type {
        case Wire.error: .ack(try ack(header, payload))
        case Wire.done: .done(try done(header, payload))
        case Wire.newRoute, Wire.delRoute: .route(try route(payload))
        case Wire.newLink, Wire.delLink: .link(try link(payload))
        case Wire.newAddress, Wire.delAddress: .address(try address(payload))
        case Wire.newNetconf: .netconf(try netconf(payload))
        case Wire.newNeighbour, Wire.delNeighbour: .neighbour(try neighbour(payload))
        default: .other(header.type)
        }
    }

    // MARK: - Acks

    /// NLMSG_ERROR payload: `int error; struct nlmsghdr request` (capped) or the whole request,
    /// then extended-ack attributes when NLM_F_ACK_TLVS is set.
    static func ack(_ header: MessageHeader, _ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> Ack {
        guard payload.count >= 4 + Wire.headerSize else {
            throw malformed("NLMSG_ERROR of \(payload.count) bytes, need \(4 + Wire.headerSize)")
        }
        var ack = Ack(code: payload.loadUnaligned(as: Int32.self))
        guard header.flags & Wire.ackTLVs != 0 else { return ack }
        var tlvStart = 4 + Wire.headerSize
        if header.flags & Wire.capped == 0 {
            let echoedLength = Int(payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            tlvStart = 4 + Wire.align(echoedLength)
        }
        guard tlvStart <= payload.count else {
            throw malformed("NLMSG_ERROR extended ack starts at \(tlvStart), payload has \(payload.count)")
        }
        ack.message = try extAckMessage(UnsafeRawBufferPointer(rebasing: payload[tlvStart...]))
        return ack
    }

    /// NLMSG_DONE may carry an error code (a dump that failed midway) and extended-ack text.
    static func done(_ header: MessageHeader, _ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> Ack {
        guard payload.count >= 4 else { return Ack(code: 0) }
        var ack = Ack(code: payload.loadUnaligned(as: Int32.self))
        if header.flags & Wire.ackTLVs != 0 {
            ack.message = try extAckMessage(UnsafeRawBufferPointer(rebasing: payload[4...]))
        }
        return ack
    }

    private static func extAckMessage(_ tlvs: UnsafeRawBufferPointer) throws(NetlinkError) -> String? {
        var message: String?
        try forEachAttribute(in: tlvs) { (attr) throws(NetlinkError) in
            if attr.type == Wire.errAttrMsg { message = try attr.string() }
        }
        return message
    }

    // MARK: - Routes

    /// A route message; nil for families hostgw does not model (MPLS, multicast tables).
    static func route(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> Route? {
        guard payload.count >= Wire.rtmsgSize else {
            throw malformed("route message of \(payload.count) bytes, rtmsg needs \(Wire.rtmsgSize)")
        }
        let rtm = payload.loadUnaligned(as: rtmsg.self)
        guard let family = Wire.family(rtm.rtm_family) else { return nil }
        guard Int(rtm.rtm_dst_len) <= family.bitWidth else {
            throw malformed("rtm_dst_len \(rtm.rtm_dst_len) exceeds \(family.bitWidth)")
        }
        var destination: IPAddress = family == .v4 ? .v4(IPv4Address(0)) : .v6(IPv6Address(high: 0, low: 0))
        var gateway: IPAddress?
        var oif: UInt32?
        var priority: UInt32?
        var source: IPAddress?
        var table = UInt32(rtm.rtm_table)
        var mtu: UInt32?
        try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[Wire.rtmsgSize...])) { (attr) throws(NetlinkError) in
            switch attr.type {
            case Wire.rtaDst: destination = try attr.address(family)
            case Wire.rtaGateway: gateway = try attr.address(family)
            case Wire.rtaVia: gateway = try attr.via()
            case Wire.rtaOif: oif = try attr.u32()
            case Wire.rtaPriority: priority = try attr.u32()
            case Wire.rtaPrefsrc: source = try attr.address(family)
            // RTA_TABLE carries ids above 255; rtm_table then only says RT_TABLE_COMPAT.
            case Wire.rtaTable: table = try attr.u32()
            case Wire.rtaMetrics:
                try forEachAttribute(in: attr.payload) { (metric) throws(NetlinkError) in
                    if metric.type == Wire.rtaxMTU { mtu = try metric.u32() }
                }
            default: break
            }
        }
        // Host bits set in RTA_DST beyond rtm_dst_len are refused rather than silently cleared.
        guard let prefix = IPPrefix(address: destination, length: Int(rtm.rtm_dst_len)), prefix.address == destination else {
            throw malformed("destination \(destination)/\(rtm.rtm_dst_len) is not a network prefix")
        }
        return Route(
            destination: prefix, gateway: gateway, outputInterface: oif, table: table,
            protocol: RouteProtocol(rtm.rtm_protocol), scope: RouteScope(rawValue: rtm.rtm_scope),
            type: RouteType(rawValue: rtm.rtm_type), onLink: rtm.rtm_flags & Wire.rtnhOnLink != 0,
            priority: priority, mtu: mtu, preferredSource: source)
    }

    // MARK: - Links and addresses

    static func link(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> Link {
        guard payload.count >= Wire.ifinfomsgSize else {
            throw malformed("link message of \(payload.count) bytes, ifinfomsg needs \(Wire.ifinfomsgSize)")
        }
        let ifi = payload.loadUnaligned(as: ifinfomsg.self)
        var name: String?
        var mtu: UInt32 = 0
        var oper = OperState.unknown
        try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[Wire.ifinfomsgSize...])) { (attr) throws(NetlinkError) in
            switch attr.type {
            case Wire.iflaIfname: name = try attr.string()
            case Wire.iflaMTU: mtu = try attr.u32()
            case Wire.iflaOperstate: oper = OperState(rawValue: try attr.u8()) ?? .unknown
            default: break
            }
        }
        guard let name else { throw malformed("link #\(ifi.ifi_index) without IFLA_IFNAME") }
        return Link(
            index: UInt32(bitPattern: ifi.ifi_index), name: name, mtu: mtu,
            isUp: ifi.ifi_flags & Wire.iffUp != 0, hasCarrier: ifi.ifi_flags & Wire.iffLowerUp != 0,
            operState: oper)
    }

    /// An address message; nil for families other than IPv4/IPv6.
    static func address(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> InterfaceAddress? {
        guard payload.count >= Wire.ifaddrmsgSize else {
            throw malformed("address message of \(payload.count) bytes, ifaddrmsg needs \(Wire.ifaddrmsgSize)")
        }
        let ifa = payload.loadUnaligned(as: ifaddrmsg.self)
        guard let family = Wire.family(ifa.ifa_family) else { return nil }
        guard Int(ifa.ifa_prefixlen) <= family.bitWidth else {
            throw malformed("ifa_prefixlen \(ifa.ifa_prefixlen) exceeds \(family.bitWidth)")
        }
        // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links.
        var local: IPAddress?
        var address: IPAddress?
        try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[Wire.ifaddrmsgSize...])) { (attr) throws(NetlinkError) in
            switch attr.type {
            case Wire.ifaLocal: local = try attr.address(family)
            case Wire.ifaAddress: address = try attr.address(family)
            default: break
            }
        }
        guard let chosen = local ?? address else { throw malformed("address on #\(ifa.ifa_index) without IFA_LOCAL/IFA_ADDRESS") }
        return InterfaceAddress(
            interfaceIndex: ifa.ifa_index, address: chosen, prefixLength: Int(ifa.ifa_prefixlen),
            scope: RouteScope(rawValue: ifa.ifa_scope))
    }

    /// RTM_NEWNEIGH / RTM_DELNEIGH: `struct ndmsg`, then NDA_*; nil for families other than
    /// IPv4/IPv6 (bridge FDB entries share the message type) and for entries without NDA_DST.
    static func neighbour(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> Neighbour? {
        guard payload.count >= Wire.ndmsgSize else {
            throw malformed("neighbour message of \(payload.count) bytes, ndmsg needs \(Wire.ndmsgSize)")
        }
        let nd = payload.loadUnaligned(as: ndmsg.self)
        guard let family = Wire.family(nd.ndm_family) else { return nil }
        var address: IPAddress?
        var link: [UInt8]?
        try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[Wire.ndmsgSize...])) { (attr) throws(NetlinkError) in
            switch attr.type {
            case Wire.ndaDst: address = try attr.address(family)
            case Wire.ndaLladdr: link = Array(attr.payload)
            default: break
            }
        }
        guard let address else { return nil }
        return Neighbour(
            interfaceIndex: UInt32(bitPattern: nd.ndm_ifindex), address: address, linkAddress: link,
            state: NeighbourState(rawValue: nd.ndm_state))
    }

    /// RTM_NEWRULE: `struct fib_rule_hdr`, then FRA_*; nil for families other than IPv4/IPv6.
    static func rule(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> RoutingRule? {
        guard payload.count >= Wire.fibRuleHdrSize else {
            throw malformed("rule message of \(payload.count) bytes, fib_rule_hdr needs \(Wire.fibRuleHdrSize)")
        }
        let header = payload.loadUnaligned(as: fib_rule_hdr.self)
        guard let family = Wire.family(header.family) else { return nil }
        let action: RoutingRule.Action
        switch header.action {
        case Wire.frActToTable: action = .lookup
        case Wire.frActGoto: action = .goto
        case Wire.frActNop: action = .nop
        default: action = .other(header.action)
        }
        var rule = RoutingRule(
            family: family, priority: 0, table: UInt32(header.table), action: action,
            inverted: header.flags & Wire.fibRuleInvert != 0)
        var source: IPAddress?
        try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[Wire.fibRuleHdrSize...])) { (attr) throws(NetlinkError) in
            switch attr.type {
            case Wire.fraPriority: rule.priority = try attr.u32()
            case Wire.fraTable: rule.table = try attr.u32()
            case Wire.fraFwmark: rule.fwmark = try attr.u32()
            case Wire.fraFwmask: rule.fwmask = try attr.u32()
            case Wire.fraIifname: rule.inputInterface = try attr.string()
            case Wire.fraOifname: rule.outputInterface = try attr.string()
            case Wire.fraSrc: source = try attr.address(family)
            default: break
            }
        }
        if let source {
            guard let prefix = IPPrefix(address: source, length: Int(header.src_len)) else {
                throw malformed("rule with source length \(header.src_len) for \(family.rawValue)")
            }
            rule.source = prefix
        }
        return rule
    }

    // MARK: - NETCONF and nftables

    /// RTM_NEWNETCONF: `struct netconfmsg { u8 family; }` (padded to 4), then NETCONFA_*; nil for
    /// families other than IPv4/IPv6 (MPLS has a netconf too).
    static func netconf(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> NetconfEntry? {
        guard payload.count >= 1 else { throw malformed("netconf message without netconfmsg") }
        guard let family = Wire.family(payload[0]) else { return nil }
        let start = Wire.align(1)
        var index: Int32?
        var forwarding: Bool?
        var rpFilter: UInt32?
        if payload.count > start {
            try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[start...])) { (attr) throws(NetlinkError) in
                switch attr.type {
                case Wire.netconfaIfindex: index = Int32(bitPattern: try attr.u32())
                case Wire.netconfaForwarding: forwarding = try attr.u32() != 0
                case Wire.netconfaRpFilter: rpFilter = try attr.u32()
                default: break
                }
            }
        }
        let scope: NetconfEntry.Scope
        switch index {
        case Wire.netconfIfindexAll?: scope = .all
        case Wire.netconfIfindexDefault?: scope = .default
        case let i? where i > 0: scope = .interface(UInt32(i))
        default: throw malformed("netconf message without a valid NETCONFA_IFINDEX (\(index.map(String.init) ?? "none"))")
        }
        return NetconfEntry(family: family, scope: scope, forwarding: forwarding, rpFilter: rpFilter)
    }

    /// RTM_NEWNEIGHTBL: `struct ndtmsg` (family, padded to 4), then NDTA_*. A dump sends one
    /// message per table (with the thresholds, NDTA_CONFIG and NDTA_STATS) and one per device's
    /// parameters (NDTA_NAME and NDTA_PARMS only): those, and other families' tables, are nil.
    static func neighbourTable(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> NeighbourTable? {
        let start = MemoryLayout<ndtmsg>.size
        guard payload.count >= start else { throw malformed("neighbour table message without ndtmsg") }
        guard let family = Wire.family(payload[0]) else { return nil }
        var name = ""
        var thresh1: UInt32?
        var thresh2: UInt32?
        var thresh3: UInt32?
        var entries: UInt32?
        var tableFulls: UInt64?
        var forcedGCRuns: UInt64?
        try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[start...])) { (attr) throws(NetlinkError) in
            switch attr.type {
            case Wire.ndtaName: name = try attr.string()
            case Wire.ndtaThresh1: thresh1 = try attr.u32()
            case Wire.ndtaThresh2: thresh2 = try attr.u32()
            case Wire.ndtaThresh3: thresh3 = try attr.u32()
            case Wire.ndtaConfig:
                let offset = MemoryLayout<ndt_config>.offset(of: \.ndtc_entries)!
                guard attr.payload.count >= offset + 4 else { throw malformed("NDTA_CONFIG of \(attr.payload.count) bytes") }
                entries = attr.payload.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            case Wire.ndtaStats:
                let fulls = MemoryLayout<ndt_stats>.offset(of: \.ndts_table_fulls)!
                let forced = MemoryLayout<ndt_stats>.offset(of: \.ndts_forced_gc_runs)!
                guard attr.payload.count >= fulls + 8 else { throw malformed("NDTA_STATS of \(attr.payload.count) bytes") }
                tableFulls = attr.payload.loadUnaligned(fromByteOffset: fulls, as: UInt64.self)
                forcedGCRuns = attr.payload.loadUnaligned(fromByteOffset: forced, as: UInt64.self)
            default: break
            }
        }
        guard let t1 = thresh1, let t2 = thresh2, let t3 = thresh3 else {
            return nil  // a device's parameters, not the table
        }
        return NeighbourTable(
            family: family, name: name, gcThresh1: t1, gcThresh2: t2, gcThresh3: t3, entries: entries,
            tableFulls: tableFulls, forcedGCRuns: forcedGCRuns)
    }

    /// NFT_MSG_NEWCHAIN: `struct nfgenmsg` (family, version, res_id), then NFTA_CHAIN_*. nftables
    /// numbers are big-endian on the wire.
    static func filterChain(_ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> FilterChain {
        guard payload.count >= Wire.nfgenmsgSize else {
            throw malformed("nftables chain message of \(payload.count) bytes, nfgenmsg needs \(Wire.nfgenmsgSize)")
        }
        let family = FilterFamily(payload[0])
        var table: String?
        var name: String?
        var hook: UInt32?
        var priority: Int32?
        var policy: FilterVerdict?
        var type: String?
        try forEachAttribute(in: UnsafeRawBufferPointer(rebasing: payload[Wire.nfgenmsgSize...])) { (attr) throws(NetlinkError) in
            switch attr.type {
            case Wire.nftaChainTable: table = try attr.string()
            case Wire.nftaChainName: name = try attr.string()
            case Wire.nftaChainPolicy: policy = FilterVerdict(UInt32(bigEndian: try attr.u32()))
            case Wire.nftaChainType: type = try attr.string()
            case Wire.nftaChainHook:
                try forEachAttribute(in: attr.payload) { (inner) throws(NetlinkError) in
                    switch inner.type {
                    case Wire.nftaHookHooknum: hook = UInt32(bigEndian: try inner.u32())
                    case Wire.nftaHookPriority: priority = Int32(bitPattern: UInt32(bigEndian: try inner.u32()))
                    default: break
                    }
                }
            default: break
            }
        }
        guard let table, let name else { throw malformed("nftables chain without NFTA_CHAIN_TABLE/NFTA_CHAIN_NAME") }
        return FilterChain(family: family, table: table, name: name, hook: hook, priority: priority, policy: policy, type: type)
    }

    // MARK: - Events

    static func event(_ header: MessageHeader, _ payload: UnsafeRawBufferPointer) throws(NetlinkError) -> NetlinkEvent? {
        switch header.type {
        case Wire.newRoute: return try route(payload).map(NetlinkEvent.routeAdded)
        case Wire.delRoute: return try route(payload).map(NetlinkEvent.routeRemoved)
        case Wire.newLink: return .linkChanged(try link(payload))
        case Wire.delLink: return .linkRemoved(try link(payload))
        case Wire.newAddress: return try address(payload).map(NetlinkEvent.addressAdded)
        case Wire.delAddress: return try address(payload).map(NetlinkEvent.addressRemoved)
        case Wire.newNetconf: return try netconf(payload).map(NetlinkEvent.netconfChanged)
        case Wire.newNeighbour: return try neighbour(payload).map(NetlinkEvent.neighbourChanged)
        case Wire.delNeighbour: return try neighbour(payload).map(NetlinkEvent.neighbourRemoved)
        case Wire.overrun: return .overrun
        default: return nil
        }
    }

    // MARK: - Attributes

    /// One attribute, validated through libmnl before any value is read.
    struct Attribute {
        let pointer: UnsafePointer<nlattr>
        let type: UInt16
        var payload: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: mnl_attr_get_payload(pointer), count: Int(mnl_attr_get_payload_len(pointer)))
        }

        func u32() throws(NetlinkError) -> UInt32 {
            guard mnl_attr_validate(pointer, MNL_TYPE_U32) >= 0 else { throw wrongSize("4") }
            return payload.loadUnaligned(as: UInt32.self)
        }

        func u8() throws(NetlinkError) -> UInt8 {
            guard mnl_attr_validate(pointer, MNL_TYPE_U8) >= 0 else { throw wrongSize("1") }
            return payload.loadUnaligned(as: UInt8.self)
        }

        func string() throws(NetlinkError) -> String {
            guard mnl_attr_validate(pointer, MNL_TYPE_NUL_STRING) >= 0 else {
                throw malformed("attribute \(type) is not a NUL-terminated string")
            }
            let bytes = payload
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
        }

        func address(_ family: IPFamily) throws(NetlinkError) -> IPAddress {
            try ReplyDecoder.address(payload, family, type)
        }

        /// RTA_VIA: `struct rtvia { __kernel_sa_family_t family; __u8 addr[]; }`.
        func via() throws(NetlinkError) -> IPAddress {
            let p = payload
            guard p.count >= 2 else { throw wrongSize(">= 2") }
            guard let family = Wire.family(UInt8(truncatingIfNeeded: p.loadUnaligned(as: UInt16.self))) else {
                throw malformed("RTA_VIA with an unsupported address family")
            }
            return try ReplyDecoder.address(UnsafeRawBufferPointer(rebasing: p[2...]), family, type)
        }

        private func wrongSize(_ expected: String) -> NetlinkError {
            malformed("attribute \(type) has \(mnl_attr_get_payload_len(pointer)) bytes, expected \(expected)")
        }
    }

    static func address(_ p: UnsafeRawBufferPointer, _ family: IPFamily, _ type: UInt16) throws(NetlinkError) -> IPAddress {
        guard p.count == family.byteCount else {
            throw malformed("address attribute \(type) has \(p.count) bytes, \(family.rawValue) needs \(family.byteCount)")
        }
        switch family {
        case .v4:
            return .v4(IPv4Address(UInt32(bigEndian: p.loadUnaligned(as: UInt32.self))))
        case .v6:
            return .v6(IPv6Address(
                high: UInt64(bigEndian: p.loadUnaligned(as: UInt64.self)),
                low: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))))
        }
    }

    /// Walks the attributes of `region` with mnl_attr_ok / mnl_attr_next. Bytes left over that do
    /// not form an attribute mean the message is malformed.
    static func forEachAttribute(
        in region: UnsafeRawBufferPointer, _ body: (Attribute) throws(NetlinkError) -> Void
    ) throws(NetlinkError) {
        guard let base = region.baseAddress, region.count > 0 else { return }
        guard Int(bitPattern: base) & 3 == 0 else { throw malformed("attributes at an unaligned offset") }
        let end = base + region.count
        var current: UnsafePointer<nlattr>? = base.assumingMemoryBound(to: nlattr.self)
        var remaining = region.count
        while let attr = current, mnl_attr_ok(attr, Int32(clamping: remaining)) {
            try body(Attribute(pointer: attr, type: mnl_attr_get_type(attr)))
            guard let next = mnl_attr_next(attr) else { break }
            current = UnsafePointer(next)
            remaining = end - UnsafeRawPointer(next)
        }
        if remaining > 0 {
            throw malformed("attribute at offset \(region.count - remaining) overruns its message (\(remaining) bytes left)")
        }
    }

    static func malformed(_ detail: String) -> NetlinkError {
        NetlinkError(kind: .malformed, errno: .EPROTO, detail: detail, request: "decode reply")
    }
}

extension Errno {
    static let EPROTO = Errno(rawValue: 71)
}
