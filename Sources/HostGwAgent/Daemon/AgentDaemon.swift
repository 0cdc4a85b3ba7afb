// `hostgw run`: wires SubnetLease and RouteSync into one process under swift-service-lifecycle.
//
// Order of work, each step retried with backoff rather than crashing (systemd would restart us
// in a loop and nothing would be gained):
//   network config from the store -> interface and public IP -> own lease -> subnet files ->
//   reconciler fed by lease snapshots, kernel events and a periodic resync.
// The loopback HTTP server, the store probe and the watchdog run from the first second, so an
// operator can see why the agent is not ready. Routes are never removed on the way out.
import Foundation
import Hummingbird
import Logging
import Metrics
import NetAddress
import Netlink
import Prometheus
import RouteSync
import ServiceLifecycle
import SubnetLease

/// Thrown out of the daemon to end the process with a specific exit status.
struct DaemonExit: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { message }
}

/// The parts a status document is built from, filled in as the daemon gets going.
actor DaemonState {
    var interface: SelectedInterface?
    var leaseManager: LeaseManager?
    var reconciler: RouteReconciler?
    var datapath: DatapathWatcher?
    var neighbours: NeighbourWatcher?
    var reachability: PeerReachabilityBoard?
    var prober: PeerProber?
    var invalidEntries = 0

    func set(interface: SelectedInterface) { self.interface = interface }
    func set(leaseManager: LeaseManager) { self.leaseManager = leaseManager }
    func set(reconciler: RouteReconciler) { self.reconciler = reconciler }
    func set(datapath: DatapathWatcher) { self.datapath = datapath }
    func set(neighbours: NeighbourWatcher) { self.neighbours = neighbours }
    func set(reachability: PeerReachabilityBoard) { self.reachability = reachability }
    func set(prober: PeerProber) { self.prober = prober }
    func set(invalidEntries: Int) { self.invalidEntries = invalidEntries }
}

struct AgentDaemon: Service {
    enum Role: Sendable {
        /// `hostgw run`: a cluster node with a lease and a pod subnet.
        case node
        /// `hostgw external-sync`: a host outside the cluster; no lease, routes to every node.
        case external
    }

    let role: Role
    let settings: RunSettings
    let storeSettings: StoreSettings
    let store: any SubnetStore
    let netlink: NetlinkClient
    let health: AgentHealth
    let state = DaemonState()
    let notifier: SystemdNotifier
    let logger: Logger
    /// Every wait of the daemon (start-up retries) runs on it.
    var clock: any Clock<Duration> = ContinuousClock()

    var keys: LeaseKeys { LeaseKeys(prefix: storeSettings.prefix) }

    func run() async throws {
        // On SIGTERM/SIGINT the work below is cancelled; routes stay where they are.
        do {
            try await cancelWhenGracefulShutdown { try await work() }
        } catch is CancellationError {
            logger.info("stopping on request; routes are left in place")
        }
    }

