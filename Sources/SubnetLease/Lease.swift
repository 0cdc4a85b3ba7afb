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
    /// What the node reports about its own datapath (link MTU, pod gateway, conditions): written on
    /// change only, read leniently (a malformed report never costs a peer its route).
    public var published: NodeReport

    public init(
        publicIP: IPv4Address?, publicIPv6: IPv6Address? = nil, backendType: String = "host-gw",
        nodeName: String? = nil, agentVersion: String? = nil, holder: LeaseHolder? = nil, published: NodeReport = NodeReport()
    ) {
        self.publicIP = publicIP
        self.publicIPv6 = publicIPv6
        self.backendType = backendType
        self.nodeName = nodeName
        self.agentVersion = agentVersion
        self.holder = holder
        self.published = published
    }

    /// The attributes that say whose lease this is and where it routes: what the own-key rules
    /// compare (a report that lags behind is not someone else's value).
    public var identity: LeaseAttributes {
        var a = self
        a.published = NodeReport()
        return a
    }

    enum CodingKeys: String, CodingKey {
        case publicIP = "PublicIP"
        case publicIPv6 = "PublicIPv6"
        case backendType = "BackendType"
        case nodeName = "NodeName"
        case agentVersion = "AgentVersion"
        case holder = "Holder"
        case mtu = "MTU"
        case podGateway = "PodGateway"
        case podGatewayV6 = "PodGatewayV6"
        case conditions = "Conditions"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        publicIP = try c.decodeIfPresent(IPv4Address.self, forKey: .publicIP)
        publicIPv6 = try c.decodeIfPresent(IPv6Address.self, forKey: .publicIPv6)
        backendType = try c.decode(String.self, forKey: .backendType)
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        agentVersion = try c.decodeIfPresent(String.self, forKey: .agentVersion)
        holder = try c.decodeIfPresent(LeaseHolder.self, forKey: .holder)
        // The report is advisory: a field that does not parse is dropped, the lease still routes.
        var report = NodeReport()
        report.mtu = (try? c.decodeIfPresent(UInt32.self, forKey: .mtu)).flatMap { $0 }.flatMap { NodeReport.plausibleMTU.contains($0) ? $0 : nil }
        report.podGateway = (try? c.decodeIfPresent(IPv4Address.self, forKey: .podGateway)).flatMap { $0 }
        report.podGatewayV6 = (try? c.decodeIfPresent(IPv6Address.self, forKey: .podGatewayV6)).flatMap { $0 }
        let conditions = ((try? c.decodeIfPresent([PublishedCondition].self, forKey: .conditions)).flatMap { $0 }) ?? []
        report.conditions = Array(conditions.filter { (1...NodeReport.maxNameLength).contains($0.name.utf8.count) }.prefix(NodeReport.maxConditions))
        published = report
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(publicIP, forKey: .publicIP)
        try c.encodeIfPresent(publicIPv6, forKey: .publicIPv6)
        try c.encode(backendType, forKey: .backendType)
        try c.encodeIfPresent(nodeName, forKey: .nodeName)
        try c.encodeIfPresent(agentVersion, forKey: .agentVersion)
        try c.encodeIfPresent(holder, forKey: .holder)
        try c.encodeIfPresent(published.mtu, forKey: .mtu)
        try c.encodeIfPresent(published.podGateway, forKey: .podGateway)
        try c.encodeIfPresent(published.podGatewayV6, forKey: .podGatewayV6)
        if !published.conditions.isEmpty { try c.encode(published.conditions, forKey: .conditions) }
    }
}

/// What a node publishes about itself with its lease, for its peers and for `status --cluster`.
/// Extra JSON fields that flanneld ignores; absent when unknown.
public struct NodeReport: Sendable, Hashable, Codable {
    /// Link MTUs taken as real; anything else in a lease is ignored.
    public static let plausibleMTU: ClosedRange<UInt32> = 68...65535
    /// What is kept of a published condition list (a hostile lease cannot make it grow).
    public static let maxConditions = 32
    public static let maxNameLength = 64

    /// The MTU of the node interface (toward the other nodes).
    public var mtu: UInt32?
    /// The node's address in its own IPv4 pod subnet (the CNI bridge's), once it exists.
    public var podGateway: IPv4Address?
    /// The same in the IPv6 pod subnet.
    public var podGatewayV6: IPv6Address?
    /// The node's own datapath conditions (forwarding off, forward policy drop, ...).
    public var conditions: [PublishedCondition]

