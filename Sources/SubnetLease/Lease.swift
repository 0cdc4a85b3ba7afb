// The lease model shared by every module above SubnetLease: one node's pod subnet(s) and the
// address other nodes route them through. The JSON value is flannel's LeaseAttrs plus optional
// hostgw fields that flannel ignores, so a cluster can move from flanneld node by node.
public import Foundation
public import NetAddress

/// The value stored under `<prefix>/subnets/<key>` (flannel's `LeaseAttrs`).
public struct LeaseAttributes: Sendable, Hashable, Codable {
    public var publicIP: IPv4Address?
    public var publicIPv6: IPv6Address?
    public var backendType: String
    /// Set by hostgw; absent in leases written by flanneld.
    public var nodeName: String?
    /// Set by hostgw; absent in leases written by flanneld.
    public var agentVersion: String?
    /// The machine holding the lease; set by hostgw since leases record it, absent in older ones
    /// and in flanneld's.
    public var holder: LeaseHolder?

    public init(
        publicIP: IPv4Address?, publicIPv6: IPv6Address? = nil, backendType: String = "host-gw",
        nodeName: String? = nil, agentVersion: String? = nil, holder: LeaseHolder? = nil
    ) {
        self.publicIP = publicIP
        self.publicIPv6 = publicIPv6
        self.backendType = backendType
        self.nodeName = nodeName
        self.agentVersion = agentVersion
        self.holder = holder
    }

    enum CodingKeys: String, CodingKey {
        case publicIP = "PublicIP"
        case publicIPv6 = "PublicIPv6"
        case backendType = "BackendType"
        case nodeName = "NodeName"
        case agentVersion = "AgentVersion"
        case holder = "Holder"
    }
}

/// One node's lease as read from the store.
public struct Lease: Sendable, Hashable {
    /// The IPv4 pod subnet, when the network has IPv4.
    public var subnet: IPPrefix?
    /// The IPv6 pod subnet, when the network has IPv6.
    public var ipv6Subnet: IPPrefix?
    public var attributes: LeaseAttributes
    /// When the lease expires; nil for a reservation (a key with no TTL).
    public var expiration: Date?
    /// The store's create revision of the key (its age, for `SubnetClaims`); nil when the lease
    /// was not read from a store.
    public var createRevision: Int64?

    public init(subnet: IPPrefix?, ipv6Subnet: IPPrefix? = nil, attributes: LeaseAttributes, expiration: Date?, createRevision: Int64? = nil) {
        self.subnet = subnet
        self.ipv6Subnet = ipv6Subnet
        self.attributes = attributes
        self.expiration = expiration
        self.createRevision = createRevision
    }

    public var isReservation: Bool { expiration == nil }

    /// The store key suffix, flannel's form: `10.244.3.0-24` or `10.244.3.0-24&fd00:1::-64`.
    public var key: String { Lease.key(subnet: subnet, ipv6Subnet: ipv6Subnet) }

    public static func key(subnet: IPPrefix?, ipv6Subnet: IPPrefix?) -> String {
        let v4 = subnet.map { "\($0.address)-\($0.length)" }
        let v6 = ipv6Subnet.map { "\($0.address)-\($0.length)" }
        return [v4, v6].compactMap { $0 }.joined(separator: "&")
    }

    /// Parses a key suffix written by `key(subnet:ipv6Subnet:)` (or by flanneld). Nil when malformed.
    public static func parseKey(_ key: String) -> (subnet: IPPrefix?, ipv6Subnet: IPPrefix?)? {
        var v4: IPPrefix?
        var v6: IPPrefix?
        let parts = key.split(separator: "&", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        for part in parts {
            guard let dash = part.lastIndex(of: "-") else { return nil }
            let text = part[..<dash] + "/" + part[part.index(after: dash)...]
            guard let prefix = IPPrefix(String(text)) else { return nil }
            switch prefix.family {
            case .v4: guard v4 == nil else { return nil }; v4 = prefix
            case .v6: guard v6 == nil else { return nil }; v6 = prefix
            }
        }
        return (v4, v6)
    }

    /// The address other nodes use as the gateway toward this lease's subnet of `family`.
    public func gateway(for family: IPFamily) -> IPAddress? {
        switch family {
        case .v4: attributes.publicIP.map(IPAddress.v4)
        case .v6: attributes.publicIPv6.map(IPAddress.v6)
        }
    }

    /// This lease's subnet of `family`.
    public func subnet(for family: IPFamily) -> IPPrefix? {
        family == .v4 ? subnet : ipv6Subnet
    }
}
