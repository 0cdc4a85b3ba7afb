// Netlink: a small typed layer over rtnetlink, built on libmnl.
//
// Owns: address value types, the route/link/address codec, the request/ack and dump machinery,
// batches, and the multicast monitor. Blocking receives run on threads this module owns, never on
// Swift's cooperative pool.
// Never: touches a route that the caller did not name, or exposes a C type in its public API.
