// Requests as bytes: one pure encoder turns a `RouteChange` (or a dump request) into an
// rtnetlink message with libmnl. Sizes are computed before writing and the final length is
// checked against them, so a mistake here is an error, never a short or overrun message.
import NetAddress
import CMnl

enum RequestEncoder {
    /// Exact bytes of the request for `change`.
    static func routeMessageSize(_ change: RouteChange) -> Int {
        let route = change.route
        let addressBytes = route.family.byteCount
        var size = Wire.headerSize + Wire.rtmsgSize
        if route.destination.length > 0 { size += Wire.attrSize(addressBytes) }
        if let gateway = route.gateway {
            // A gateway of the other family travels as RTA_VIA (struct rtvia: u16 family + address).
            size += gateway.family == route.family
                ? Wire.attrSize(addressBytes) : Wire.attrSize(2 + gateway.family.byteCount)
        }
        if route.outputInterface != nil { size += Wire.attrSize(4) }
        if route.priority != nil { size += Wire.attrSize(4) }
        if let source = route.preferredSource { size += Wire.attrSize(source.family.byteCount) }
        if route.table > 255 { size += Wire.attrSize(4) }
        if change.kind != .delete, route.mtu != nil { size += Wire.attrSize(Wire.attrSize(4)) }
        return size
    }

    /// The largest request `routeMessageSize` can return: every attribute present, IPv6.
    static let maxRouteMessageSize = Wire.headerSize + Wire.rtmsgSize + 2 * Wire.attrSize(16)
        + Wire.attrSize(18) + 3 * Wire.attrSize(4) + Wire.attrSize(Wire.attrSize(4))

    /// Writes the request for `change` at `start` (4-byte aligned, `capacity` bytes available)
    /// and returns its length.
    static func writeRoute(
        _ change: RouteChange, seq: UInt32, at start: UnsafeMutableRawPointer, capacity: Int
    ) throws(NetlinkError) -> Int {
        let expected = routeMessageSize(change)
        guard capacity >= expected else {
            throw encoderError(change.description, "needs \(expected) bytes, \(capacity) available")
        }
        let route = change.route
        guard let nlh = mnl_nlmsg_put_header(start) else { throw encoderError(change.description, "no header") }
        var flags = Wire.request | Wire.ack
        switch change.kind {
        case .add:
            nlh.pointee.nlmsg_type = Wire.newRoute
            flags |= Wire.create | Wire.excl
        case .replace:
            nlh.pointee.nlmsg_type = Wire.newRoute
            flags |= Wire.create | Wire.replace
        case .delete:
            nlh.pointee.nlmsg_type = Wire.delRoute
        }
        nlh.pointee.nlmsg_flags = flags
        nlh.pointee.nlmsg_seq = seq

        var header = rtmsg()
        header.rtm_family = Wire.family(route.family)
        header.rtm_dst_len = UInt8(route.destination.length)
        header.rtm_table = route.table > 255 ? UInt8(RT_TABLE_COMPAT.rawValue) : UInt8(route.table)
        header.rtm_protocol = route.protocol.rawValue
        // A delete matches any scope (as iproute2 does); the protocol, gateway and device it
        // names are what select the route.
        header.rtm_scope = change.kind == .delete ? RouteScope.nowhere.rawValue : route.scope.rawValue
        header.rtm_type = route.type.rawValue
        header.rtm_flags = route.onLink ? Wire.rtnhOnLink : 0
        guard let extra = mnl_nlmsg_put_extra_header(nlh, Wire.rtmsgSize) else {
            throw encoderError(change.description, "no room for rtmsg")
        }
        extra.storeBytes(of: header, as: rtmsg.self)

        var ok = true
        if route.destination.length > 0 {
            ok = ok && putAddress(nlh, capacity, Wire.rtaDst, route.destination.address)
        }
        if let gateway = route.gateway {
            if gateway.family == route.family {
                ok = ok && putAddress(nlh, capacity, Wire.rtaGateway, gateway)
            } else {
                ok = ok && putVia(nlh, capacity, gateway)
            }
        }
        if let oif = route.outputInterface { ok = ok && mnl_attr_put_u32_check(nlh, capacity, Wire.rtaOif, oif) }
        if let priority = route.priority {
            ok = ok && mnl_attr_put_u32_check(nlh, capacity, Wire.rtaPriority, priority)
        }
        if let source = route.preferredSource { ok = ok && putAddress(nlh, capacity, Wire.rtaPrefsrc, source) }
        if route.table > 255 { ok = ok && mnl_attr_put_u32_check(nlh, capacity, Wire.rtaTable, route.table) }
        if change.kind != .delete, let mtu = route.mtu {
            if let nest = mnl_attr_nest_start_check(nlh, capacity, Wire.rtaMetrics) {
                ok = ok && mnl_attr_put_u32_check(nlh, capacity, Wire.rtaxMTU, mtu)
                mnl_attr_nest_end(nlh, nest)
            } else {
                ok = false
            }
        }
        let length = Int(nlh.pointee.nlmsg_len)
        guard ok, length == expected else {
            throw encoderError(change.description, "wrote \(length) bytes, computed \(expected)")
        }
        return length
    }