    private func work() async throws {
        notifier.status("reading the network config from \(storeSettings.summary)")
        let config = try await retrying("read the network config at \(keys.config)") {
            try await store.getConfig(keys: keys)
        }
        logger.info(
            "network config",
            metadata: ["network": "\(config.network?.description ?? "-")", "ipv6Network": "\(config.ipv6Network?.description ?? "-")"])

        var manager: LeaseManager?
        var localSubnets: [IPPrefix] = []
        if role == .node {
            let (m, lease) = try await join(config)
            manager = m
            localSubnets = [lease.subnet, lease.ipv6Subnet].compactMap { $0 }
        }

        let syncConfig = RouteSyncConfig(
            network: config, routeProtocol: settings.routeProtocol, table: settings.table, resyncPeriod: settings.resyncPeriod,
            observeOnly: settings.observeOnly, localSubnets: localSubnets, adoptProtocols: settings.adoptProtocols,
            deletionGrace: settings.deletionGrace)
        let reconciler = RouteReconciler(config: syncConfig, kernel: netlink, logger: logger)
        await state.set(reconciler: reconciler)
        let monitor = try NetlinkMonitor()
        let watcher = LeaseWatcher(store: store, config: config, keys: keys, logger: logger)
        // A node forwards pod traffic: its forwarding settings and forward-path filter are watched.
        var found: (watcher: DatapathWatcher, events: NetlinkMonitor)?
        if role == .node, let iface = await state.interface {
            let health = health
            let logger = logger
            let w = DatapathWatcher(
                config: .init(
                    podNetworks: syncConfig.podNetworks, interfaceIndex: iface.link.index, interfaceName: iface.link.name,
                    routeTable: syncConfig.table),
                access: KernelDatapath(netlink: netlink, reconciler: reconciler), logger: logger,
                onChange: { findings in await health.datapath(findings) },
                onReport: { [manager] report in
                    // Published with the lease on change only; a failed write is retried at renewal.
                    do { try await manager?.publish(report) } catch {
                        logger.warning("publishing this node's report with its lease failed; retrying at the next renewal", metadata: ["error": "\(error)"])
                    }
                })
            await state.set(datapath: w)
            found = (w, try NetlinkMonitor(groups: .netconf))
        }
        let datapath = found
        // The peers' gateways' neighbour entries: FAILED or INCOMPLETE means unreachable.
        var neighbours: (watcher: NeighbourWatcher, events: NetlinkMonitor)?
        var peerHealth: PeerHealthParts?
        if role == .node {
            let n = NeighbourWatcher(families: syncConfig.families, access: netlink, logger: logger)
            await state.set(neighbours: n)
            neighbours = (n, try NetlinkMonitor(groups: .neighbours))
            let board = PeerReachabilityBoard(logger: logger)
            await state.set(reachability: board)
            var parts = PeerHealthParts(board: board)
            if let probe = settings.probe {
                let marks = await probeMarks(table: syncConfig.table, families: syncConfig.families, podSubnets: localSubnets)
                let responder = ProbeResponder(port: probe.port, logger: logger, marks: marks)
                // A port another process holds is a setting to change, not something to retry.
                do { try await responder.bind() } catch {
                    throw DaemonExit(code: ExitStatus.config, message: "cannot answer peer probes: \(error) (set --probe-port, or 0 for no probes)")
                }
                parts.responder = responder
                let prober = PeerProber(config: probe, logger: logger, marks: marks)
                parts.prober = prober
                await state.set(prober: prober)
            }
            peerHealth = parts
        }
        let neighbourFeed = neighbours
        let peerParts = peerHealth
        notifier.status("syncing routes")

        try await withTaskCancellationHandler {
            try await runLoops(
                manager: manager, reconciler: reconciler, monitor: monitor, watcher: watcher, datapath: datapath,
                neighbours: neighbourFeed, peerHealth: peerParts, syncConfig: syncConfig)
        } onCancel: {
            monitor.stop()
            datapath?.events.stop()
            neighbourFeed?.events.stop()
        }
    }

