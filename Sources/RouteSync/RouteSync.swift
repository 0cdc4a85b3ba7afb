// RouteSync: keeps the kernel's hostgw routes equal to the peers' leases and reports every drift.
//
// Owns: desired routes from leases, the pure (desired, actual) -> plan function, peer validation,
// drift classification, and the reconcile loop.
// Never: modifies or deletes a route that lacks hostgw's protocol marker, touches iptables/nftables,
// or removes routes on shutdown.