    /// One request as bytes (tests and single requests).
    static func route(_ change: RouteChange, seq: UInt32) throws(NetlinkError) -> [UInt8] {
        let size = routeMessageSize(change)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        guard let base = buffer.baseAddress else { throw encoderError(change.description, "no buffer") }
        let length = try writeRoute(change, seq: seq, at: base, capacity: size)
        return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
    }

    /// RTM_GETROUTE dump. With NETLINK_GET_STRICT_CHK the kernel filters by family, table and
    /// protocol itself; rtm_table 0 and rtm_protocol 0 mean "any".
    static func dumpRoutes(family: IPFamily?, table: UInt32?, protocol proto: RouteProtocol?, seq: UInt32) throws(NetlinkError) -> [UInt8] {
        var header = rtmsg()
        header.rtm_family = family.map(Wire.family) ?? UInt8(AF_UNSPEC)
        if let table { header.rtm_table = table > 255 ? UInt8(RT_TABLE_COMPAT.rawValue) : UInt8(table) }
        header.rtm_protocol = proto?.rawValue ?? 0
        let tableAttr = table.map { $0 > 255 } ?? false
        return try dump(type: Wire.getRoute, seq: seq, fixed: header, extraAttrSize: tableAttr ? Wire.attrSize(4) : 0) { nlh, capacity in
            if tableAttr, let table { return mnl_attr_put_u32_check(nlh, capacity, Wire.rtaTable, table) }
            return true
        }
    }

