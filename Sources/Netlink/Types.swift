// The typed vocabulary of rtnetlink that hostgw uses: routes, links, addresses, events, errors.
// Pure values; the codec turns them into bytes and back.
public import NetAddress

/// rtm_protocol: who installed a route. hostgw's routes carry `.hostgw` (77 unless configured).
public struct RouteProtocol: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static let unspec = RouteProtocol(0)
    public static let redirect = RouteProtocol(1)
    public static let kernel = RouteProtocol(2)
    public static let boot = RouteProtocol(3)
    public static let `static` = RouteProtocol(4)
    /// hostgw's default marker; named in packaging/rt_protos.d/hostgw.conf.
    public static let hostgw = RouteProtocol(77)

    public var description: String {
        switch rawValue {
        case 0: "unspec"
        case 1: "redirect"
        case 2: "kernel"
        case 3: "boot"
        case 4: "static"
        default: String(rawValue)
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// rtm_scope.
public struct RouteScope: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let universe = RouteScope(rawValue: 0)
    public static let site = RouteScope(rawValue: 200)
    public static let link = RouteScope(rawValue: 253)
    public static let host = RouteScope(rawValue: 254)
    public static let nowhere = RouteScope(rawValue: 255)

    public var description: String {
        switch rawValue {
        case 0: "global"
        case 200: "site"
        case 253: "link"
        case 254: "host"
        case 255: "nowhere"
        default: String(rawValue)
        }
    }
}

/// rtm_type.
public struct RouteType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unicast = RouteType(rawValue: 1)
    public static let local = RouteType(rawValue: 2)
    public static let broadcast = RouteType(rawValue: 3)
    public static let anycast = RouteType(rawValue: 4)
    public static let multicast = RouteType(rawValue: 5)
    public static let blackhole = RouteType(rawValue: 6)
    public static let unreachable = RouteType(rawValue: 7)
    public static let prohibit = RouteType(rawValue: 8)

    public var description: String {
        switch rawValue {
        case 1: "unicast"
        case 2: "local"
        case 3: "broadcast"
        case 4: "anycast"
        case 5: "multicast"
        case 6: "blackhole"
        case 7: "unreachable"
        case 8: "prohibit"
        default: String(rawValue)
        }
    }
}

/// Routing table ids (RT_TABLE_*).
public enum RouteTableID {
    public static let main: UInt32 = 254
    public static let local: UInt32 = 255
    public static let `default`: UInt32 = 253
}

/// One route as the kernel sees it. `destination`'s family is the route's family.
public struct Route: Sendable, Hashable, CustomStringConvertible {
    public var destination: IPPrefix
    public var gateway: IPAddress?
    /// Output interface index (RTA_OIF).
    public var outputInterface: UInt32?
    public var table: UInt32
    public var `protocol`: RouteProtocol
    public var scope: RouteScope
    public var type: RouteType
    /// RTNH_F_ONLINK: gateway taken as on-link without a connected prefix. hostgw never sets it.
    public var onLink: Bool
    /// RTA_PRIORITY (the metric).
    public var priority: UInt32?
    /// RTAX_MTU inside RTA_METRICS.
    public var mtu: UInt32?
    /// RTA_PREFSRC.
    public var preferredSource: IPAddress?

    public init(
        destination: IPPrefix, gateway: IPAddress? = nil, outputInterface: UInt32? = nil,
        table: UInt32 = RouteTableID.main, protocol: RouteProtocol = .hostgw,
        scope: RouteScope = .universe, type: RouteType = .unicast, onLink: Bool = false,
        priority: UInt32? = nil, mtu: UInt32? = nil, preferredSource: IPAddress? = nil
    ) {
        self.destination = destination
        self.gateway = gateway
        self.outputInterface = outputInterface
        self.table = table
        self.protocol = `protocol`
        self.scope = scope
        self.type = type
        self.onLink = onLink
        self.priority = priority
        self.mtu = mtu
        self.preferredSource = preferredSource
    }

    public var family: IPFamily { destination.family }

    /// iproute2-like text, for logs and errors: `10.244.3.0/24 via 10.0.0.3 dev#2 proto 77`.
    public var description: String {
        var s = type == .unicast ? destination.description : "\(type) \(destination)"
        if let gateway { s += " via \(gateway)" }
        if let outputInterface { s += " dev#\(outputInterface)" }
        if table != RouteTableID.main { s += " table \(table)" }
        s += " proto \(`protocol`)"
        if scope != .universe { s += " scope \(scope)" }
        if let priority { s += " metric \(priority)" }
        if let mtu { s += " mtu \(mtu)" }
        if onLink { s += " onlink" }
        return s
    }
}

