// Follows the kernel's neighbour (ARP / NDP) entries of the peers' gateways: a dump at start and
// every `period`, notifications in between (a re-dump after lost ones). A gateway whose entry is
// FAILED or INCOMPLETE cannot be sent to: that peer is unreachable whatever its route says. A
// gateway whose link-layer address changes is logged and counted: its IP moved to another machine
// (a replaced node, a failover, or two machines claiming one address). Reads only.
public import Logging
public import Metrics
public import NetAddress
public import Netlink
import SubnetLease

/// Where the watcher reads neighbour entries (the agent: NetlinkClient; tests: a fake).
public protocol NeighbourAccess: Sendable {
    func neighbours(family: IPFamily) async throws -> [Neighbour]
}

extension NetlinkClient: NeighbourAccess {}

public actor NeighbourWatcher {
    /// One gateway's entry as last seen.
    public struct Entry: Sendable, Hashable, Codable {
        /// `ip neigh`'s word (REACHABLE, STALE, FAILED, ...); nil: no entry (nothing sent yet, or
        /// garbage-collected), which says nothing either way.
        public var state: String?
        public var linkAddress: String?
        /// True when the entry is FAILED or INCOMPLETE.
        public var unresolved: Bool

        public init(state: String?, linkAddress: String?, unresolved: Bool) {
            self.state = state
            self.linkAddress = linkAddress
            self.unresolved = unresolved
        }
    }

    private let clock: any Clock<Duration>
    private let access: any NeighbourAccess
    private let period: Duration
    private let logger: Logger
    private let families: [IPFamily]
    private let lladdrChanges: Counter
    private let unresolvedGauge: Gauge

    /// Gateway address -> peer name, for the gateways followed.
    private var gateways: [IPAddress: String] = [:]
    private var entries: [IPAddress: Neighbour] = [:]
    /// The last link-layer address each gateway resolved to, kept while its entry is FAILED,
    /// INCOMPLETE or gone: a move is often seen as old MAC -> FAILED (or deleted) -> new MAC, and
    /// comparing with the entry just before would miss it.
    private var lastLinkAddress: [IPAddress: [UInt8]] = [:]
    private let broadcast: Broadcast<[IPAddress: Entry]>
    private var published: [IPAddress: Entry] = [:]
    private var unresolvedCount = 0

    public init(
        families: [IPFamily], access: any NeighbourAccess, clock: any Clock<Duration> = ContinuousClock(), period: Duration = .seconds(30),
        metrics: any MetricsFactory = MetricsSystem.factory, logger: Logger
    ) {
        self.families = families
        self.access = access
        self.clock = clock
        self.period = period
        self.logger = logger
        lladdrChanges = Counter(label: "hostgw_peer_gateway_lladdr_changes_total", factory: metrics)
        unresolvedGauge = Gauge(label: "hostgw_peer_neighbours_unresolved", factory: metrics)
        unresolvedGauge.record(0)
        broadcast = Broadcast()
    }

    /// The whole set of gateways to follow (address -> peer name); the agent hands on each lease
    /// snapshot's changes with `updateGateways`.
    public func setGateways(_ gateways: [IPAddress: String]) {
        guard gateways != self.gateways else { return }
        var changes: [IPAddress: String?] = [:]
        for (address, name) in gateways where self.gateways[address] != name { changes[address] = .some(name) }
        for address in self.gateways.keys where gateways[address] == nil { changes[address] = .some(nil) }
        updateGateways(changes)
    }

    /// Follows gateways that came (with their peer's name) or went (nil), at the cost of those.
    public func updateGateways(_ changes: [IPAddress: String?]) {
        guard !changes.isEmpty else { return }
        for (address, name) in changes {
            gateways[address] = name
            if name == nil {
                entries[address] = nil
                lastLinkAddress[address] = nil
            }
        }
        publishIfChanged(changes.keys)
    }

    /// Every followed gateway's entry.
    public func current() -> [IPAddress: Entry] { published }

    /// `current()` now, then whenever a gateway becomes unresolved or resolved again; the newest replaces one
    /// not yet read.
    public func updates() -> AsyncStream<[IPAddress: Entry]> { broadcast.subscribe(current: published) }

    /// Reads every entry once (start, re-dumps, tests).
    public func refresh() async {
        var fresh: [IPAddress: Neighbour] = [:]
        for family in families {
            do {
                for n in try await access.neighbours(family: family) where gateways[n.address] != nil {
                    // A gateway may have an entry on more than one link; the resolved one counts.
                    if let have = fresh[n.address], !have.state.isUnresolved { continue }
                    fresh[n.address] = n
                }
            } catch {
                logger.warning("reading neighbour entries failed", metadata: ["family": "\(family.rawValue)", "error": "\(error)"])
                return
            }
        }
        for (address, n) in fresh { noteLinkAddress(address, n) }
        entries = fresh
        publishIfChanged(gateways.keys)
    }

    /// Follows `events` (a monitor that joined `.neighbours`) and re-dumps every `period`, until
    /// cancelled or the events end.
    public func run<Events: AsyncSequence & Sendable>(events: Events) async where Events.Element == NetlinkEvent {
        await refresh()
        await followEvents(events, clock: clock, every: period, handle: { await self.handle($0) }, tick: { await self.refresh() })
    }

    public func handle(_ event: NetlinkEvent) async {
        switch event {
        case .neighbourChanged(let n):
            guard gateways[n.address] != nil else { return }
            if let have = entries[n.address], have.interfaceIndex != n.interfaceIndex, !have.state.isUnresolved, n.state.isUnresolved {
                return  // an unresolved entry on another link does not hide a resolved one
            }
            noteLinkAddress(n.address, n)
            entries[n.address] = n
            publishIfChanged(CollectionOfOne(n.address))
        case .neighbourRemoved(let n):
            guard let have = entries[n.address], have.interfaceIndex == n.interfaceIndex else { return }
            entries[n.address] = nil
            publishIfChanged(CollectionOfOne(n.address))
        case .overrun:
            await refresh()
        default:
            return
        }
    }

    private func noteLinkAddress(_ address: IPAddress, _ n: Neighbour) {
        // FAILED and INCOMPLETE entries carry no address (or zeros): they neither count as a move
        // nor make the next resolved address look new.
        guard let new = n.linkAddress, !n.state.isUnresolved, new.contains(where: { $0 != 0 }) else { return }
        let old = lastLinkAddress.updateValue(new, forKey: address)
        guard let old, old != new else { return }
        lladdrChanges.increment()
        logger.warning(
            "a peer gateway's link-layer address changed: its IP moved to another machine",
            metadata: [
                "peer": "\(gateways[address] ?? "?")", "gateway": "\(address)",
                "was": "\(Neighbour(interfaceIndex: 0, address: address, linkAddress: old, state: []).linkAddressText ?? "?")",
                "now": "\(n.linkAddressText ?? "?")",
            ])
    }

    /// Brings `published` up to date for `addresses` (followed or not) and pushes it when a
    /// verdict changed or a gateway came or went. Per address: a neighbour event costs its own.
    private func publishIfChanged(_ addresses: some Sequence<IPAddress>) {
        var changed = false
        for address in addresses {
            let old = published[address]
            let new: Entry?
            if gateways[address] == nil {
                new = nil
            } else if let n = entries[address] {
                new = Entry(state: n.state.description, linkAddress: n.linkAddressText, unresolved: n.state.isUnresolved)
            } else {
                new = Entry(state: nil, linkAddress: nil, unresolved: false)
            }
            published[address] = new
            if old?.unresolved == true { unresolvedCount -= 1 }
            if new?.unresolved == true { unresolvedCount += 1 }
            // Pushed only when a verdict changes (REACHABLE -> STALE -> DELAY is routine, and a
            // gateway followed anew has none yet); the state words are read with `current()`.
            if (old?.unresolved ?? false) != (new?.unresolved ?? false) { changed = true }
        }
        guard changed else { return }
        unresolvedGauge.record(unresolvedCount)
        broadcast.publish(published)
    }
}
