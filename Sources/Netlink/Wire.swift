// Wire constants and the few size rules of netlink, kept in one place so the encoder and the
// decoder never disagree. Values come from the kernel UAPI headers through CMnl; the conversions
// to Swift integer types live here and nowhere else.
import NetAddress
import CMnl

enum Wire {
    // Message types.
    static let noop = UInt16(NLMSG_NOOP)
    static let error = UInt16(NLMSG_ERROR)
    static let done = UInt16(NLMSG_DONE)
    static let overrun = UInt16(NLMSG_OVERRUN)
    static let newRoute = UInt16(RTM_NEWROUTE)
    static let delRoute = UInt16(RTM_DELROUTE)
    static let getRoute = UInt16(RTM_GETROUTE)
    static let newLink = UInt16(RTM_NEWLINK)
    static let delLink = UInt16(RTM_DELLINK)
    static let getLink = UInt16(RTM_GETLINK)
    static let newAddress = UInt16(RTM_NEWADDR)
    static let delAddress = UInt16(RTM_DELADDR)
    static let getAddress = UInt16(RTM_GETADDR)
    static let newNeighbour = UInt16(RTM_NEWNEIGH)
    static let delNeighbour = UInt16(RTM_DELNEIGH)
    static let getNeighbour = UInt16(RTM_GETNEIGH)
    static let newRule = UInt16(RTM_NEWRULE)
    static let getRule = UInt16(RTM_GETRULE)

    // Header flags.
    static let request = UInt16(NLM_F_REQUEST)
    static let multi = UInt16(NLM_F_MULTI)
    static let ack = UInt16(NLM_F_ACK)
    static let dump = UInt16(NLM_F_DUMP)
    static let dumpInterrupted = UInt16(NLM_F_DUMP_INTR)
    static let replace = UInt16(NLM_F_REPLACE)
    static let excl = UInt16(NLM_F_EXCL)
    static let create = UInt16(NLM_F_CREATE)
    static let capped = UInt16(NLM_F_CAPPED)
    static let ackTLVs = UInt16(NLM_F_ACK_TLVS)

    // Route attributes.
    static let rtaDst = UInt16(RTA_DST.rawValue)
    static let rtaOif = UInt16(RTA_OIF.rawValue)
    static let rtaGateway = UInt16(RTA_GATEWAY.rawValue)
    static let rtaPriority = UInt16(RTA_PRIORITY.rawValue)
    static let rtaPrefsrc = UInt16(RTA_PREFSRC.rawValue)
    static let rtaMetrics = UInt16(RTA_METRICS.rawValue)
    static let rtaTable = UInt16(RTA_TABLE.rawValue)
    static let rtaVia = UInt16(RTA_VIA.rawValue)
    static let rtaxMTU = UInt16(RTAX_MTU)
    static let rtnhOnLink = UInt32(RTNH_F_ONLINK)

    // Link and address attributes.
    static let iflaIfname = UInt16(IFLA_IFNAME)
    static let iflaMTU = UInt16(IFLA_MTU)
    static let iflaOperstate = UInt16(IFLA_OPERSTATE)
    static let ifaAddress = UInt16(IFA_ADDRESS)
    static let ifaLocal = UInt16(IFA_LOCAL)
    static let iffUp: UInt32 = 0x1
    // Neighbour attributes (linux/neighbour.h).
    static let ndaDst = UInt16(NDA_DST)
    static let ndaLladdr = UInt16(NDA_LLADDR)
    static let iffLowerUp: UInt32 = 0x10000

    // Neighbour tables (linux/neighbour.h).
    static let newNeighbourTable = UInt16(RTM_NEWNEIGHTBL)
    static let getNeighbourTable = UInt16(RTM_GETNEIGHTBL)
    static let ndtaName = UInt16(NDTA_NAME)
    static let ndtaThresh1 = UInt16(NDTA_THRESH1)
    static let ndtaThresh2 = UInt16(NDTA_THRESH2)
    static let ndtaThresh3 = UInt16(NDTA_THRESH3)
    static let ndtaConfig = UInt16(NDTA_CONFIG)
    static let ndtaStats = UInt16(NDTA_STATS)