/// One change to apply to the kernel's routes.
public struct RouteChange: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// NLM_F_CREATE | NLM_F_EXCL: fails with EEXIST when the route exists.
        case add
        /// NLM_F_CREATE | NLM_F_REPLACE: selects by table, destination, tos, metric — not protocol.
        case replace
        /// RTM_DELROUTE naming rtm_protocol: removes only a route with that protocol.
        case delete
    }

    public var kind: Kind
    public var route: Route

    public init(_ kind: Kind, _ route: Route) {
        self.kind = kind
        self.route = route
    }

    public var description: String { "\(kind) \(route)" }
}

/// Operational state (IFLA_OPERSTATE, RFC 2863).
public enum OperState: UInt8, Sendable, Hashable, CustomStringConvertible {
    case unknown = 0, notPresent = 1, down = 2, lowerLayerDown = 3, testing = 4, dormant = 5, up = 6

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .notPresent: "notpresent"
        case .down: "down"
        case .lowerLayerDown: "lowerlayerdown"
        case .testing: "testing"
        case .dormant: "dormant"
        case .up: "up"
        }
    }
}

/// A network interface.
public struct Link: Sendable, Hashable, CustomStringConvertible {
    public var index: UInt32
    public var name: String
    public var mtu: UInt32
    /// IFF_UP: administratively up.
    public var isUp: Bool
    /// IFF_LOWER_UP: carrier present.
    public var hasCarrier: Bool
    public var operState: OperState

    public init(index: UInt32, name: String, mtu: UInt32, isUp: Bool, hasCarrier: Bool, operState: OperState) {
        self.index = index
        self.name = name
        self.mtu = mtu
        self.isUp = isUp
        self.hasCarrier = hasCarrier
        self.operState = operState
    }

    /// Usable for forwarding: up with carrier (operstate `unknown` counts, as for many virtual links).
    public var isUsable: Bool { isUp && hasCarrier && (operState == .up || operState == .unknown) }

    public var description: String { "\(name)#\(index) mtu \(mtu) \(operState)" }
}

/// An address on a link: `10.0.0.1/24` has `address` 10.0.0.1 and `network` 10.0.0.0/24.
public struct InterfaceAddress: Sendable, Hashable, CustomStringConvertible {
    public var interfaceIndex: UInt32
    public var address: IPAddress
    public var prefixLength: Int
    public var scope: RouteScope

    public init(interfaceIndex: UInt32, address: IPAddress, prefixLength: Int, scope: RouteScope = .universe) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.prefixLength = prefixLength
        self.scope = scope
    }

    /// The connected prefix this address puts on its link.
    public var network: IPPrefix? { IPPrefix(address: address, length: prefixLength) }

    public var description: String { "\(address)/\(prefixLength) dev#\(interfaceIndex)" }
}

/// What the multicast monitor reports.
public enum NetlinkEvent: Sendable, Hashable {
    case routeAdded(Route)
    case routeRemoved(Route)
    case linkChanged(Link)
    case linkRemoved(Link)
    case addressAdded(InterfaceAddress)
    case addressRemoved(InterfaceAddress)
    /// A NETCONF notification (only from a monitor that joined `.netconf`).
    case netconfChanged(NetconfEntry)
    /// A neighbour entry appeared or changed (only from a monitor that joined `.neighbours`).
    case neighbourChanged(Neighbour)
    /// A neighbour entry was removed (garbage-collected, flushed, its link gone).
    case neighbourRemoved(Neighbour)
    /// The receive buffer overflowed (ENOBUFS): events were lost. Re-dump and re-diff.
    case overrun
}

/// One per-family device configuration as NETCONF reports it (RTM_NEWNETCONF): the
/// `net.ipv4.conf.<scope>.*` / `net.ipv6.conf.<scope>.*` values hostgw reads. A notification
/// carries only the attribute that changed, so absent values are nil, never a default.
public struct NetconfEntry: Sendable, Hashable, CustomStringConvertible {
    public enum Scope: Sendable, Hashable, CustomStringConvertible {
        /// `conf/all` (for IPv4 this is also `net.ipv4.ip_forward`).
        case all
        /// `conf/default`: what new interfaces start with.
        case `default`
        /// One interface, by index.
        case interface(UInt32)

        public var description: String {
            switch self {
            case .all: "all"
            case .default: "default"
            case .interface(let index): "#\(index)"
            }
        }
    }

    public var family: IPFamily
    public var scope: Scope
    /// NETCONFA_FORWARDING.
    public var forwarding: Bool?
    /// NETCONFA_RP_FILTER (IPv4 only): 0 off, 1 strict, 2 loose.
    public var rpFilter: UInt32?

    public init(family: IPFamily, scope: Scope, forwarding: Bool? = nil, rpFilter: UInt32? = nil) {
        self.family = family
        self.scope = scope
        self.forwarding = forwarding
        self.rpFilter = rpFilter
    }

