// SubnetLease: the network config, node leases, and the stores they live in (etcd, embedded SQLite).
//
// Owns: parsing and validating flannel's net-conf.json, acquiring/renewing/releasing this node's
// lease, and watching every lease as a stream of snapshots.
// Never: touches the kernel, or drops a lease silently.
