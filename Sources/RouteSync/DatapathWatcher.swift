// Follows this node's datapath preconditions: NETCONF forwarding and rp_filter settings live (a
// dump at start, then notifications; a re-dump after lost events and every `netconfPeriod` as a
// safety net), nftables chains, iptables-legacy tables, br_netfilter's switches, the host's
// neighbour tables (the last `refusalReads` reads of each, for the refusal counter's rise) and the
// interfaces hostgw's routes leave by every `filterPeriod`; nothing is judged before the first read. Each change of the findings is
// logged, counted in `hostgw_datapath_condition{condition}` (0/1) and handed to `onChange`.
// Reads only: it never writes a sysctl or a filter rule.
public import Foundation
public import Logging
public import Metrics
public import NetAddress
public import Netlink
public import SubnetLease

/// Where the watcher reads the kernel (the agent: NetlinkClient plus /proc/net; tests: a fake).
public protocol DatapathAccess: Sendable {
    func netconf(family: IPFamily) async throws -> [NetconfEntry]
    func filterChains() async throws -> [FilterChain]
    /// Table names of iptables-legacy (ip_tables_names, ip6_tables_names); nil when unreadable.
    func legacyTables() async -> [String]?
    /// br_netfilter's switches in this namespace (`.notLoaded` when /proc/sys/net/bridge is absent).
    func bridgeNetfilter() async -> BridgeNetfilter
    /// The interfaces hostgw's installed IPv4 peer routes leave by (index -> name): the
    /// reconciler's view of its own routes, not a dump.
    func routeInterfaces() async -> [UInt32: String]
    /// The MTU of link `index` (the node interface); nil when not known.
    func linkMTU(index: UInt32) async -> UInt32?
    /// This node's addresses inside its own pod subnets (the CNI bridge's), per family.
    func podGateways() async -> [IPFamily: IPAddress]
    /// The host's neighbour table of `family` (thresholds and counters).
    func neighbourTable(family: IPFamily) async throws -> NeighbourTable?
}

/// What `hostgw status` shows about the datapath: what was read and what it means.
public struct DatapathReport: Codable, Sendable, Hashable {
    public struct Forwarding: Codable, Sendable, Hashable {
        public var family: IPFamily
        /// `all` or the interface name.
        public var scope: String
        /// nil: not known (not read, or no entry).
        public var enabled: Bool?

        public init(family: IPFamily, scope: String, enabled: Bool?) {
            self.family = family
            self.scope = scope
            self.enabled = enabled
        }
    }

    public struct Chain: Codable, Sendable, Hashable {
        public var family: String
        public var table: String
        public var chain: String
        public var policy: String?
        public var priority: Int32?
    }

    /// The host's neighbour table of one family, as last read, beside the gateways it must hold.
    public struct NeighbourTableUse: Codable, Sendable, Hashable {
        /// As read: family, name, gc_thresh1-3, entries (every namespace's), counters since boot.
        public var table: NeighbourTable
        /// Entries the kernel refused over the last reads (`recentWindowSeconds`).
        public var recentRefusals: UInt64
        public var recentWindowSeconds: Int
        /// Gateways on the node network the peers' routes use.
        public var peerGateways: Int
    }

    public var checkedAt: Date?
    public var forwarding: [Forwarding]
    /// Base chains on the forward hook of the families this network uses.
    public var forwardChains: [Chain]
    /// Why nftables could not be read, when it could not.
    public var filterError: String?
    /// iptables-legacy tables present (nil: unknown).
    public var legacyTables: [String]?
    /// IPv4 rp_filter on the node interface (nil: no IPv4, or not read).
    public var rpFilter: ReversePathFilter?
    /// The table hostgw's routes live in.
    public var routeTable: UInt32?
    /// br_netfilter's switches (nil: not read yet).
    public var bridgeNetfilter: BridgeNetfilter?
    /// The host's neighbour tables of the families in use (nil: from an agent that does not read
    /// them; empty: not read yet).
    public var neighbourTables: [NeighbourTableUse]?
    public var conditions: [DatapathFinding]
    /// What hostgw does not judge, said plainly.
    public var limits: [String]