    public var description: String {
        var s = "\(family.rawValue) conf \(scope)"
        if let forwarding { s += " forwarding \(forwarding ? 1 : 0)" }
        if let rpFilter { s += " rp_filter \(rpFilter)" }
        return s
    }
}

/// An nftables address family (NFPROTO_*), named as `nft` names it.
public enum FilterFamily: Sendable, Hashable, CustomStringConvertible {
    case inet, ip, arp, netdev, bridge, ip6
    case other(UInt8)

    init(_ raw: UInt8) {
        switch raw {
        case 1: self = .inet
        case 2: self = .ip
        case 3: self = .arp
        case 5: self = .netdev
        case 7: self = .bridge
        case 10: self = .ip6
        default: self = .other(raw)
        }
    }

    public var description: String {
        switch self {
        case .inet: "inet"
        case .ip: "ip"
        case .arp: "arp"
        case .netdev: "netdev"
        case .bridge: "bridge"
        case .ip6: "ip6"
        case .other(let raw): "family\(raw)"
        }
    }
}

/// A base chain's policy (NF_DROP 0, NF_ACCEPT 1).
public enum FilterVerdict: Sendable, Hashable, CustomStringConvertible {
    case drop, accept
    case other(UInt32)

    init(_ raw: UInt32) {
        switch raw {
        case 0: self = .drop
        case 1: self = .accept
        default: self = .other(raw)
        }
    }

    public var description: String {
        switch self {
        case .drop: "drop"
        case .accept: "accept"
        case .other(let raw): "verdict \(raw)"
        }
    }
}

/// One nftables chain (NFT_MSG_NEWCHAIN). A base chain has a hook and a policy; a regular chain
/// (a jump target) has neither. iptables-nft's chains are nftables chains too (`ip filter FORWARD`).
public struct FilterChain: Sendable, Hashable, CustomStringConvertible {
    /// NF_INET_FORWARD: the hook routed (forwarded) packets pass, for families ip, ip6 and inet.
    public static let forwardHook: UInt32 = 2

    public var family: FilterFamily
    public var table: String
    public var name: String
    /// NFTA_HOOK_HOOKNUM; nil for a regular chain.
    public var hook: UInt32?
    public var priority: Int32?
    /// NFTA_CHAIN_POLICY; nil for a regular chain.
    public var policy: FilterVerdict?
    /// NFTA_CHAIN_TYPE (`filter`, `nat`, `route`).
    public var type: String?

    public init(
        family: FilterFamily, table: String, name: String, hook: UInt32? = nil, priority: Int32? = nil,
        policy: FilterVerdict? = nil, type: String? = nil
    ) {
        self.family = family
        self.table = table
        self.name = name
        self.hook = hook
        self.priority = priority
        self.policy = policy
        self.type = type
    }

    public var description: String {
        var s = "\(family) \(table)/\(name)"
        if let hook { s += " hook \(hook)" }
        if let priority { s += " priority \(priority)" }
        if let policy { s += " policy \(policy)" }
        return s
    }
}

/// A neighbour entry's NUD state (linux/neighbour.h `NUD_*`): a bit set, though the kernel holds
/// one state at a time.
public struct NeighbourState: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let incomplete = NeighbourState(rawValue: 0x01)
    public static let reachable = NeighbourState(rawValue: 0x02)
    public static let stale = NeighbourState(rawValue: 0x04)
    public static let delay = NeighbourState(rawValue: 0x08)
    public static let probe = NeighbourState(rawValue: 0x10)
    public static let failed = NeighbourState(rawValue: 0x20)
    public static let noARP = NeighbourState(rawValue: 0x40)
    public static let permanent = NeighbourState(rawValue: 0x80)

    /// Resolution failed or has not succeeded: frames to this address go nowhere.
    public var isUnresolved: Bool { !isDisjoint(with: [.incomplete, .failed]) }

    /// `ip neigh`'s words: REACHABLE, STALE, FAILED, ... (NONE for 0).
    public var description: String {
        let names: [(NeighbourState, String)] = [
            (.incomplete, "INCOMPLETE"), (.reachable, "REACHABLE"), (.stale, "STALE"), (.delay, "DELAY"),
            (.probe, "PROBE"), (.failed, "FAILED"), (.noARP, "NOARP"), (.permanent, "PERMANENT"),
        ]
        let set = names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "NONE" : set.joined(separator: ",")
    }
}