    // Policy routing rules (linux/fib_rules.h).
    static let fraSrc = UInt16(FRA_SRC)
    static let fraIifname = UInt16(FRA_IIFNAME)
    static let fraOifname = UInt16(FRA_OIFNAME)
    static let fraPriority = UInt16(FRA_PRIORITY)
    static let fraFwmark = UInt16(FRA_FWMARK)
    static let fraFwmask = UInt16(FRA_FWMASK)
    static let fraTable = UInt16(FRA_TABLE)
    static let frActToTable = UInt8(FR_ACT_TO_TBL)
    static let frActGoto = UInt8(FR_ACT_GOTO)
    static let frActNop = UInt8(FR_ACT_NOP)
    static let fibRuleInvert = UInt32(FIB_RULE_INVERT)
    static let fibRuleHdrSize = MemoryLayout<fib_rule_hdr>.size  // 12

    // NETCONF (linux/netconf.h: its attribute enum is anonymous, so the values are spelled here).
    static let newNetconf = UInt16(RTM_NEWNETCONF)
    static let getNetconf = UInt16(RTM_GETNETCONF)
    static let netconfaIfindex: UInt16 = 1
    static let netconfaForwarding: UInt16 = 2
    static let netconfaRpFilter: UInt16 = 3
    static let netconfIfindexAll: Int32 = -1
    static let netconfIfindexDefault: Int32 = -2

    // nfnetlink / nf_tables (linux/netfilter/nfnetlink.h, nf_tables.h, netfilter.h; fixed UAPI
    // values, spelled here so the shim need not pull in the netfilter headers).
    static let netlinkNetfilter: Int32 = 12  // NETLINK_NETFILTER
    static let nfnlSubsysNftables: UInt16 = 10  // NFNL_SUBSYS_NFTABLES
    static let nftMsgNewChain: UInt16 = 3  // NFT_MSG_NEWCHAIN
    static let nftMsgGetChain: UInt16 = 4  // NFT_MSG_GETCHAIN
    static let nftaChainTable: UInt16 = 1
    static let nftaChainName: UInt16 = 3
    static let nftaChainHook: UInt16 = 4
    static let nftaChainPolicy: UInt16 = 5
    static let nftaChainType: UInt16 = 7
    static let nftaHookHooknum: UInt16 = 1
    static let nftaHookPriority: UInt16 = 2
    /// An nfnetlink message type: subsystem in the high byte, message in the low byte.
    static func nftables(_ message: UInt16) -> UInt16 { nfnlSubsysNftables << 8 | message }
    /// struct nfgenmsg { u8 family; u8 version; __be16 res_id; }
    static let nfgenmsgSize = 4

    // Extended ack.
    static let errAttrMsg = UInt16(NLMSGERR_ATTR_MSG.rawValue)

    static let afInet = UInt8(AF_INET)
    static let afInet6 = UInt8(AF_INET6)

    // Fixed sizes (all already multiples of the 4-byte netlink alignment).
    static let headerSize = MemoryLayout<nlmsghdr>.size  // 16
    static let rtmsgSize = MemoryLayout<rtmsg>.size  // 12
    static let ifinfomsgSize = MemoryLayout<ifinfomsg>.size  // 16
    static let ifaddrmsgSize = MemoryLayout<ifaddrmsg>.size  // 8
    static let ndmsgSize = MemoryLayout<ndmsg>.size  // 12
    static let attrHeaderSize = MemoryLayout<nlattr>.size  // 4

    /// NLMSG_ALIGN / NLA_ALIGN (both 4 bytes, libmnl's MNL_ALIGNTO).
    @inline(__always) static func align(_ n: Int) -> Int { (n + 3) & ~3 }

    /// Bytes an attribute with `payload` bytes occupies, padding included.
    @inline(__always) static func attrSize(_ payload: Int) -> Int { align(attrHeaderSize + payload) }

    static func family(_ f: IPFamily) -> UInt8 { f == .v4 ? afInet : afInet6 }

    /// The inverse: nil for address families hostgw does not model.
    static func family(_ af: UInt8) -> IPFamily? {
        switch af {
        case afInet: .v4
        case afInet6: .v6
        default: nil
        }
    }
}
