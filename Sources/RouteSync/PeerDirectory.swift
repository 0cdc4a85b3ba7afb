// One pass over a lease snapshot for what the datapath side follows per peer: the gateways whose
// neighbour entries are watched, the link MTUs peers publish, and the addresses probed (the node
// IP, and the pod gateway through the pod route when the peer publishes one). This node's own
// lease is not a peer.
public import NetAddress
public import SubnetLease
public import Netlink

public struct PeerDirectory: Sendable, Hashable {
    /// Gateway address -> peer name (`node-b (10.0.0.3)`).
    public var gateways: [IPAddress: String] = [:]
    /// Peer name -> the link MTU it publishes (peers that publish none are absent).
    public var mtus: [String: UInt32] = [:]
    /// What is measured per peer route: its node IP, and its pod gateway through the pod route
    /// when it publishes one (inside its own subnet).
    public var targets: [ProbeTarget] = []

    /// - Parameter localPodGateways: this node's own pod gateway per family: pod-path probes leave
    ///   from it, so the reply travels the peer's route back to this node's subnet.
    public init(leases: [Lease], localSubnets: [IPPrefix], families: [IPFamily], localPodGateways: [IPFamily: IPAddress] = [:]) {
        let local = Set(localSubnets)
        for lease in leases {
            let subnets = families.compactMap(lease.subnet(for:))
            guard !subnets.isEmpty, !subnets.allSatisfy(local.contains) else { continue }
            let name = lease.attributes.nodeName ?? lease.gateway(for: families.first ?? .v4)?.description ?? lease.key
            if let mtu = lease.attributes.published.mtu { mtus[name] = mtu }
            for family in families where lease.subnet(for: family) != nil {
                guard let gateway = lease.gateway(for: family) else { continue }
                gateways[gateway] = name
                targets.append(ProbeTarget(peer: lease.key, path: .node, address: gateway))
                if let pod = lease.attributes.published.podGateway(for: family), let subnet = lease.subnet(for: family), subnet.contains(pod) {
                    targets.append(ProbeTarget(peer: lease.key, path: .pod, address: pod, source: localPodGateways[family]))
                }
            }
        }
    }
}

extension PeerDirectory {
    /// This node's own addresses inside its pod subnets (the CNI bridge's gateway), per family:
    /// what peers probe through the pod route. The lowest one when there are several.
    public static func localPodGateways(localSubnets: [IPPrefix], addresses: [InterfaceAddress]) -> [IPFamily: IPAddress] {
        var out: [IPFamily: IPAddress] = [:]
        for subnet in localSubnets {
            let inside = addresses.map(\.address).filter { subnet.contains($0) && $0 != subnet.address }
            if let first = inside.min() { out[subnet.family] = first }
        }
        return out
    }

    /// The links `routes` of `family` leave by (index -> name).
    public static func interfaces(of routes: some Sequence<Route>, family: IPFamily, links: [Link]) -> [UInt32: String] {
        var out: [UInt32: String] = [:]
        for route in routes where route.family == family {
            guard let index = route.outputInterface, out[index] == nil else { continue }
            out[index] = links.first { $0.index == index }?.name ?? "dev#\(index)"
        }
        return out
    }
}
