// Netlink: a small typed layer over rtnetlink, built on libmnl.
//
// Owns: address value types, the route/link/address/NETCONF codec, the nftables chain codec
// (nfnetlink, read-only: `NetfilterSocket`), the request/ack and dump machinery,
// batches, and the multicast monitor. Blocking receives run on threads this module owns, never on
// Swift's cooperative pool.
// Never: touches a route that the caller did not name, or exposes a C type in its public API.
//
// Layers, bottom up:
// - codec (pure): RequestEncoder (Route/RouteChange -> request bytes, sizes computed and the
//   final length checked), ReplyDecoder (bytes -> typed messages; bounds-checked, unaligned
//   loads, unknown attributes skipped, anything else `.malformed`), Wire (constants, alignment).
// - collectors (pure): AckCollector (a batch's acks by sequence number), DumpCollector (a dump
//   to NLMSG_DONE, NLM_F_DUMP_INTR noted).
// - socket: SocketIO (namespace entry on a fresh thread, EINTR retry, recvmmsg), NetlinkSocket
//   (synchronous requests, batches, dumps).
// - async: NetlinkClient (one owned thread per client), NetlinkMonitor (multicast events,
//   ENOBUFS as `.overrun`).
// - NetworkNamespace: throwaway namespaces for tests, the lab and benchmarks (`ip netns`).
