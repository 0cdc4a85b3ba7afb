// Datapath preconditions: raw facts about this node (forwarding and rp_filter settings from
// NETCONF, nftables base chains from nfnetlink, whether iptables-legacy tables exist, br_netfilter's
// switches, where hostgw's own routes live, the host's neighbour tables against the peer gateways)
// -> named conditions with a severity. Pure: the watcher gathers the facts, the agent presents the findings. hostgw never
// changes a sysctl or a filter rule; each finding names the command an operator runs instead.
public import NetAddress
public import Netlink

/// Something on this node that stops (or may stop) pod traffic while every route is right.
public enum DatapathCondition: String, CaseIterable, Codable, Sendable, Hashable {
    /// net.ipv4.ip_forward (conf/all/forwarding) is 0.
    case ipv4ForwardingOff = "ipv4-forwarding-off"
    /// net.ipv4.conf.<node interface>.forwarding is 0 (IPv4 forwards per input interface).
    case ipv4InterfaceForwardingOff = "ipv4-interface-forwarding-off"
    /// net.ipv6.conf.all.forwarding is 0 (the network has IPv6).
    case ipv6ForwardingOff = "ipv6-forwarding-off"
    /// net.ipv6.conf.<node interface>.forwarding is 0 while all is 1.
    case ipv6InterfaceForwardingOff = "ipv6-interface-forwarding-off"
    /// The forwarding settings could not be read (or the interface has none): unknown, not "on".
    case forwardingUnknown = "forwarding-unknown"
    /// An nftables base chain on the forward hook (ip/ip6/inet) has policy drop.
    case forwardPolicyDrop = "forward-policy-drop"
    /// nftables could not be read over nfnetlink: the forward path's filter is unknown.
    case filterUnreadable = "filter-unreadable"
    /// iptables-legacy tables exist; their rules are invisible to nfnetlink.
    case legacyIptables = "iptables-legacy"
    /// Strict reverse-path filtering (effective rp_filter 1) on the node interface while the route
    /// back to a peer's pods may not leave by it (hostgw's routes in another table, or leaving by
    /// another interface).
    case rpFilterStrict = "rp-filter-strict"
    /// br_netfilter hands bridged IPv4 frames to the forward hook (bridge-nf-call-iptables = 1),
    /// where a chain drops by policy: pod-to-pod traffic on this node's bridge is dropped too.
    case bridgeCallIptables = "bridge-nf-call-iptables"
    /// The same for IPv6 (bridge-nf-call-ip6tables = 1).
    case bridgeCallIp6tables = "bridge-nf-call-ip6tables"
    /// Peers publish a smaller link MTU than the node interface's: their routes carry the smaller
    /// MTU, and traffic toward them depends on ICMP "fragmentation needed" reaching the senders.
    case mtuMismatch = "mtu-mismatch"
    /// The host's neighbour table refused new entries lately (its `table_fulls` counter rose):
    /// packets toward an address without an entry (a peer gateway, a pod) are dropped.
    case neighbourTableFull = "neighbour-table-full"
    /// More peer gateways than the neighbour table's `gc_thresh2`: the kernel garbage-collects
    /// gateway entries (and past `gc_thresh3` cannot hold them all).
    case neighbourTableSmall = "neighbour-table-small"
}

/// The host's neighbour table of one family as the watcher last read it, with the refusals its
/// `table_fulls` counter counted over the last few reads.
public struct NeighbourTableReading: Sendable, Hashable {
    public var table: NeighbourTable
    /// Entries refused within `window` (the counter's rise over the reads kept).
    public var recentRefusals: UInt64
    public var window: Duration

    public init(table: NeighbourTable, recentRefusals: UInt64 = 0, window: Duration = .zero) {
        self.table = table
        self.recentRefusals = recentRefusals
        self.window = window
    }
}

/// IPv4 reverse-path filtering on the node interface, as NETCONF reports it (0 off, 1 strict,
/// 2 loose). The kernel applies the larger of `conf.all` and `conf.<interface>` (IN_DEV_RPFILTER).
public struct ReversePathFilter: Codable, Sendable, Hashable {
    public var all: UInt32?
    public var interface: UInt32?
    /// The value the kernel applies; nil when either is unknown.
    public var effective: UInt32?