    public init(mtu: UInt32? = nil, podGateway: IPv4Address? = nil, podGatewayV6: IPv6Address? = nil, conditions: [PublishedCondition] = []) {
        self.mtu = mtu
        self.podGateway = podGateway
        self.podGatewayV6 = podGatewayV6
        self.conditions = conditions
    }

    public func podGateway(for family: IPFamily) -> IPAddress? {
        family == .v4 ? podGateway.map(IPAddress.v4) : podGatewayV6.map(IPAddress.v6)
    }
}

/// One condition as a node publishes it. The name stays a string on the wire: a newer agent may
/// publish a condition this one does not know, and it is shown as it came.
public struct PublishedCondition: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable {
        case warning, critical
    }

    public var name: String
    public var severity: Severity

    public init(name: String, severity: Severity) {
        self.name = name
        self.severity = severity
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case severity = "Severity"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        // An unknown severity from a newer agent is shown, not dropped.
        severity = Severity(rawValue: (try? c.decode(String.self, forKey: .severity)) ?? "") ?? .warning
    }

    /// `ipv4-forwarding-off (critical)`.
    public var description: String { "\(name) (\(severity.rawValue))" }
}

/// One node's lease as read from the store.
///
/// A value type whose fields live in one shared, immutable box: a lease is held by many arrays and
/// dictionaries at once (the watcher's snapshot and decode cache, the reconciler, the desired
/// routes, the peer directory), and at 5,000 peers copying its 200-odd bytes inline into each,
/// and into every array a lease event copies, was a large part of the agent's CPU per update and
/// of its memory (issue 15). Copies share the box; a change gives the changed copy a new one.
public struct Lease: Sendable, Hashable {
    /// The IPv4 pod subnet, when the network has IPv4.
    public var subnet: IPPrefix? {
        get { storage.fields.subnet }
        set { change { $0.subnet = newValue } }
    }
    /// The IPv6 pod subnet, when the network has IPv6.
    public var ipv6Subnet: IPPrefix? {
        get { storage.fields.ipv6Subnet }
        set { change { $0.ipv6Subnet = newValue } }
    }
    public var attributes: LeaseAttributes {
        get { storage.fields.attributes }
        set { change { $0.attributes = newValue } }
    }
    /// When the lease expires; nil for a reservation (a key with no TTL).
    public var expiration: Date? {
        get { storage.fields.expiration }
        set { change { $0.expiration = newValue } }
    }
    /// The store's create revision of the key (its age, for `SubnetClaims`); nil when the lease
    /// was not read from a store.
    public var createRevision: Int64? {
        get { storage.fields.createRevision }
        set { change { $0.createRevision = newValue } }
    }

    private struct Fields: Sendable, Hashable {
        var subnet: IPPrefix?
        var ipv6Subnet: IPPrefix?
        var attributes: LeaseAttributes
        var expiration: Date?
        var createRevision: Int64?
    }

    /// Immutable, so shared freely: a change to a lease makes it a new box (leases change
    /// rarely once read; they are copied all the time).
    private final class Storage: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    public init(subnet: IPPrefix?, ipv6Subnet: IPPrefix? = nil, attributes: LeaseAttributes, expiration: Date?, createRevision: Int64? = nil) {
        storage = Storage(
            Fields(subnet: subnet, ipv6Subnet: ipv6Subnet, attributes: attributes, expiration: expiration, createRevision: createRevision))
    }

    private mutating func change(_ body: (inout Fields) -> Void) {
        var fields = storage.fields
        body(&fields)
        storage = Storage(fields)
    }

    public static func == (a: Lease, b: Lease) -> Bool { a.storage === b.storage || a.storage.fields == b.storage.fields }

    public func hash(into hasher: inout Hasher) { hasher.combine(storage.fields) }

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

extension Lease: CustomDebugStringConvertible {
    /// The fields, as the memberwise struct printed them (the box is not news to anyone).
    public var debugDescription: String {
        "Lease(subnet: \(subnet.map { "\($0)" } ?? "nil"), ipv6Subnet: \(ipv6Subnet.map { "\($0)" } ?? "nil"), attributes: \(attributes), "
            + "expiration: \(expiration.map { "\($0)" } ?? "nil"), createRevision: \(createRevision.map { "\($0)" } ?? "nil"))"
    }
}
