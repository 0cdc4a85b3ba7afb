// nftables over nfnetlink, read-only: the chains hostgw checks for a forward-path drop policy.

/// A NETLINK_NETFILTER socket that reads nftables (never writes: hostgw changes no filter rule).
/// Reading needs CAP_NET_ADMIN, as every nfnetlink request does. Like `NetlinkSocket`, one thread
/// at a time, never on the cooperative pool.
public final class NetfilterSocket {
    private let socket: NetlinkSocket

    public init(namespace: String? = nil) throws(NetlinkError) {
        socket = try NetlinkSocket(namespace: namespace, netlinkProtocol: Wire.netlinkNetfilter)
    }

    /// Every chain of every table and family (NFT_MSG_GETCHAIN dump).
    public func chains() throws(NetlinkError) -> [FilterChain] {
        try socket.dump("dump nftables chains", { (seq) throws(NetlinkError) in
            try RequestEncoder.dumpFilterChains(seq: seq)
        }) { (header, payload) throws(NetlinkError) in
            header.type == Wire.nftables(Wire.nftMsgNewChain) ? try ReplyDecoder.filterChain(payload) : nil
        }
    }
}