    /// How this node's pod-path probes and probe replies reach hostgw's table (`ProbeMarks`),
    /// from the `ip rule`s at start. Rules changed later take effect at the next start.
    private func probeMarks(table: UInt32, families: [IPFamily], podSubnets: [IPPrefix]) async -> ProbeMarks {
        guard table != RouteTableID.main else { return ProbeMarks() }
        var rules: [RoutingRule] = []
        for family in families {
            do {
                rules += try await netlink.rules(family: family)
            } catch {
                logger.warning(
                    "reading the ip rules failed: pod-path probes go unmarked and may miss table \(table)",
                    metadata: ["family": "\(family.rawValue)", "error": "\(error)"])
            }
        }
        let marks = ProbeMarks.choose(rules: rules, table: table, podSubnets: podSubnets)
        for (family, way) in marks.ways.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            switch way {
            case .unmarked:
                logger.info("pod-path probes reach table \(table) unmarked", metadata: ["family": "\(family.rawValue)"])
            case .mark(let mark, let rule):
                logger.notice(
                    "pod-path probes and probe replies carry fwmark 0x\(String(mark, radix: 16)) to reach table \(table), as pods do",
                    metadata: ["family": "\(family.rawValue)", "rule": "\(rule)"])
            case .noRule(let caught):
                logger.warning(
                    "no ip rule leads this node's own traffic from its pod gateway to table \(table): pod-path probes take \(caught.map { "ip rule \($0)" } ?? "no rule") instead and are lost if that has no route to the peers' pods; add a rule that matches them (from the pod subnet, or an fwmark rule)",
                    metadata: ["family": "\(family.rawValue)"])
            }
        }
        return marks
    }

    /// The agent's steady state: renewals, lease snapshots, kernel events, periodic resync,
    /// readiness, each a named service of one `ServiceGroup` (nested in this one, because they
    /// start once the lease is held). The first to end (a lost lease, a failure, a stream that
    /// stopped) ends them all, and the group says which it was.
    private func runLoops(
        manager: LeaseManager?, reconciler: RouteReconciler, monitor: NetlinkMonitor, watcher: LeaseWatcher,
        datapath: (watcher: DatapathWatcher, events: NetlinkMonitor)?, neighbours: (watcher: NeighbourWatcher, events: NetlinkMonitor)?,
        peerHealth: PeerHealthParts?, syncConfig: RouteSyncConfig
    ) async throws {
        var services: [any Service] = []
        if let manager {
            // Renewals, and repairs of the own key when a snapshot shows it deleted or
            // overwritten: store failures are retried inside; only a lost lease ends them.
            let loops: [(String, @Sendable () async throws -> Void)] = [
                ("lease renewals", { try await manager.runRenewals() }), ("own key repairs", { try await manager.runFollowing() }),
            ]
            for (name, loop) in loops {
                services.append(
                    DaemonLoop(name) {
                        do {
                            try await loop()
                        } catch let e as LeaseError {
                            logger.critical("lease lost; exiting so the service manager restarts the agent; routes are left in place", metadata: ["error": "\(e)"])
                            throw DaemonExit(code: 75, message: "\(e)")
                        }
                    })
            }
            services.append(
                DaemonLoop("lease health") {
                    for await status in await manager.statusUpdates() { await recordLease(status) }
                })
        }
        services.append(
            DaemonLoop("lease snapshots") {
                // The datapath side follows each snapshot by what changed in it (issue 15: a lease
                // event at 5,000 peers costs its own gateways and targets, not 5,000 of them); the
                // first snapshot is a change from nothing.
                var peers = PeerDirectory(localSubnets: syncConfig.localSubnets, families: syncConfig.families)
                func follow(_ changes: PeerDirectoryChanges, of peers: PeerDirectory) async {
                    if changes.mtusChanged { await datapath?.watcher.setPeerMTUs(peers.mtus) }
                    if !changes.gateways.isEmpty { await datapath?.watcher.setPeerGateways(peers.gatewayCounts) }
                    await neighbours?.watcher.updateGateways(changes.gateways)
                    if !changes.addedTargets.isEmpty || !changes.removedTargets.isEmpty {
                        await peerHealth?.board.updateTargets(adding: changes.addedTargets, removing: changes.removedTargets)
                        await peerHealth?.prober?.updateTargets(adding: changes.addedTargets, removing: changes.removedTargets)
                    }
                }
                // Behind the named changes, as the reconciler's periodic resync is behind its own:
                // every 30 s (at the next snapshot) the directory is rebuilt from the leases it holds.
                var lastResync = ContinuousClock.now
                for await snapshot in watcher.snapshots() {
                    await state.set(invalidEntries: snapshot.skipped.count)
                    await reconciler.update(snapshot, localSubnets: syncConfig.localSubnets)
                    await manager?.observe(snapshot)
                    let podGateways = await reconciler.podGateways()
                    await follow(peers.update(snapshot, localPodGateways: podGateways), of: peers)
                    if ContinuousClock.now - lastResync >= .seconds(30) {
                        lastResync = .now
                        let missed = peers.resync()
                        if !missed.isEmpty {
                            logger.warning(
                                "peer directory was out of step with the leases; fixed",
                                metadata: ["targets": "+\(missed.addedTargets.count)/-\(missed.removedTargets.count)", "gateways": "\(missed.gateways.count)"])
                            await follow(missed, of: peers)
                        }
                    }
                }
            })
        services.append(DaemonLoop("kernel route events") { try await reconciler.consume(events: monitor) })
        if let datapath {
            services.append(
                DaemonLoop("datapath watcher") {
                    await datapath.watcher.run(events: datapath.events)
                    // The watcher only ends when cancelled or its notifications fail: the agent
                    // must not go on blind to forwarding.
                    try Task.checkCancellation()
                    throw DaemonExit(code: ExitStatus.software, message: "the datapath watcher stopped: NETCONF notifications failed")
                })
        }
        if let neighbours {
            services.append(
                DaemonLoop("neighbour watcher") {
                    await neighbours.watcher.run(events: neighbours.events)
                    try Task.checkCancellation()
                    throw DaemonExit(code: ExitStatus.software, message: "the neighbour watcher stopped: neighbour notifications failed")
                })
        }
        if let peerHealth {
            let board = peerHealth.board
            if let neighbours {
                services.append(DaemonLoop("neighbour verdicts") { for await entries in await neighbours.watcher.updates() { await board.update(neighbours: entries) } })
            }
            if let responder = peerHealth.responder, let prober = peerHealth.prober {
                services.append(responder)
                services.append(prober)
                services.append(DaemonLoop("probe verdicts") { for await change in await prober.stateChanges() { await board.update(probeChanges: change) } })
            }
            services.append(
                DaemonLoop("reachability health") {
                    let isolated = Gauge(label: "hostgw_node_isolated")
                    for await summary in await board.summaryUpdates() {
                        await health.reachability(summary)
                        isolated.record(summary.isolated ? 1 : 0)
                    }
                })
        }
        services.append(reconciler)
        services.append(DaemonLoop("readiness") { await watchProgress(reconciler) })
        services.append(
            DaemonLoop("lease feed health") {
                // A watch that keeps failing while the store answers leaves the agent deaf: health says so.
                for await feed in watcher.healthUpdates() { await health.leaseFeed(feed) }
            })
        defer {
            monitor.stop()
            datapath?.events.stop()
            neighbours?.events.stop()
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await group.run()
    }

    /// Picks the interface and public IP, acquires this node's lease and writes the subnet files.
    private func join(_ config: NetworkConfig) async throws -> (LeaseManager, Lease) {
        // Waits while the network is not up yet (InterfaceSelectionError.mayResolveItself), so an
        // exit 78 always means a setting to change.
        let chosen = try await retrying("pick the interface toward the other nodes (waiting for the network)") {
            try await pickInterface(config)
        }
        await state.set(interface: chosen)
        logger.info(
            "interface",
            metadata: ["iface": "\(chosen.link.name)", "publicIP": "\(chosen.publicIP?.description ?? "-")", "publicIPv6": "\(chosen.publicIPv6?.description ?? "-")"])

        let holder: LeaseHolder
        do {
            holder = try LeaseHolder.load(stateDirectory: settings.stateDir)
        } catch {
            throw DaemonExit(code: ExitStatus.software, message: "cannot keep this machine's lease holder id in \(settings.stateDir): \(error)")
        }
        let manager = LeaseManager(
            store: store, config: config,
            identity: NodeIdentity(
                nodeName: settings.nodeName, publicIP: chosen.publicIP, publicIPv6: chosen.publicIPv6, agentVersion: BuildInfo.version,
                holder: holder),
            options: LeaseOptions(keys: keys, ttl: settings.leaseTTL, stateDirectory: settings.stateDir),
            logger: logger)
        await state.set(leaseManager: manager)
        notifier.status("acquiring a subnet lease")
        let lease = try await retrying("acquire a subnet lease", maxDelay: .seconds(30)) { try await manager.acquire() }
        logger.notice(
            "lease acquired",
            metadata: ["subnet": "\(lease.subnet?.description ?? "-")", "ipv6Subnet": "\(lease.ipv6Subnet?.description ?? "-")", "reservation": "\(lease.isReservation)"])
        await recordLease(manager)

        let info = PodNetworkInfo(
            network: config.network, subnet: lease.subnet, ipv6Network: config.ipv6Network, ipv6Subnet: lease.ipv6Subnet,
            mtu: settings.mtu ?? chosen.link.mtu)
        try writeNodeFile(settings.subnetFile, setting: "subnet-file", renderSubnetEnv(info))
        if let path = settings.cniConflist { try writeNodeFile(path, setting: "cni-conflist", try renderCNIConflist(info)) }

        return (manager, lease)
    }

    /// One look at links, addresses and routes for the interface; a failure the network coming
    /// up cannot fix is a `DaemonExit` 78, any other is thrown to be retried.
    private func pickInterface(_ config: NetworkConfig) async throws -> SelectedInterface {
        let links = try await netlink.links()
        let addresses = try await netlink.addresses()
        let routes = try await netlink.routes(family: nil, table: RouteTableID.main, protocol: nil)
        // A Result, not do/catch: a typed-throws catch with a condition here sends Swift 6.3's
        // AllocBoxToStack pass into a loop (or a crash).
        let picked = Result { () throws(InterfaceSelectionError) in
            try selectInterface(
                settings.interface, publicIP: settings.publicIP, publicIPv6: settings.publicIPv6,
                needIPv4: config.enableIPv4, needIPv6: config.enableIPv6, links: links, addresses: addresses, routes: routes)
        }
        switch picked {
        case .success(let chosen):
            return chosen
        case .failure(let e) where e.mayResolveItself:
            throw e
        case .failure(let e):
            throw DaemonExit(code: ExitStatus.config, message: "cannot pick the interface toward the other nodes: \(e)")
        }
    }

    /// Marks the agent ready after the first full pass, then keeps health's reconcile time and
    /// sd_notify's STATUS fresh after every pass.
    private func watchProgress(_ reconciler: RouteReconciler) async {
        var announced = false
        for await status in await reconciler.statusUpdates() {
            guard let last = status.lastFullSync else { continue }
            await health.reconciled(at: last)
            let text = "routing \(status.peerCounts[.ok] ?? 0)/\(status.peers.count) peer routes ok, \(status.routesInstalled) installed"
            if !announced {
                announced = true
                await health.markReady()
                notifier.ready(status: text)
                logger.notice("ready: first full reconcile done", metadata: ["routes": "\(status.routesInstalled)", "peers": "\(status.peers.count)"])
            } else {
                notifier.status(text)
            }
        }
    }

    /// The status document `/status` serves, from the live state of every part.
    func statusReport(policy: HealthPolicy) async -> NodeStatusReport {
        let h = await health.snapshot
        let iface = await state.interface
        var lease: NodeStatusReport.LeaseReport?
        if let manager = await state.leaseManager, let held = await manager.lease {
            let s = await manager.status
            lease = .init(
                subnet: held.subnet, ipv6Subnet: held.ipv6Subnet, expiration: s.expiration ?? held.expiration,
                reservation: held.isReservation, lastRenewal: s.lastSuccess, renewalFailures: s.consecutiveFailures,
                lastError: s.lastError, holder: await manager.identity.holder?.description,
                repairs: Dictionary(uniqueKeysWithValues: OwnKeyRepair.Kind.allCases.map { ($0.rawValue, s.ownKeyRepairs[$0] ?? 0) }),
                lastRepair: s.lastOwnKeyRepair.map { NodeStatusReport.RepairReport(time: $0.time, kind: $0.kind.rawValue, found: $0.found) },
                nameClashes: s.nameClashes)
        }
        var sync = await state.reconciler?.status()
            ?? RouteSyncStatus(
                observeOnly: settings.observeOnly, peers: [], routesInstalled: 0, recentDrift: [], driftCounts: [:],
                peerCounts: [:], lastFullSync: nil, lastPassDurationSeconds: nil, lastPassError: nil, passes: 0)
        if let board = await state.reachability {
            let live = await state.prober?.stats()
            for i in sync.peers.indices {
                sync.peers[i].reachability = await board.reachability(leaseKey: sync.peers[i].leaseKey, family: sync.peers[i].family, live: live)
            }
        }
        var notes: [String] = []
        if settings.observeOnly { notes.append("observe-only: drift is reported, not repaired") }
        if role == .node, settings.probe == nil { notes.append("peer probes are off (--probe-port 0): reachability comes from neighbour entries only") }
        if let e = sync.lastPassError { notes.append("last reconcile pass failed: \(e)") }
        if lease == nil { notes.append("no lease yet: see the agent log for why") }
        for clash in lease?.nameClashes ?? [] {
            notes.append("another machine holds a lease under this node's name (\(clash)); each keeps its own subnet: give each machine its own --node-name")
        }
        if let h = sync.deletionHold {
            notes.append("\(h.subnets.count) peer route(s) kept after their leases vanished at once (mass deletion?) until \(isoTime(h.until)), while the nodes re-claim them")
        }
        return NodeStatusReport(
            generatedAt: Date(), node: settings.nodeName, agentRunning: true, agentVersion: BuildInfo.version,
            interface: iface?.link.name, publicIP: iface?.publicIP?.description, publicIPv6: iface?.publicIPv6?.description,
            lease: lease,
            store: .init(
                backend: storeSettings.summary, reachable: h.storeReachable, unreachableSince: h.storeUnreachableSince,
                lastError: h.storeLastError, invalidEntries: await state.invalidEntries, watchMember: store.watchStatus.member,
                watchLastHeard: store.watchStatus.lastHeard),
            ready: h.ready, healthProblems: healthProblems(h, policy: policy, now: Date()).map(\.description), routeSync: sync, notes: notes,
            datapath: await state.datapath?.report())
    }

    private func recordLease(_ manager: LeaseManager) async { await recordLease(await manager.status) }

    private func recordLease(_ s: RenewalStatus) async {
        await health.lease(expiration: s.expiration, renewalFailures: s.consecutiveFailures)
        if let exp = s.expiration {
            Gauge(label: "hostgw_lease_expiry_timestamp_seconds").record(exp.timeIntervalSince1970)
        }
    }

    /// Runs `body` until it succeeds, with exponential backoff; never gives up (the agent is
    /// useless without it, and restarting would not help). Each failure is logged and shown in
    /// sd_notify's STATUS. Waiting is progress, not a failure systemd should punish: every attempt
    /// is recorded in health (so the watchdog keeps being pinged while attempts keep coming) and,
    /// before READY=1, extends systemd's start timeout past the next attempt (EXTEND_TIMEOUT_USEC).
    /// A `DaemonExit` is not retried: it ends the process with its status.
    private func retrying<T: Sendable>(
        _ what: String, maxDelay: Duration = .seconds(10), _ body: () async throws -> T
    ) async throws -> T {
        var backoff = Backoff(initial: .milliseconds(200), maximum: maxDelay)
        while true {
            await health.progress(waitingFor: what)
            do {
                let value = try await body()
                await health.progress(waitingFor: nil)
                return value
            } catch {
                if error is DaemonExit { throw error }
                let delay = backoff.fail()
                let attempt = backoff.failures
                logger.warning("cannot \(what); retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)", "retryIn": "\(delay)"])
                notifier.status("cannot \(what) (attempt \(attempt)): \(error)")
                await health.progress(waitingFor: what, at: Date().addingTimeInterval(delay.seconds))
                if await !health.snapshot.ready {
                    // The wait, the next attempt (bounded by the store's request timeout) and a margin.
                    notifier.extendTimeout(by: delay + Self.startAttemptAllowance)
                }
                try await clock.sleep(for: delay)
            }
        }
    }

    /// How long one start-up attempt may take beyond its backoff wait, for EXTEND_TIMEOUT_USEC.
    static let startAttemptAllowance: Duration = .seconds(30)
}

