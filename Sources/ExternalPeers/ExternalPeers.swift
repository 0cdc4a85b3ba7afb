// ExternalPeers: the routes a host outside the cluster needs to reach every node's pod subnet.
//
// Owns: turning leases into `ExternalRoute`s (ExternalRoute.swift), rendering them as ip /
// ip-batch / networkd / netplan / ansible / json (ExternalRouteRenderer.swift), the on-link check
// from an external host's point of view (OnLink.swift, ExternalHostAddresses.swift), `--aggregate`
// (Aggregation.swift), and the whole CLI pipeline in one call (ExternalRoutesDocument.swift).
// Never: writes to the store or touches this host's routes; never prints — warnings are values
// the CLI sends to stderr, so stdout stays a clean document.
