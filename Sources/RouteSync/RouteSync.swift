// RouteSync: keeps the kernel's hostgw routes equal to the peers' leases and reports every drift.
//
// Owns: desired routes from leases, the pure (desired, actual) -> plan function, peer validation,
// drift classification, and the reconcile loop.
// Never: modifies or deletes a route that lacks hostgw's protocol marker, touches iptables/nftables,
// or removes routes on shutdown.
//
// Map: `DesiredRoutes` (leases -> routes + peer states), `plan(desired:actual:protocol:)` (the
// pure decision), `DriftMemory` (what counts as drift), `RouteReconciler` (the actor that runs
// passes and publishes `RouteSyncStatus` and metrics), `RouteTableAccess` (the kernel, i.e.
// NetlinkClient).