/// A neighbour table (`ip ntable`): the kernel keeps one per family for the whole host, shared by
/// every network namespace. Past `gcThresh3` entries (`net.ipv4.neigh.default.gc_thresh3`) no new
/// entry can be made, and packets toward an address without one are dropped (`tableFulls` counts
/// those refusals); past `gcThresh2` the kernel garbage-collects entries not confirmed in 5 s.
public struct NeighbourTable: Sendable, Hashable, Codable {
    public var family: IPFamily
    /// `arp_cache`, `ndisc_cache`.
    public var name: String
    public var gcThresh1: UInt32
    public var gcThresh2: UInt32
    public var gcThresh3: UInt32
    /// Entries now (every namespace's); nil when the kernel sent no NDTA_CONFIG.
    public var entries: UInt32?
    /// Entries the kernel could not make because the table was full, since boot.
    public var tableFulls: UInt64?
    /// Forced garbage collections (past gc_thresh2, or a full table), since boot.
    public var forcedGCRuns: UInt64?

    public init(
        family: IPFamily, name: String, gcThresh1: UInt32, gcThresh2: UInt32, gcThresh3: UInt32, entries: UInt32? = nil,
        tableFulls: UInt64? = nil, forcedGCRuns: UInt64? = nil
    ) {
        self.family = family
        self.name = name
        self.gcThresh1 = gcThresh1
        self.gcThresh2 = gcThresh2
        self.gcThresh3 = gcThresh3
        self.entries = entries
        self.tableFulls = tableFulls
        self.forcedGCRuns = forcedGCRuns
    }
}

/// One neighbour (ARP / NDP) entry: which link-layer address an IP on a link resolves to.
public struct Neighbour: Sendable, Hashable, CustomStringConvertible {
    public var interfaceIndex: UInt32
    public var address: IPAddress
    /// NDA_LLADDR; nil while unresolved (INCOMPLETE, FAILED).
    public var linkAddress: [UInt8]?
    public var state: NeighbourState

    public init(interfaceIndex: UInt32, address: IPAddress, linkAddress: [UInt8]?, state: NeighbourState) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.linkAddress = linkAddress
        self.state = state
    }

    /// `aa:bb:cc:dd:ee:ff`, or nil.
    public var linkAddressText: String? {
        linkAddress.map { bytes in
            bytes.map { b in
                let hex = String(b, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined(separator: ":")
        }
    }

    public var description: String {
        "\(address) dev#\(interfaceIndex)\(linkAddressText.map { " lladdr \($0)" } ?? "") \(state)"
    }
}

/// One policy routing rule (`ip rule`): which packets (by source, firewall mark, interface) look
/// up which table, in `priority` order.
public struct RoutingRule: Sendable, Hashable, CustomStringConvertible {
    public enum Action: Sendable, Hashable {
        /// FR_ACT_TO_TBL: look up `table`.
        case lookup
        /// FR_ACT_GOTO: jump to another rule.
        case goto
        /// FR_ACT_NOP: nothing; the walk goes on.
        case nop
        /// blackhole, unreachable, prohibit (the FR_ACT_* value): the packet goes nowhere.
        case other(UInt8)
    }

    public var family: IPFamily
    public var priority: UInt32
    public var table: UInt32
    public var action: Action
    /// `not`: the rule matches what its selectors do not.
    public var inverted: Bool
    /// `from PREFIX`; nil for any source.
    public var source: IPPrefix?
    /// `fwmark MARK/MASK`; nil for any mark (the kernel's mask defaults to all ones).
    public var fwmark: UInt32?
    public var fwmask: UInt32?
    /// `iif NAME`, `oif NAME`; nil for any.
    public var inputInterface: String?
    public var outputInterface: String?

    public init(
        family: IPFamily, priority: UInt32, table: UInt32, action: Action = .lookup, inverted: Bool = false,
        source: IPPrefix? = nil, fwmark: UInt32? = nil, fwmask: UInt32? = nil,
        inputInterface: String? = nil, outputInterface: String? = nil
    ) {
        self.family = family
        self.priority = priority
        self.table = table
        self.action = action
        self.inverted = inverted
        self.source = source
        self.fwmark = fwmark
        self.fwmask = fwmask
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
    }

    /// `ip rule`'s words: `100: not from 10.0.0.0/8 fwmark 0x64 iif cni0 lookup 100`.
    public var description: String {
        var words = ["\(priority):"]
        if inverted { words.append("not") }
        words.append("from \(source?.description ?? "all")")
        if let fwmark {
            let mask = fwmask.flatMap { $0 == .max ? nil : $0 }
            words.append("fwmark 0x" + String(fwmark, radix: 16) + (mask.map { "/0x" + String($0, radix: 16) } ?? ""))
        }
        if let inputInterface { words.append("iif \(inputInterface)") }
        if let outputInterface { words.append("oif \(outputInterface)") }
        switch action {
        case .lookup: words.append("lookup \(table)")
        case .goto: words.append("goto")
        case .nop: words.append("nop")
        case .other(let code): words.append("action \(code)")
        }
        return words.joined(separator: " ")
    }
}