    public init(all: UInt32?, interface: UInt32?) {
        self.all = all
        self.interface = interface
        if let all, let interface { effective = max(all, interface) }
    }

    public static func mode(_ value: UInt32?) -> String {
        switch value {
        case 0?: "off"
        case 1?: "strict"
        case 2?: "loose"
        case let v?: "\(v)"
        case nil: "unknown"
        }
    }
}

/// br_netfilter's switches in this network namespace (/proc/sys/net/bridge).
public struct BridgeNetfilter: Codable, Sendable, Hashable {
    /// false: /proc/sys/net/bridge is absent, br_netfilter is not loaded and bridged frames never
    /// reach the ip/ip6 hooks.
    public var loaded: Bool
    /// net.bridge.bridge-nf-call-iptables; nil when unreadable.
    public var callIptables: Bool?
    /// net.bridge.bridge-nf-call-ip6tables; nil when unreadable.
    public var callIp6tables: Bool?

    public init(loaded: Bool, callIptables: Bool? = nil, callIp6tables: Bool? = nil) {
        self.loaded = loaded
        self.callIptables = callIptables
        self.callIp6tables = callIp6tables
    }

    public static let notLoaded = BridgeNetfilter(loaded: false)
}

public enum DatapathSeverity: String, Codable, Sendable, Hashable, Comparable {
    case warning, critical

    public static func < (a: Self, b: Self) -> Bool { a == .warning && b == .critical }
}

/// One condition found, with the line an operator reads and the command that fixes it.
public struct DatapathFinding: Codable, Sendable, Hashable, CustomStringConvertible {
    public var condition: DatapathCondition
    public var severity: DatapathSeverity
    public var detail: String
    public var fix: String

    public init(_ condition: DatapathCondition, _ severity: DatapathSeverity, detail: String, fix: String) {
        self.condition = condition
        self.severity = severity
        self.detail = detail
        self.fix = fix
    }

    /// `ipv4-forwarding-off: IPv4 forwarding is off ...; fix: sysctl -w ...`
    public var description: String { "\(condition.rawValue): \(detail); fix: \(fix)" }
}

/// What the watcher read, as read. Nil / failure means "could not be read", never "fine".
public struct DatapathFacts: Sendable, Hashable {
    /// The pod network per family this node forwards for (only enabled families).
    public var podNetworks: [IPFamily: IPPrefix]
    /// The node interface (toward the other nodes).
    public var interfaceIndex: UInt32
    public var interfaceName: String
    /// NETCONF entries per family, or why they could not be read.
    public var netconf: [IPFamily: Result<[NetconfEntry], ReadFailure>]
    /// nftables chains, or why they could not be read.
    public var chains: Result<[FilterChain], ReadFailure>
    /// Tables named in /proc/net/ip_tables_names and ip6_tables_names (iptables-legacy), nil when
    /// unreadable. Empty: legacy iptables is not in use in this namespace.
    public var legacyTables: [String]?
    /// The routing table hostgw's routes live in.
    public var routeTable: UInt32
    /// The interfaces hostgw's IPv4 peer routes leave by (index -> name).
    public var routeInterfaces: [UInt32: String]
    /// br_netfilter's switches; nil when not read (yet).
    public var bridge: BridgeNetfilter?
    /// The node interface's MTU; nil when not known yet.
    public var interfaceMTU: UInt32?
    /// The link MTU each peer publishes with its lease (peer name -> MTU); peers that publish none
    /// are absent.
    public var peerMTUs: [String: UInt32] = [:]
    /// The host's neighbour table per family (families in use that could be read).
    public var neighbourTables: [IPFamily: NeighbourTableReading] = [:]
    /// How many gateways on the node network the peers' routes use, per family.
    public var peerGateways: [IPFamily: Int] = [:]

