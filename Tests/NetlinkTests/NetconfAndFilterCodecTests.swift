// NETCONF (rtnetlink) and nftables chain (nfnetlink) messages as the kernel sends them, and the
// two dump requests hostgw sends: golden bytes, one line per wire field.
import NetAddress
@testable import Netlink
import Testing

@Suite struct NetconfAndFilterCodecTests {
    @Test func netconfDumpRequest() throws {
        #expect(try RequestEncoder.dumpNetconf(family: .v4, seq: 5) == hex("""
            14000000 5200 0103 05000000 00000000  # nlmsghdr: len 20, RTM_GETNETCONF, REQUEST|DUMP, seq 5
            02 000000                             # struct netconfmsg: AF_INET, padded to 4
            """))
        #expect(try RequestEncoder.dumpNetconf(family: .v6, seq: 6).suffix(4) == hex("0a 000000  # AF_INET6"))
    }

    @Test func filterChainDumpRequest() throws {
        #expect(try RequestEncoder.dumpFilterChains(seq: 9) == hex("""
            14000000 040a 0103 09000000 00000000  # nlmsghdr: len 20, NFNL_SUBSYS_NFTABLES<<8 | NFT_MSG_GETCHAIN, REQUEST|DUMP
            00 00 0000                            # struct nfgenmsg: NFPROTO_UNSPEC (all families), NFNETLINK_V0, res_id 0
            """))
    }

    @Test func netconfDumpReply() throws {
        let reply = hex("""
            2c000000 5000 0200 05000000 00000000  # nlmsghdr: len 44, RTM_NEWNETCONF, MULTI, seq 5
            02 000000           # AF_INET
            0800 0100 ffffffff  # NETCONFA_IFINDEX -1 (all)
            0800 0200 01000000  # NETCONFA_FORWARDING 1
            0800 0300 02000000  # NETCONFA_RP_FILTER 2 (loose)
            24000000 5000 0200 05000000 00000000  # nlmsghdr: len 36, RTM_NEWNETCONF, MULTI, seq 5
            02 000000           # AF_INET
            0800 0100 02000000  # NETCONFA_IFINDEX 2
            0800 0200 00000000  # NETCONFA_FORWARDING 0
            1c000000 5000 0200 05000000 00000000  # nlmsghdr: len 28, RTM_NEWNETCONF, MULTI, seq 5
            02 000000           # AF_INET
            0800 0100 feffffff  # NETCONFA_IFINDEX -2 (default), nothing else
            14000000 0300 0200 05000000 00000000  # NLMSG_DONE
            00000000
            """)
        let bodies = try ReplyDecoder.messages(in: reply).map(\.1)
        #expect(bodies == [
            .netconf(NetconfEntry(family: .v4, scope: .all, forwarding: true, rpFilter: 2)),
            .netconf(NetconfEntry(family: .v4, scope: .interface(2), forwarding: false)),
            .netconf(NetconfEntry(family: .v4, scope: .default)),
            .done(Ack(code: 0)),
        ])
    }

    @Test func netconfNotificationCarriesOnlyWhatChanged() throws {
        let note = hex("""
            24000000 5000 0000 00000000 00000000  # nlmsghdr: len 36, RTM_NEWNETCONF, no flags, seq 0 (multicast)
            0a 000000           # AF_INET6
            0800 0100 03000000  # NETCONFA_IFINDEX 3
            0800 0200 00000000  # NETCONFA_FORWARDING 0
            """)
        var events: [NetlinkEvent] = []
        try note.withUnsafeBytes { raw in
            try ReplyDecoder.forEachMessage(in: raw) { (h, p) throws(NetlinkError) in
                if let e = try ReplyDecoder.event(h, p) { events.append(e) }
            }
        }
        #expect(events == [.netconfChanged(NetconfEntry(family: .v6, scope: .interface(3), forwarding: false))])
    }

    @Test func netconfWithoutIfindexIsMalformed() {
        let bad = hex("""
            1c000000 5000 0000 00000000 00000000  # nlmsghdr: len 28, RTM_NEWNETCONF
            02 000000           # AF_INET
            0800 0200 00000000  # NETCONFA_FORWARDING 0, but no NETCONFA_IFINDEX
            """)
        #expect(throws: NetlinkError.self) { try ReplyDecoder.messages(in: bad) }
    }

    /// iptables-nft's `iptables -P FORWARD DROP`: chain FORWARD of table filter, family ip.
    static let chainReply = hex("""
        60000000 030a 0200 09000000 00000000  # nlmsghdr: len 96, NFT_MSG_NEWCHAIN (subsys 10), MULTI, seq 9
        02 00 0005                    # nfgenmsg: NFPROTO_IPV4, NFNETLINK_V0, res_id (generation) 5
        0b00 0100 66696c746572 00 00  # NFTA_CHAIN_TABLE "filter" + NUL + pad
        0c00 0200 0000000000000001    # NFTA_CHAIN_HANDLE 1 (be64, skipped)
        0c00 0300 464f5257415244 00   # NFTA_CHAIN_NAME "FORWARD" + NUL
        1400 0480                     # NFTA_CHAIN_HOOK | NLA_F_NESTED, 20 bytes
        0800 0100 00000002            #   NFTA_HOOK_HOOKNUM 2 (NF_INET_FORWARD, be32)
        0800 0200 ffffff6a            #   NFTA_HOOK_PRIORITY -150 (be32)
        0800 0500 00000000            # NFTA_CHAIN_POLICY 0 (NF_DROP, be32)
        0b00 0700 66696c746572 00 00  # NFTA_CHAIN_TYPE "filter" + NUL + pad
        """)

    @Test func filterChainReply() throws {
        #expect(Self.chainReply.count == 96)
        let messages = try ReplyDecoder.messages(in: Self.chainReply)
        try #require(messages.count == 1 && messages[0].0.type == Wire.nftables(Wire.nftMsgNewChain))
        let first = try Self.chainReply.withUnsafeBytes { raw in
            try ReplyDecoder.filterChain(UnsafeRawBufferPointer(rebasing: raw[16...]))
        }
        #expect(first == FilterChain(family: .ip, table: "filter", name: "FORWARD", hook: 2, priority: -150, policy: .drop, type: "filter"))
    }

    @Test func regularChainHasNoHookOrPolicy() throws {
        let good = hex("""
            0a 00 0005                    # nfgenmsg: NFPROTO_IPV6
            0800 0100 686774 00           # NFTA_CHAIN_TABLE "hgt"
            0800 0300 6a6d70 00           # NFTA_CHAIN_NAME "jmp"
            """)
        let decoded = try good.withUnsafeBytes { raw in
            try ReplyDecoder.filterChain(UnsafeRawBufferPointer(rebasing: raw[0...]))
        }
        #expect(decoded == FilterChain(family: .ip6, table: "hgt", name: "jmp"))
    }

    @Test func chainWithoutNameIsMalformed() {
        let bad = hex("""
            02 00 0005                    # nfgenmsg
            0800 0100 686774 00           # NFTA_CHAIN_TABLE "hgt", no NFTA_CHAIN_NAME
            """)
        #expect(throws: NetlinkError.self) {
            try bad.withUnsafeBytes { raw in try ReplyDecoder.filterChain(UnsafeRawBufferPointer(rebasing: raw[0...])) }
        }
    }
}