    static func dumpLinks(seq: UInt32) throws(NetlinkError) -> [UInt8] {
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_UNSPEC)
        return try dump(type: Wire.getLink, seq: seq, fixed: header)
    }

    static func dumpAddresses(family: IPFamily?, seq: UInt32) throws(NetlinkError) -> [UInt8] {
        var header = ifaddrmsg()
        header.ifa_family = family.map(Wire.family) ?? UInt8(AF_UNSPEC)
        return try dump(type: Wire.getAddress, seq: seq, fixed: header)
    }

    /// RTM_GETNETCONF dump of one family: `struct netconfmsg` (one byte, padded to 4), no
    /// attributes (the kernel's strict check refuses any).
    static func dumpNetconf(family: IPFamily, seq: UInt32) throws(NetlinkError) -> [UInt8] {
        try dump(type: Wire.getNetconf, seq: seq, fixed: Wire.family(family))
    }

    /// RTM_GETNEIGH dump of one family: `struct ndmsg` with only the family set.
    static func dumpNeighbours(family: IPFamily, seq: UInt32) throws(NetlinkError) -> [UInt8] {
        var header = ndmsg()
        header.ndm_family = Wire.family(family)
        return try dump(type: Wire.getNeighbour, seq: seq, fixed: header)
    }

    /// RTM_GETNEIGHTBL dump of one family: `struct ndtmsg` with only the family set (the kernel's
    /// strict check refuses attributes and a non-zero pad).
    static func dumpNeighbourTables(family: IPFamily, seq: UInt32) throws(NetlinkError) -> [UInt8] {
        var header = ndtmsg()
        header.ndtm_family = Wire.family(family)
        return try dump(type: Wire.getNeighbourTable, seq: seq, fixed: header)
    }

    /// RTM_GETRULE dump of one family: `struct fib_rule_hdr` with the family alone.
    static func dumpRules(family: IPFamily, seq: UInt32) throws(NetlinkError) -> [UInt8] {
        var header = fib_rule_hdr()
        header.family = Wire.family(family)
        return try dump(type: Wire.getRule, seq: seq, fixed: header)
    }

    /// NFT_MSG_GETCHAIN dump of every family (NFPROTO_UNSPEC): `struct nfgenmsg` with version
    /// NFNETLINK_V0 and res_id 0.
    static func dumpFilterChains(seq: UInt32) throws(NetlinkError) -> [UInt8] {
        try dump(type: Wire.nftables(Wire.nftMsgGetChain), seq: seq, fixed: UInt32(0))
    }

    private static func dump<Fixed: BitwiseCopyable>(
        type: UInt16, seq: UInt32, fixed: Fixed, extraAttrSize: Int = 0,
        attributes: (UnsafeMutablePointer<nlmsghdr>, Int) -> Bool = { _, _ in true }
    ) throws(NetlinkError) -> [UInt8] {
        let size = Wire.headerSize + Wire.align(MemoryLayout<Fixed>.size) + extraAttrSize
        var bytes = [UInt8](repeating: 0, count: size)
        let length = bytes.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress, let nlh = mnl_nlmsg_put_header(base) else { return -1 }
            nlh.pointee.nlmsg_type = type
            nlh.pointee.nlmsg_flags = Wire.request | Wire.dump
            nlh.pointee.nlmsg_seq = seq
            guard let extra = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<Fixed>.size) else { return -1 }
            extra.storeBytes(of: fixed, as: Fixed.self)
            guard attributes(nlh, size) else { return -1 }
            return Int(nlh.pointee.nlmsg_len)
        }
        guard length == size else { throw encoderError("dump request", "wrote \(length) bytes, computed \(size)") }
        return bytes
    }

    private static func putAddress(_ nlh: UnsafeMutablePointer<nlmsghdr>, _ capacity: Int, _ type: UInt16, _ address: IPAddress) -> Bool {
        switch address {
        case .v4(let a):
            var raw = a.value.bigEndian
            return mnl_attr_put_check(nlh, capacity, type, 4, &raw)
        case .v6(let a):
            var raw = (a.high.bigEndian, a.low.bigEndian)
            return mnl_attr_put_check(nlh, capacity, type, 16, &raw)
        }
    }

    private static func putVia(_ nlh: UnsafeMutablePointer<nlmsghdr>, _ capacity: Int, _ gateway: IPAddress) -> Bool {
        var payload = [UInt8](repeating: 0, count: 2 + gateway.family.byteCount)
        let family = UInt16(Wire.family(gateway.family))
        withUnsafeBytes(of: family) { payload.replaceSubrange(0..<2, with: $0) }  // host order, as the kernel's rtvia
        payload.replaceSubrange(2..., with: gateway.bytes)
        return payload.withUnsafeBytes { mnl_attr_put_check(nlh, capacity, Wire.rtaVia, $0.count, $0.baseAddress) }
    }

    private static func encoderError(_ request: String, _ detail: String) -> NetlinkError {
        NetlinkError(kind: .malformed, errno: .EMSGSIZE, detail: "encoder: \(detail)", request: request)
    }
}