    public struct ReadFailure: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        /// The errno, when the failure was the kernel's or a syscall's.
        public var errno: Errno?
        public init(_ message: String, errno: Errno? = nil) {
            self.message = message
            self.errno = errno
        }
        public var description: String { message }
    }

    public init(
        podNetworks: [IPFamily: IPPrefix], interfaceIndex: UInt32, interfaceName: String,
        netconf: [IPFamily: Result<[NetconfEntry], ReadFailure>], chains: Result<[FilterChain], ReadFailure>,
        legacyTables: [String]?, routeTable: UInt32 = RouteTableID.main, routeInterfaces: [UInt32: String] = [:],
        bridge: BridgeNetfilter? = nil, interfaceMTU: UInt32? = nil, peerMTUs: [String: UInt32] = [:],
        neighbourTables: [IPFamily: NeighbourTableReading] = [:], peerGateways: [IPFamily: Int] = [:]
    ) {
        self.neighbourTables = neighbourTables
        self.peerGateways = peerGateways
        self.interfaceMTU = interfaceMTU
        self.peerMTUs = peerMTUs
        self.podNetworks = podNetworks
        self.interfaceIndex = interfaceIndex
        self.interfaceName = interfaceName
        self.netconf = netconf
        self.chains = chains
        self.legacyTables = legacyTables
        self.routeTable = routeTable
        self.routeInterfaces = routeInterfaces
        self.bridge = bridge
    }

    /// rp_filter on the node interface; nil when IPv4 is not in use or NETCONF was not read.
    public var rpFilter: ReversePathFilter? {
        guard podNetworks[.v4] != nil, case .success(let entries)? = netconf[.v4] else { return nil }
        return ReversePathFilter(
            all: entries.first { $0.scope == .all }?.rpFilter,
            interface: entries.first { $0.scope == .interface(interfaceIndex) }?.rpFilter)
    }

    /// Base chains on the forward hook of a family that carries this network's traffic.
    public var forwardChains: [FilterChain] {
        guard case .success(let chains) = self.chains else { return [] }
        return chains.filter { chain in
            guard chain.hook == FilterChain.forwardHook else { return false }
            switch chain.family {
            case .inet: return true
            case .ip: return podNetworks[.v4] != nil
            case .ip6: return podNetworks[.v6] != nil
            default: return false
            }
        }
    }
}