/// Probes the store every few seconds so health knows whether it answers, whatever else the agent
/// is doing (the store itself keeps `hostgw_store_reachable` up to date on every request).
struct StoreProbe: Service {
    let store: any SubnetStore
    let health: AgentHealth
    let interval: Duration
    let logger: Logger
    var clock: any Clock<Duration> = ContinuousClock()

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await probe() }
    }

    private func probe() async throws {
        var wasReachable = true
        while !Task.isCancelled {
            do {
                try await store.checkHealth()
                await health.store(reachable: true)
                if !wasReachable { logger.notice("store reachable again", metadata: ["store": "\(store.name)"]) }
                wasReachable = true
            } catch {
                await health.store(reachable: false, error: "\(error)")
                if wasReachable {
                    logger.error("store unreachable; keeping every route, retrying", metadata: ["store": "\(store.name)", "error": "\(error)"])
                }
                wasReachable = false
            }
            try await clock.sleep(for: interval)
        }
    }
}

/// Pings systemd's watchdog while the agent is healthy, so a stuck agent gets restarted.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let health: AgentHealth
    let policy: HealthPolicy
    var clock: any Clock<Duration> = ContinuousClock()

    func run() async throws {
        // A service that returns ends the group: without a watchdog, just wait for shutdown.
        guard let interval = notifier.watchdogInterval else {
            try await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown { try await ping(every: interval) }
    }

    private func ping(every interval: Duration) async throws {
        while !Task.isCancelled {
            if watchdogShouldPing(await health.snapshot, policy: policy, now: Date()) { notifier.watchdog() }
            try await clock.sleep(for: interval)
        }
    }
}

/// The parts that judge whether this node reaches its peers: the board always (neighbour entries),
/// the responder and prober unless probes are off.
struct PeerHealthParts: Sendable {
    let board: PeerReachabilityBoard
    var responder: ProbeResponder?
    var prober: PeerProber?
}

/// One long-running loop of the daemon as a named service, so the group that runs it can say
/// which loop ended.
struct DaemonLoop: Service, CustomStringConvertible {
    let description: String
    let body: @Sendable () async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.description = name
        self.body = body
    }

    func run() async throws { try await body() }
}