    public init(
        checkedAt: Date?, forwarding: [Forwarding], forwardChains: [Chain], filterError: String?, legacyTables: [String]?,
        rpFilter: ReversePathFilter? = nil, routeTable: UInt32? = nil, bridgeNetfilter: BridgeNetfilter? = nil,
        conditions: [DatapathFinding], limits: [String]
    ) {
        self.checkedAt = checkedAt
        self.forwarding = forwarding
        self.forwardChains = forwardChains
        self.filterError = filterError
        self.legacyTables = legacyTables
        self.rpFilter = rpFilter
        self.routeTable = routeTable
        self.bridgeNetfilter = bridgeNetfilter
        self.conditions = conditions
        self.limits = limits
    }
}

public actor DatapathWatcher {
    public struct Config: Sendable {
        public var podNetworks: [IPFamily: IPPrefix]
        public var interfaceIndex: UInt32
        public var interfaceName: String
        /// The routing table hostgw's routes live in (`--table`).
        public var routeTable: UInt32
        public var filterPeriod: Duration
        public var netconfPeriod: Duration

        public init(
            podNetworks: [IPFamily: IPPrefix], interfaceIndex: UInt32, interfaceName: String, routeTable: UInt32 = RouteTableID.main,
            filterPeriod: Duration = .seconds(2), netconfPeriod: Duration = .seconds(30)
        ) {
            self.podNetworks = podNetworks
            self.interfaceIndex = interfaceIndex
            self.interfaceName = interfaceName
            self.routeTable = routeTable
            self.filterPeriod = filterPeriod
            self.netconfPeriod = netconfPeriod
        }
    }

    public static let limits = [
        "rules inside forward chains are not judged: a drop policy is reported even when rules accept pod traffic",
        "iptables-legacy rules cannot be read over nfnetlink; only their presence is reported",
        "ip rules are not read: strict rp_filter with hostgw's routes in a non-main table is reported even when an ip rule (on iif, from or to) makes the reverse-path lookup find them",
        "loose rp_filter (2) is taken as fine: it drops only sources with no route at all (a node without a default route, with hostgw's routes outside the main table)",
    ]

    private let config: Config
    private let access: any DatapathAccess
    private let clock: any Clock<Duration>
    private let logger: Logger
    private let onChange: @Sendable ([DatapathFinding]) async -> Void
    private var gauges: [DatapathCondition: Gauge] = [:]

    private var netconf: [IPFamily: Result<[NetconfEntry], DatapathFacts.ReadFailure>] = [:]
    private var chains: Result<[FilterChain], DatapathFacts.ReadFailure> = .failure(.init("not read yet"))
    private var legacy: [String]?
    private var bridge: BridgeNetfilter?
    private var routeInterfaces: [UInt32: String] = [:]
    private var interfaceMTU: UInt32?
    private var peerMTUs: [String: UInt32] = [:]
    private var podGateways: [IPFamily: IPAddress] = [:]
    /// The last reads of each family's neighbour table, oldest first: `refusalReads` of them, so
    /// a refusal is shown for that many filter periods after the counter last rose.
    private var neighbourReads: [IPFamily: [NeighbourTable]] = [:]
    /// Why a family's neighbour table could not be read at the last read (a limit of the report).
    private var neighbourUnreadable: [IPFamily: String] = [:]
    static let refusalReads = 5
    private var peerGateways: [IPFamily: Int] = [:]
    private var checkedAt: Date?
    private var sinceNetconf = Duration.zero
    /// What this node publishes with its lease: pushed to `onReport` when it changes, never per read.
    public private(set) var nodeReport = NodeReport()
    private let onReport: @Sendable (NodeReport) async -> Void
    public private(set) var findings: [DatapathFinding] = []

    public init(
        config: Config, access: any DatapathAccess, clock: any Clock<Duration> = ContinuousClock(),
        metrics: any MetricsFactory = MetricsSystem.factory, logger: Logger,
        onChange: @escaping @Sendable ([DatapathFinding]) async -> Void = { _ in },
        onReport: @escaping @Sendable (NodeReport) async -> Void = { _ in }
    ) {
        self.onReport = onReport
        self.config = config
        self.access = access
        self.clock = clock
        self.logger = logger
        self.onChange = onChange
        for condition in DatapathCondition.allCases {
            let gauge = Gauge(label: "hostgw_datapath_condition", dimensions: [("condition", condition.rawValue)], factory: metrics)
            gauge.record(0)
            gauges[condition] = gauge
        }
    }

    public var facts: DatapathFacts {
        DatapathFacts(
            podNetworks: config.podNetworks, interfaceIndex: config.interfaceIndex, interfaceName: config.interfaceName,
            netconf: netconf, chains: chains, legacyTables: legacy, routeTable: config.routeTable,
            routeInterfaces: routeInterfaces, bridge: bridge, interfaceMTU: interfaceMTU, peerMTUs: peerMTUs,
            neighbourTables: neighbourReads.compactMapValues { reads in
                guard let last = reads.last else { return nil }
                let first = reads.first?.tableFulls ?? 0
                let rise = last.tableFulls.map { $0 >= first ? $0 - first : 0 } ?? 0
                return NeighbourTableReading(table: last, recentRefusals: rise, window: config.filterPeriod * (reads.count - 1))
            },
            peerGateways: peerGateways)
    }

    /// How many node-network gateways the peers' routes use, per family (the neighbour entries
    /// this node needs); re-judged at once when it changes.
    public func setPeerGateways(_ counts: [IPFamily: Int]) async {
        guard counts != peerGateways else { return }
        peerGateways = counts
        await publish()
    }

    /// The link MTUs the peers publish (from each lease snapshot); re-judged at once when they change.
    public func setPeerMTUs(_ mtus: [String: UInt32]) async {
        guard mtus != peerMTUs else { return }
        peerMTUs = mtus
        await publish()
    }

    /// Reads everything once and publishes the findings (start, and tests).
    public func refresh() async {
        await readNetconf()
        await readFilter()
        await publish()
    }

    /// Follows `events` (a monitor that joined `.netconf`) and re-reads periodically until
    /// cancelled or the events end.
    public func run<Events: AsyncSequence & Sendable>(events: Events) async where Events.Element == NetlinkEvent {
        await refresh()
        await followEvents(events, clock: clock, every: config.filterPeriod, handle: { await self.handle($0) }, tick: { await self.periodic() })
    }

    /// Filter, legacy tables and br_netfilter every `filterPeriod`; NETCONF again every
    /// `netconfPeriod` as a safety net behind the notifications.
    private func periodic() async {
        sinceNetconf += config.filterPeriod
        if sinceNetconf >= config.netconfPeriod {
            sinceNetconf = .zero
            await readNetconf()
        }
        await readFilter()
        await publish()
    }

    /// One notification: a NETCONF change is merged (it carries only what changed); lost events
    /// mean a re-dump.
    public func handle(_ event: NetlinkEvent) async {
        switch event {
        case .netconfChanged(let entry):
            guard case .success(var entries)? = netconf[entry.family] else {
                await readNetconf()
                await publish()
                return
            }
            if let i = entries.firstIndex(where: { $0.scope == entry.scope }) {
                if let f = entry.forwarding { entries[i].forwarding = f }
                if let r = entry.rpFilter { entries[i].rpFilter = r }
            } else {
                entries.append(entry)
            }
            netconf[entry.family] = .success(entries)
            await publish()
        case .overrun:
            await readNetconf()
            await publish()
        default:
            return
        }
    }

    public func report() -> DatapathReport {
        var forwarding: [DatapathReport.Forwarding] = []
        for family in [IPFamily.v4, .v6] where config.podNetworks[family] != nil {
            let entries = (try? netconf[family]?.get()) ?? []
            forwarding.append(.init(family: family, scope: "all", enabled: entries.first { $0.scope == .all }?.forwarding))
            forwarding.append(.init(
                family: family, scope: config.interfaceName,
                enabled: entries.first { $0.scope == .interface(config.interfaceIndex) }?.forwarding))
        }
        var filterError: String?
        if case .failure(let e) = chains { filterError = e.message }
        let facts = self.facts
        var report = DatapathReport(
            checkedAt: checkedAt, forwarding: forwarding,
            forwardChains: facts.forwardChains.map {
                .init(family: $0.family.description, table: $0.table, chain: $0.name, policy: $0.policy?.description, priority: $0.priority)
            },
            filterError: filterError, legacyTables: legacy, rpFilter: facts.rpFilter, routeTable: config.routeTable,
            bridgeNetfilter: bridge, conditions: findings,
            limits: Self.limits + neighbourUnreadable.sorted { $0.key.rawValue < $1.key.rawValue }.map { family, why in
                "the \(family.label) neighbour table could not be read (\(why)): a full table, whose refusals drop traffic to peers, would not be seen"
            })
        report.neighbourTables = facts.neighbourTables.sorted { $0.key.rawValue < $1.key.rawValue }.map { family, reading in
            .init(
                table: reading.table, recentRefusals: reading.recentRefusals, recentWindowSeconds: Int(reading.window.components.seconds),
                peerGateways: facts.peerGateways[family] ?? 0)
        }
        return report
    }

    private func readNetconf() async {
        for family in config.podNetworks.keys {
            do {
                netconf[family] = .success(try await access.netconf(family: family))
            } catch {
                netconf[family] = .failure(Self.failure(error))
            }
        }
    }

    private func readFilter() async {
        do {
            chains = .success(try await access.filterChains())
        } catch let e as NetlinkError where e.errno == .EPROTONOSUPPORT {
            // No nfnetlink in this kernel: there are no nftables rules to drop anything.
            chains = .success([])
        } catch {
            chains = .failure(Self.failure(error))
        }
        legacy = await access.legacyTables()
        bridge = await access.bridgeNetfilter()
        routeInterfaces = await access.routeInterfaces()
        interfaceMTU = await access.linkMTU(index: config.interfaceIndex)
        podGateways = await access.podGateways()
        for family in config.podNetworks.keys {
            // Unreadable: no claim either way (the reads kept are dropped with it), and the
            // report's limits say that a full table would not be seen.
            let table: NeighbourTable?
            do {
                table = try await access.neighbourTable(family: family)
                neighbourUnreadable[family] = nil
            } catch {
                table = nil
                neighbourUnreadable[family] = Self.failure(error).message
            }
            guard let table else {
                neighbourReads[family] = nil
                continue
            }
            var reads = neighbourReads[family] ?? []
            reads.append(table)
            if reads.count > Self.refusalReads { reads.removeFirst(reads.count - Self.refusalReads) }
            neighbourReads[family] = reads
        }
        checkedAt = Date()
    }

    private func publish() async {
        // Nothing is judged before the first read: facts not read yet would be findings of their
        // own (`filter-unreadable: not read yet`), logged, counted and published with the lease
        // while the node is fine (a lease snapshot's peer gateways or MTUs can come first).
        guard checkedAt != nil else { return }
        let now = DatapathConditions.evaluate(facts)
        // The report peers read: this node's own conditions (not the MTU comparison, which is
        // each node's own view of the others), its MTU and pod gateways.
        let report = NodeReport(
            mtu: interfaceMTU, podGateway: podGateways[.v4]?.ipv4, podGatewayV6: podGateways[.v6]?.ipv6,
            conditions: now.filter { $0.condition != .mtuMismatch }.map {
                PublishedCondition(name: $0.condition.rawValue, severity: $0.severity == .critical ? .critical : .warning)
            })
        if report != nodeReport {
            nodeReport = report
            await onReport(report)
        }
        guard now != findings else { return }
        let before = Set(findings.map(\.condition))
        let after = Set(now.map(\.condition))
        for f in now where !before.contains(f.condition) {
            logger.warning("datapath condition", metadata: ["condition": "\(f.condition.rawValue)", "severity": "\(f.severity.rawValue)", "detail": "\(f.detail)", "fix": "\(f.fix)"])
        }
        for c in before.subtracting(after) {
            logger.notice("datapath condition cleared", metadata: ["condition": "\(c.rawValue)"])
        }
        findings = now
        for (condition, gauge) in gauges { gauge.record(after.contains(condition) ? 1 : 0) }
        await onChange(now)
    }

    private static func failure(_ error: any Error) -> DatapathFacts.ReadFailure {
        if let e = error as? NetlinkError { return .init("\(e)", errno: e.errno) }
        return .init("\(error)")
    }
}

/// Runs `handle` on every event of `events` and `tick` every `period` on `clock`, until the task
/// is cancelled or the events end: the shape of every watcher that follows notifications with a
/// periodic re-read behind them.
func followEvents<Events: AsyncSequence & Sendable>(
    _ events: Events, clock: any Clock<Duration>, every period: Duration,
    handle: @escaping @Sendable (NetlinkEvent) async -> Void, tick: @escaping @Sendable () async -> Void
) async where Events.Element == NetlinkEvent {
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            do {
                for try await event in events { await handle(event) }
            } catch {}
        }
        group.addTask {
            while !Task.isCancelled {
                do { try await clock.sleep(for: period) } catch { return }
                await tick()
            }
        }
        await group.next()
        group.cancelAll()
    }
}