public enum DatapathConditions {
    /// The findings for `facts`, most severe first, one per condition at most.
    public static func evaluate(_ facts: DatapathFacts) -> [DatapathFinding] {
        var findings: [DatapathFinding] = []
        let iface = facts.interfaceName
        var unknown: [String] = []
        for family in [IPFamily.v4, .v6] where facts.podNetworks[family] != nil {
            let v = family.rawValue
            let label = family.label
            switch facts.netconf[family] {
            case .failure(let e)?:
                unknown.append("\(label): \(e)")
                continue
            case nil:
                unknown.append("\(label): not read yet")
                continue
            case .success(let entries)?:
                let all = entries.first { $0.scope == .all }?.forwarding
                let dev = entries.first { $0.scope == .interface(facts.interfaceIndex) }?.forwarding
                let globalName = family == .v4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding"
                let devName = "net.\(v).conf.\(iface).forwarding"
                if all == false {
                    // Writing the global value sets every interface too, so it is the one fix.
                    findings.append(DatapathFinding(
                        family == .v4 ? .ipv4ForwardingOff : .ipv6ForwardingOff, .critical,
                        detail: "\(label) forwarding is off (\(globalName) = 0): this node forwards no pod traffic",
                        fix: "sysctl -w \(globalName)=1, and keep it in /etc/sysctl.d/"))
                } else if dev == false {
                    // IPv4 decides per input interface: traffic from other nodes arrives on this
                    // one and is dropped. IPv6 forwards by the global switch; the interface value
                    // only makes it behave as a host there (accepting router advertisements).
                    findings.append(DatapathFinding(
                        family == .v4 ? .ipv4InterfaceForwardingOff : .ipv6InterfaceForwardingOff,
                        family == .v4 ? .critical : .warning,
                        detail: family == .v4
                            ? "IPv4 forwarding is off on \(iface) (\(devName) = 0): pod traffic arriving from other nodes is not forwarded"
                            : "IPv6 forwarding is off on \(iface) (\(devName) = 0) while on globally: the node acts as a host there",
                        fix: "sysctl -w \(devName)=1"))
                } else if all == nil || dev == nil {
                    unknown.append("\(label): no \(all == nil ? "conf/all" : "conf/\(iface)") entry")
                }
            }
        }
        if !unknown.isEmpty {
            findings.append(DatapathFinding(
                .forwardingUnknown, .warning,
                detail: "cannot tell whether this node forwards (\(unknown.joined(separator: "; ")))",
                fix: "check with sysctl net.ipv4.ip_forward net.ipv4.conf.\(iface).forwarding net.ipv6.conf.all.forwarding"))
        }

        switch facts.chains {
        case .failure(let e):
            findings.append(DatapathFinding(
                .filterUnreadable, .warning,
                detail: "cannot read nftables over nfnetlink (\(e)): whether the forward path drops pod traffic is unknown",
                fix: "run hostgw with CAP_NET_ADMIN; inspect with nft list chains and iptables -S FORWARD"))
        case .success:
            let dropping = facts.forwardChains.filter { $0.policy == .drop }
            if !dropping.isEmpty {
                let networks = facts.podNetworks.sorted { $0.key.rawValue < $1.key.rawValue }.map(\.value.description)
                let names = dropping.map { "\($0.family) \($0.table)/\($0.name)" }
                findings.append(DatapathFinding(
                    .forwardPolicyDrop, .warning,
                    detail: "policy drop on forward hook chain \(names.joined(separator: ", ")); make sure pod traffic (network \(networks.joined(separator: ", "))) is accepted",
                    fix: dropFix(dropping, networks: facts.podNetworks)))
            }
        }

        if let legacy = facts.legacyTables, !legacy.isEmpty {
            findings.append(DatapathFinding(
                .legacyIptables, .warning,
                detail: "iptables-legacy tables in use (\(legacy.joined(separator: ", "))): hostgw cannot read their FORWARD policy or rules",
                fix: "check with iptables-legacy -S FORWARD (and ip6tables-legacy); move to iptables-nft so hostgw can see the policy"))
        }
        if let rp = reversePathFinding(facts) { findings.append(rp) }
        findings += bridgeFindings(facts)
        if let mtu = mtuFinding(facts) { findings.append(mtu) }
        findings += neighbourTableFindings(facts)
        return findings.sorted { $0.severity > $1.severity }
    }

    /// Strict rp_filter drops a forwarded packet when the route to its source does not leave by
    /// the interface it arrived on. The kernel looks the source up through the ip rules with the
    /// addresses swapped, the forward route's device as input interface and no firewall mark
    /// (unless src_valid_mark). Pod traffic from other nodes arrives on the node interface;
    /// hostgw's routes are surely that route back only when they are in the main table and leave
    /// by the node interface. In another table they are found only if an ip rule sends the
    /// reverse lookup there (rules on `iif`, `from`, `to` do; rules on `fwmark` do not), and
    /// hostgw does not read ip rules: a non-main table is reported. Loose (2) and off (0) are
    /// fine: loose drops only a source with no route at all.
    static func reversePathFinding(_ facts: DatapathFacts) -> DatapathFinding? {
        guard let rp = facts.rpFilter, rp.effective == 1 else { return nil }
        let iface = facts.interfaceName
        var why: [String] = []
        if facts.routeTable != RouteTableID.main {
            why.append("hostgw's routes are in table \(facts.routeTable), which the reverse-path lookup reaches only through an ip rule that matches it (fwmark rules do not)")
        }
        let others = facts.routeInterfaces.filter { $0.key != facts.interfaceIndex }.values.sorted()
        if !others.isEmpty {
            why.append("peer routes leave by \(others.joined(separator: ", ")), not \(iface)")
        }
        guard !why.isEmpty else { return nil }
        let values = "rp_filter all \(rp.all.map(String.init) ?? "?"), \(iface) \(rp.interface.map(String.init) ?? "?")"
        return DatapathFinding(
            .rpFilterStrict, .warning,
            detail: "strict reverse-path filtering on \(iface) (\(values)) while \(why.joined(separator: " and ")): pod traffic from other nodes is dropped where the route back to its source does not leave by \(iface)",
            fix: "sysctl -w net.ipv4.conf.\(iface).rp_filter=2 (loose; the kernel applies the larger of conf.all and conf.\(iface)), and keep it in /etc/sysctl.d/")
    }

