// RouteSync: keeps the kernel's hostgw routes equal to the peers' leases and reports every drift.
//
// Owns: desired routes from leases, the pure (desired, actual) -> plan function, peer validation,
// drift classification, the reconcile loop, and the datapath preconditions (forwarding settings
// and forward-path filter policies -> named conditions).
// Never: modifies or deletes a route that lacks hostgw's protocol marker, changes iptables/nftables
// or a sysctl (it only reads them), or removes routes on shutdown.
//
// Map: `DesiredRoutes` (leases -> routes + peer states), `plan(desired:actual:protocol:)` (the
// pure decision), `DriftMemory` (what counts as drift), `PeerJudgement` (one look -> plan, drift
// findings and peer states: the reconciler's passes and offline `hostgw status` both run it),
// `RouteReconciler` (the actor that runs passes and publishes `RouteSyncStatus` and metrics),
// `RouteTableAccess` (the kernel, i.e. NetlinkClient); `DatapathConditions.evaluate` (facts ->
// conditions, pure) and `DatapathWatcher` (follows the facts through `DatapathAccess`).
