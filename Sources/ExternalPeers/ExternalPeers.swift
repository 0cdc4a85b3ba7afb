// ExternalPeers: the routes a host outside the cluster needs to reach every node's pod subnet.
//
// Owns: rendering the leases as ip / ip-batch / networkd / netplan / ansible / json, and the
// on-link check from an external host's point of view.
// Never: writes to the store.