    /// br_netfilter with bridge-nf-call-iptables = 1 sends frames bridged between pods on this
    /// node through the forward hook of the ip (ip6) family too; a drop policy there drops same-node
    /// pod traffic. Without a dropping chain (or without br_netfilter) it changes nothing.
    static func bridgeFindings(_ facts: DatapathFacts) -> [DatapathFinding] {
        guard let bridge = facts.bridge, bridge.loaded else { return [] }
        var findings: [DatapathFinding] = []
        let switches: [(IPFamily, Bool?, DatapathCondition, FilterFamily, String)] = [
            (.v4, bridge.callIptables, .bridgeCallIptables, .ip, "bridge-nf-call-iptables"),
            (.v6, bridge.callIp6tables, .bridgeCallIp6tables, .ip6, "bridge-nf-call-ip6tables"),
        ]
        for (family, on, condition, filterFamily, name) in switches where on == true {
            guard let net = facts.podNetworks[family] else { continue }
            let dropping = facts.forwardChains.filter { $0.policy == .drop && ($0.family == .inet || $0.family == filterFamily) }
            guard !dropping.isEmpty else { continue }
            let names = dropping.map { "\($0.family) \($0.table)/\($0.name)" }
            findings.append(DatapathFinding(
                condition, .warning,
                detail: "br_netfilter passes bridged \(family.label) traffic to the forward hook (net.bridge.\(name) = 1), where \(names.joined(separator: ", ")) has policy drop: traffic between pods on this node (\(net)) is dropped too unless a rule accepts it",
                fix: dropFix(dropping, networks: [family: net]) + " (keep net.bridge.\(name)=1 where kube-proxy needs it)"))
        }
        return findings
    }

    /// Peers on a smaller MTU than this node's interface. Their routes carry that MTU
    /// (`DesiredRoutes.routeMTU`), so the local stack refuses oversized packets with ICMP instead
    /// of the smaller hop dropping them silently; pods that block ICMP, or paths through other
    /// routers, still lose large packets. One MTU per segment is the fix.
    static func mtuFinding(_ facts: DatapathFacts) -> DatapathFinding? {
        guard let local = facts.interfaceMTU else { return nil }
        let smaller = facts.peerMTUs.filter { $0.value < local }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        guard let lowest = smaller.first?.value else { return nil }
        let shown = smaller.prefix(5).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let more = smaller.count > 5 ? " and \(smaller.count - 5) more" : ""
        return DatapathFinding(
            .mtuMismatch, .warning,
            detail: "\(smaller.count) peer(s) publish a smaller link MTU than \(facts.interfaceName)'s \(local) (\(shown)\(more)): their routes carry that MTU, so packets larger than it need ICMP \"fragmentation needed\" to reach their senders",
            fix: "give every node on the segment one MTU (ip link set dev \(facts.interfaceName) mtu \(lowest), and the same in the node's network config)")
    }

    /// The neighbour table is one per family for the whole host. Full: the kernel refused entries
    /// lately, and what has no entry gets no packets. Small: more peer gateways than `gc_thresh2`,
    /// past which the kernel collects entries not confirmed within 5 s (probes confirm each gateway
    /// every interval); past `gc_thresh3` they cannot all exist at once. At most one finding per
    /// condition: the first family that shows it, the other named in the same line.
    static func neighbourTableFindings(_ facts: DatapathFacts) -> [DatapathFinding] {
        var full: [String] = []
        var small: [String] = []
        var fixes: [String] = []
        for family in [IPFamily.v4, .v6] where facts.podNetworks[family] != nil {
            guard let reading = facts.neighbourTables[family] else { continue }
            let t = reading.table
            let gateways = facts.peerGateways[family] ?? 0
            let sysctl = family == .v4 ? "net.ipv4.neigh.default" : "net.ipv6.neigh.default"
            let label = family.label
            let entries = t.entries.map { ", \($0) entries" } ?? ""
            var named = false
            if reading.recentRefusals > 0 {
                full.append("the host's \(label) neighbour table (\(t.name)) refused \(reading.recentRefusals) new entries in the last \(seconds(reading.window)) s (gc_thresh3 \(t.gcThresh3)\(entries))")
                named = true
            }
            if gateways > Int(t.gcThresh2) {
                small.append("\(gateways) \(label) peer gateways, more than the neighbour table's gc_thresh2 \(t.gcThresh2)\(gateways > Int(t.gcThresh3) ? " and gc_thresh3 \(t.gcThresh3)" : "")")
                named = true
            }
            if named {
                let three = suggestedThreshold(current: t.gcThresh3, gateways: gateways)
                fixes.append("sysctl -w \(sysctl).gc_thresh3=\(three) \(sysctl).gc_thresh2=\(three / 2) \(sysctl).gc_thresh1=\(three / 4)")
            }
        }
        let fix = "in the host's own namespace (the limits are the host's): " + fixes.joined(separator: "; ") + ", and keep them in /etc/sysctl.d/"
        var findings: [DatapathFinding] = []
        if !full.isEmpty {
            findings.append(DatapathFinding(
                .neighbourTableFull, .critical,
                detail: full.joined(separator: "; ") + ": packets toward an address without an entry (a peer gateway, a pod) are dropped, every route is right",
                fix: fix))
        }
        if !small.isEmpty {
            findings.append(DatapathFinding(
                .neighbourTableSmall, .warning,
                detail: small.joined(separator: "; ") + ": the kernel keeps collecting gateway entries, and traffic waits for ARP/NDP again",
                fix: fix))
        }
        return findings
    }

    /// Room for four entries per gateway (gateways, pods on this node's bridge, the host's own),
    /// at least twice today's limit, in whole thousands.
    static func suggestedThreshold(current: UInt32, gateways: Int) -> Int {
        let wanted = max(Int(current) * 2, gateways * 4)
        return (wanted + 1023) / 1024 * 1024
    }

    private static func seconds(_ d: Duration) -> Int { Int(d.components.seconds) }

    /// The command for the first dropping chain: iptables-nft's own chain gets `iptables -P` or an
    /// accept rule; a native nft chain gets an accept rule for the pod network.
    static func dropFix(_ chains: [FilterChain], networks: [IPFamily: IPPrefix]) -> String {
        var fixes: [String] = []
        for chain in chains {
            if chain.table == "filter", chain.name == "FORWARD", chain.family == .ip || chain.family == .ip6 {
                let tool = chain.family == .ip ? "iptables" : "ip6tables"
                let net = networks[chain.family == .ip ? .v4 : .v6].map(\.description) ?? "<pod network>"
                fixes.append("\(tool) -A FORWARD -s \(net) -j ACCEPT && \(tool) -A FORWARD -d \(net) -j ACCEPT (or \(tool) -P FORWARD ACCEPT)")
            } else {
                let carried = networks.filter { family, _ in
                    chain.family == .inet || (chain.family == .ip) == (family == .v4)
                }
                let rules = carried.sorted { $0.key.rawValue < $1.key.rawValue }.map { family, net in
                    let ip = family == .v4 ? "ip" : "ip6"
                    return "nft add rule \(chain.family) \(chain.table) \(chain.name) \(ip) saddr \(net) accept; nft add rule \(chain.family) \(chain.table) \(chain.name) \(ip) daddr \(net) accept"
                }
                fixes.append(rules.joined(separator: "; "))
            }
        }
        return fixes.joined(separator: "; ")
    }
}
