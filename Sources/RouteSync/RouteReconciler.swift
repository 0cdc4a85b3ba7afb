// The reconcile loop: lease snapshots, kernel events and a periodic timer all trigger the same
// full pass (dump -> desired -> plan -> apply -> drift). Notifications are lossy by design, so a
// pass never trusts an event's content, only that something changed. Passes run inside the
// reconciler's `run()` (a swift-service-lifecycle `Service`) or a caller's `sync()`.
public import Foundation
public import Logging
public import Metrics
public import NetAddress
public import Netlink
public import ServiceLifecycle
public import SubnetLease

/// Why a pass ran; carried into logs and the pass report.
public enum ReconcileTrigger: String, Sendable, Hashable {
    case startup, leases, kernelEvent = "kernel-event", overrun, periodic, manual
}

/// What one pass did, for callers that drive passes themselves (tests, `hostgw run --once`).
public struct PassReport: Sendable {
    public var trigger: ReconcileTrigger
    public var plan: RoutePlan
    /// Parallel to `plan.changes`; empty when nothing was applied (observe-only or empty plan).
    public var results: [Result<Void, NetlinkError>]
    public var drift: [DriftEvent]
    public var peers: [PeerStatus]
    public var duration: Duration
    /// False for a lease pass that planned against the reconciler's `KernelView` (the last dump
    /// plus its own changes since) instead of dumping the table.
    public var dumped: Bool = true
    /// Set when the pass failed as a whole (reading the kernel, or a batch that failed outside
    /// netlink); nothing was applied or remembered then.
    public var error: PassError?
}

/// The result of `RouteRemoval.removeAll(from:table:protocol:)`.
public struct RouteRemoval: Sendable {
    public var removed: [Route]
    /// Routes that were gone by the time the delete reached the kernel (ESRCH, ENOENT): the goal
    /// of a delete, not a failure.
    public var alreadyGone: [Route] = []
    public var failures: [(route: Route, error: NetlinkError)]

    /// Deletes every route of `protocol` in `table`: the one way hostgw's routes are taken out
    /// (`hostgw leave`, and the reconciler's `removeAll`).
    public static func removeAll(
        from kernel: any RouteTableAccess, table: UInt32, protocol routeProtocol: RouteProtocol, batchSize: Int = 256, logger: Logger
    ) async throws -> RouteRemoval {
        let ours = try await kernel.routes(family: nil, table: table, protocol: routeProtocol)
            .filter { $0.protocol == routeProtocol && $0.table == table }
        var removal = RouteRemoval(removed: [], failures: [])
        guard !ours.isEmpty else { return removal }
        let results = try await kernel.apply(ours.map { RouteChange(.delete, $0) }, batchSize: batchSize)
        for (route, result) in zip(ours, results) {
            switch result {
            case .success:
                removal.removed.append(route)
            case .failure(let error) where error.errno == .ESRCH || error.errno == .ENOENT:
                removal.alreadyGone.append(route)
            case .failure(let error):
                removal.failures.append((route, error))
                logger.info(
                    "could not remove route", metadata: ["route": "\(route)", "errno": "\(error.errno.name)", "error": "\(error)"])
            }
        }
        return removal
    }
}

/// Keeps the kernel's hostgw routes equal to the peers' leases. One pass in flight, at most one
/// queued: a burst of triggers costs at most two passes.
public actor RouteReconciler: Service {
    private var config: RouteSyncConfig
    private let kernel: any RouteTableAccess
    private let logger: Logger
    private let clock: any Clock<Duration>
    private let now: @Sendable () -> Date
    private var metrics: RouteSyncMetrics

    /// nil until the first lease snapshot: a pass before it would take every route for stale.
    private var leases: [Lease]?
    private var memory = DriftMemory()
    private var peers: [PeerStatus] = []
    private var lastLinks: [Link] = []
    private var lastAddresses: [InterfaceAddress] = []
    private var drift: [DriftEvent] = []
    private var driftCounts: [DriftKind: Int] = [:]
    private var lastFullSync: Date?
    private var lastPassDuration: Duration?
    private var lastPassError: String?
    private var passes = 0
    private var lastReport: PassReport?
    private var hold: MassDeletionHold
    /// The last snapshot as the store had it (`leases` adds the held ones), and its stamp.
    private var storeLeases: [Lease] = []
    private var lastStamp: LeaseSnapshot.Stamp?
    /// `DesiredRoutes` of `leases` as of the last pass that built or updated it, kept current
    /// across lease-only changes (issue 15); nil until a pass builds it, and after a pass that
    /// did not finish.
    private var desiredIndex: DesiredRoutesIndex?
    /// How `leases` changed since `desiredIndex` was last brought up to date.
    private var leaseChanges: LeaseChanges = [:]
    /// A lease snapshot came since the last pass and `peers` does not show it yet (see `update`).
    private var peersPreviewDue = false
    /// The conflicts of the last pass that finished: a pass judging some subnets only keeps the
    /// others'.
    private var lastConflicts: [RouteConflict] = []
    /// The changes of the batch in flight, by destination (see `isOwnEcho`).
    private var applying: [IPPrefix: [RouteChange]] = [:]

    /// The trigger of the next pass, if one is due: every trigger that arrives before that pass
    /// starts joins it (the pass dumps the table if any of them needs it, see `needsDump`).
    private var queued: ReconcileTrigger?
    /// Whether a trigger since the last pass needs the table dumped (anything but a lease change).
    private var needsDump = true
    /// The table as of the last dump plus this reconciler's changes since; nil until the first
    /// full pass and after any pass whose outcome in the kernel is not known.
    private var view: KernelView?
    /// A `drain()` is running passes (inside `run()` or `sync()`); at most one at a time.
    private var draining = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Wakes `run()` when a pass is queued; the newest wake-up is enough.
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// The mass-deletion hold's remaining time, for `run()`'s hold timer.
    private let holdDeadlines: AsyncStream<Duration>
    private let armHold: AsyncStream<Duration>.Continuation
    private let statusBroadcast = Broadcast<RouteSyncStatus>()
    private var pacer: PassPacer
    private var driftLog: DriftLogSummary

    /// - Parameters:
    ///   - kernel: a `NetlinkClient` in production.
    ///   - clock: drives the periodic resync; tests inject a manual clock.
    ///   - metricsFactory: nil uses the bootstrapped `MetricsSystem.factory`.
    ///   - now: wall-clock time for drift events, lease expiry and the last-sync timestamp.
    public init(
        config: RouteSyncConfig, kernel: any RouteTableAccess, logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(), metricsFactory: (any MetricsFactory)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.config = config
        self.kernel = kernel
        self.logger = logger
        self.clock = clock
        self.now = now
        self.metrics = RouteSyncMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        pacer = PassPacer(clock: clock)
        driftLog = DriftLogSummary(clock: clock)
        self.hold = MassDeletionHold(grace: config.deletionGrace, clock: clock)
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (holdDeadlines, armHold) = AsyncStream.makeStream(of: Duration.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Inputs

    /// A new lease snapshot (every lease in the store, this node's included) and this node's own
    /// subnets. Triggers a pass.
    public func update(leases: [Lease], localSubnets: [IPPrefix]) {
        update(LeaseSnapshot(revision: 0, leases: leases, skipped: []), localSubnets: localSubnets)
    }

    /// `update(leases:localSubnets:)` with a watcher's snapshot: when it follows the last one
    /// given directly, its changes are the ones it names (no walk of every lease).
    public func update(_ snapshot: LeaseSnapshot, localSubnets: [IPPrefix]) {
        let leases = snapshot.leases
        let changes = LeaseChanges.following(snapshot, after: lastStamp, from: storeLeases)
        lastStamp = snapshot.stamp
        storeLeases = leases
        config.localSubnets = localSubnets
        self.leases = admit(leases, changes: changes)
        // Peers not yet through a pass show as pending, the others keep their last state: worked
        // out when someone looks (`status()`), not on every snapshot (at 5,000 peers that was a
        // second judgement of every lease per lease event).
        peersPreviewDue = true
        trigger(.leases)
    }

    /// `peers` as `update` leaves them: a peer whose lease is new, or changed its gateway, shows
    /// as pending until a pass judges it.
    private func previewPeers() {
        guard peersPreviewDue, let leases else { return }
        peersPreviewDue = false
        let preview = DesiredRoutes(leases: validLeases(leases), config: config, links: lastLinks, addresses: lastAddresses)
        // By subnet and lease key: two leases claiming one subnet are two peers, and the one
        // that gives way is not new because the other one was looked up first.
        struct Slot: Hashable {
            var subnet: IPPrefix
            var leaseKey: String
        }
        let previous = Dictionary(peers.map { (Slot(subnet: $0.subnet, leaseKey: $0.leaseKey), $0) }, uniquingKeysWith: { a, _ in a })
        peers = preview.peers.map { peer in
            guard let old = previous[Slot(subnet: peer.subnet, leaseKey: peer.leaseKey)], old.gateway == peer.gateway else {
                var fresh = peer
                fresh.state = .pending
                fresh.reason = nil
                return fresh
            }
            return old
        }
    }

    /// The last pass's peers whose kernel error a pass of `desired` carries over: what
    /// `previewPeers` keeps of them (a peer whose subnet, lease key and gateway are the same),
    /// without judging every lease again.
    private func carriedPeers(_ desired: DesiredRoutes) -> [PeerStatus] {
        guard peersPreviewDue else { return peers }
        var kept: [PeerStatus] = []
        for old in peers where old.lastError != nil || old.lastErrno != nil {
            var at = desired.peers.firstIndex(notBefore: { $0.subnet < old.subnet })
            while at < desired.peers.count, desired.peers[at].subnet == old.subnet {
                if desired.peers[at].gateway == old.gateway && desired.peers[at].leaseKey == old.leaseKey {
                    kept.append(old)
                    break
                }
                at += 1
            }
        }
        return kept
    }

    /// A kernel notification. Route events this agent caused itself are ignored; everything else
    /// in hostgw's table, and every link or address change, triggers a pass.
    public func handle(_ event: NetlinkEvent) {
        switch event {
        case .routeAdded(let route):
            guard route.table == config.table else { return }
            if route.protocol == config.routeProtocol, let known = memory.routes[route.destination],
                routeMatches(route, known)
            {
                return
            }
            if isOwnEcho(route, of: [.add, .replace]) { return }
            trigger(.kernelEvent)
        case .routeRemoved(let route):
            guard route.table == config.table else { return }
            if route.protocol == config.routeProtocol, memory.routes[route.destination] == nil { return }
            if isOwnEcho(route, of: [.delete]) { return }
            trigger(.kernelEvent)
        case .linkChanged, .linkRemoved, .addressAdded, .addressRemoved:
            trigger(.kernelEvent)
        case .netconfChanged, .neighbourChanged, .neighbourRemoved:
            return  // forwarding settings and neighbours are the datapath's watchers', not the routes'
        case .overrun:
            logger.info("netlink notifications lost (ENOBUFS), resyncing the whole table")
            trigger(.overrun)
        }
    }

    /// True when `route`'s event is the kernel telling of a change this reconciler is applying
    /// right now (its batch is out, `memory` not updated yet): without this, every lease pass's
    /// own changes came back as a kernel event whose pass dumped and judged the whole table.
    private func isOwnEcho(_ route: Route, of kinds: Set<RouteChange.Kind>) -> Bool {
        guard route.protocol == config.routeProtocol, let changes = applying[route.destination] else { return false }
        return changes.contains { kinds.contains($0.kind) && routeMatches(route, $0.route) }
    }

    /// Feeds a monitor's events into `handle(_:)` until the sequence ends or the task is cancelled.
    public func consume<Events: AsyncSequence & Sendable>(events: Events) async throws
    where Events.Element == NetlinkEvent {
        for try await event in events {
            if Task.isCancelled { return }
            handle(event)
        }
    }

    /// The reconciler as a service: the startup pass, then every pass a trigger queues, a full
    /// pass every `resyncPeriod`, and the end of a mass-deletion hold, until the task is
    /// cancelled. A pass in flight finishes; routes stay in place when it returns. Without
    /// `run()`, triggers wait for `sync()`. Run it once.
    public func run() async throws {
        trigger(.startup)
        let period = config.resyncPeriod
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tick(every: period) }
            group.addTask { await self.holdTimer() }
            for await _ in wakeups {
                if !draining { await drain() }
            }
            group.cancelAll()
        }
    }

    private func tick(every period: Duration) async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: period) } catch { return }
            trigger(.periodic)
        }
    }

    /// Sleeps out each hold the snapshots arm, then re-admits the last snapshot: the held routes
    /// go if their leases are still gone.
    private func holdTimer() async {
        for await wait in holdDeadlines {
            do { try await clock.sleep(for: wait) } catch { return }
            holdDue()
        }
    }

    /// Runs a pass now (or joins the one running and the one it queues) and returns the report
    /// of the last pass once the reconciler is idle. Nil before the first lease snapshot.
    @discardableResult
    public func sync() async -> PassReport? {
        trigger(.manual)
        if draining {
            await withCheckedContinuation { idleWaiters.append($0) }
        } else {
            await drain()
        }
        return lastReport
    }

    /// True while a pass is running or queued: what a test checks to show a trigger was ignored.
    public var isBusy: Bool { draining || queued != nil }

    /// The status after every pass, starting with the current one; ends when the caller stops
    /// iterating. The newest status replaces one not yet read.
    public func statusUpdates() -> AsyncStream<RouteSyncStatus> { statusBroadcast.subscribe(current: status()) }

    // MARK: Output

    public func status() -> RouteSyncStatus { status(preview: true) }

    private func status(preview: Bool) -> RouteSyncStatus {
        if preview { previewPeers() }
        var peerCounts: [PeerState: Int] = Dictionary(uniqueKeysWithValues: PeerState.allCases.map { ($0, 0) })
        for peer in peers { peerCounts[peer.state, default: 0] += 1 }
        return RouteSyncStatus(
            observeOnly: config.observeOnly, peers: peers, routesInstalled: memory.routes.count, recentDrift: drift,
            driftCounts: Dictionary(uniqueKeysWithValues: DriftKind.allCases.map { ($0, driftCounts[$0] ?? 0) }),
            peerCounts: peerCounts, lastFullSync: lastFullSync,
            lastPassDurationSeconds: lastPassDuration.map(\.seconds),
            lastPassError: lastPassError, passes: passes, deletionHold: holdStatus())
    }

    /// The link `index` as the last pass saw it (its MTU for the datapath watcher).
    public func link(index: UInt32) -> Link? { lastLinks.first { $0.index == index } }

    /// This node's own addresses inside its pod subnets (the CNI bridge's gateway), per family.
    public func podGateways() -> [IPFamily: IPAddress] {
        PeerDirectory.localPodGateways(localSubnets: config.localSubnets, addresses: lastAddresses)
    }

    /// The interfaces hostgw's installed routes of `family` leave by (index -> name), as of the
    /// last pass: what the datapath watcher judges rp_filter against.
    public func routeInterfaces(family: IPFamily) -> [UInt32: String] {
        PeerDirectory.interfaces(of: memory.routes.values, family: family, links: lastLinks)
    }

    // MARK: Mass-deletion hold

    /// The snapshot's leases plus the peers whose deletion `hold` keeps back; logs each hold once
    /// and wakes a pass when it runs out. `changes`: how `leases` differ from the last snapshot
    /// admitted. Notes how the admitted leases changed, for the next pass.
    private func admit(_ leases: [Lease], changes: LeaseChanges) -> [Lease] {
        let heldBefore = hold.heldLeases
        let decision = hold.admit(leases, changes: changes, localSubnets: config.localSubnets)
        var admitted = changes
        let heldAfter = hold.heldLeases
        for id in Set(heldBefore.keys).union(heldAfter.keys) { admitted[id] = .some(heldAfter[id] ?? (changes[id] ?? nil)) }
        leaseChanges.merge(admitted)
        switch decision.event {
        case .started(let held, let peers)?:
            logger.warning(
                "\(held) of \(peers) peer leases vanished at once; keeping their routes while the nodes re-claim them",
                metadata: ["held": "\(held)", "grace": "\(hold.grace)"])
        case .expired(let removed)?:
            logger.warning("mass-deletion hold ran out; removing the routes of leases still gone", metadata: ["removed": "\(removed)"])
        case .resolved?:
            logger.notice("every held peer lease is back; mass-deletion hold ended")
        case nil:
            break
        }
        metrics.deletionHold(held: hold.status?.held.count ?? 0, started: decision.event?.isStart ?? false)
        // A timer still sleeping toward an earlier wait only wakes a re-admission early: the
        // hold itself decides, on the clock, whether it ran out.
        if let wait = hold.remaining { armHold.yield(wait) }
        return decision.leases
    }

    private func holdDue() {
        leases = admit(storeLeases, changes: [:])
        trigger(.leases)
    }

    private func holdStatus() -> DeletionHoldStatus? {
        guard let s = hold.status else { return nil }
        let time = now()
        return DeletionHoldStatus(
            subnets: s.held.flatMap { [$0.subnet, $0.ipv6Subnet].compactMap { $0 } },
            since: time.addingTimeInterval(-Double(s.since.components.seconds)),
            until: time.addingTimeInterval(Double(s.until.components.seconds)))
    }

    // MARK: Passes

    private func trigger(_ reason: ReconcileTrigger) {
        if queued == nil { queued = reason }
        // Only a lease change leaves the kernel as the reconciler knows it; every other trigger
        // (a kernel event, an overrun, the periodic resync, start-up, a manual sync) dumps.
        if reason != .leases { needsDump = true }
        wake.yield()
    }

    /// Runs queued passes until none is left. Triggers arriving while a kernel-event pass waits
    /// (PassPacer) or runs join the next pass.
    private func drain() async {
        draining = true
        while let reason = queued {
            let wait = pacer.delay(for: reason)
            if wait > .zero { try? await clock.sleep(for: wait) }
            pacer.passStarted()
            queued = nil
            let dump = needsDump || view == nil
            needsDump = false
            // The last report's peers would make the pass's change to them a copy of every one.
            lastReport = nil
            if let report = await pass(reason, dump: dump) {
                lastReport = report
                publish()
            }
        }
        draining = false
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// The status after a pass, as the pass left it: no preview of a snapshot that came in the
    /// meantime (at 5,000 peers that is a judgement of every lease, and the pass it queued
    /// publishes again right after).
    private func publish() {
        guard statusBroadcast.hasSubscribers else { return }
        statusBroadcast.publish(status(preview: false))
    }

    /// Every lease in the snapshot. Expiry is the store's job: etcd deletes a key when its lease
    /// expires and the embedded store purges it, each with a delete event that arrives here as a
    /// new snapshot. The expiry a snapshot carries can be stale (an etcd keep-alive renews a lease
    /// without a watch event), so judging it here would drop live peers' routes.
    private func validLeases(_ leases: [Lease]) -> [Lease] { leases }

    /// One pass: read the kernel (dump it, or take the `KernelView` when `dump` is false), plan,
    /// apply, remember, report.
    private func pass(_ reason: ReconcileTrigger, dump: Bool) async -> PassReport? {
        guard let leases else { return nil }
        let config = self.config
        let started = ContinuousClock.now
        // Taken out for the pass: a pass that does not finish leaves it nil, and the next one
        // builds it again. Lease changes from here on are the next pass's.
        var index = desiredIndex
        desiredIndex = nil
        let changes = leaseChanges
        leaseChanges = [:]
        var actual: [Route] = []
        let links: [Link]
        let addresses: [InterfaceAddress]
        var known = dump ? nil : view
        if known != nil {
            links = lastLinks
            addresses = lastAddresses
        } else {
            do {
                actual = try await kernel.routes(family: nil, table: config.table, protocol: nil).filter { $0.table == config.table }
                links = try await kernel.links()
                addresses = try await kernel.addresses(family: nil)
            } catch let error as NetlinkError {
                return failed(reason, .readKernel(error), started: started)
            } catch {
                return failed(reason, .other(step: PassError.readKernelStep, text: "\(error)"), started: started)
            }
            lastLinks = links
            lastAddresses = addresses
        }
        let dumped = dump || self.view == nil

        // A lease-only pass updates the last DesiredRoutes with the changed leases; any other
        // (a pass that dumps the table, so every periodic resync too) judges every lease.
        var touched: Set<IPPrefix>?
        if known != nil, index?.judges(config: config, links: links, addresses: addresses) == true { touched = index?.update(changes) }
        if touched == nil {
            index = DesiredRoutesIndex(leases: validLeases(leases), config: config, links: links, addresses: addresses)
        }
        let desired = index?.desired ?? DesiredRoutes(leases: validLeases(leases), config: config, links: links, addresses: addresses)
        // And when the last pass's every change reached the kernel (else there is no view), only
        // the peers at the subnets those leases touch are judged again: everywhere else the
        // plan is empty, the conflicts are the last pass's and nothing is drift. Observe-only
        // plans every unrepaired route on every pass, so it judges all of them.
        let judged = config.observeOnly || known == nil ? nil : touched
        let judgement: PeerJudgement
        if let judged, let known {
            actual = known.routes(at: judged, orNot: config.routeProtocol)
            judgement = PeerJudgement(
                desired: desired, at: judged, conflicts: lastConflicts, config: config, actual: actual, links: links, memory: memory)
        } else {
            if let known { actual = known.all }
            judgement = PeerJudgement(desired: desired, config: config, actual: actual, links: links, memory: memory)
        }
        let routePlan = judgement.plan
        let previous = carriedPeers(desired)

        var results: [Result<Void, NetlinkError>] = []
        var batchFailed = false
        if !config.observeOnly && !routePlan.changes.isEmpty {
            do {
                applying = Dictionary(grouping: routePlan.changes, by: \.route.destination)
                defer { applying = [:] }
                results = try await kernel.apply(routePlan.changes, batchSize: config.batchSize)
            } catch let failure as NetlinkError {
                // The batch never reached the kernel: every change failed, but it is one error.
                metrics.netlinkError(failure.errno)
                batchFailed = true
                results = routePlan.changes.map { _ in .failure(failure) }
            } catch {
                // Not netlink's failure (so no errno): the pass fails as a whole, as a dump
                // failure does, and the next pass tries again.
                return failed(reason, .other(step: PassError.sendBatchStep, text: "\(error)"), started: started)
            }
        }
        // Observe-only applies nothing: the view is what was read.
        // Changed in place: a copy of a 5,000-route view per lease event is not free.
        var next: KernelView? = dumped ? KernelView(dump: actual) : view
        view = nil
        known = nil
        if !config.observeOnly, next?.apply(routePlan.changes, results: results) == false { next = nil }
        view = next
        let adoptions = Dictionary(routePlan.adoptions.map { ($0.desired.destination, $0) }, uniquingKeysWith: { a, _ in a })
        for (change, result) in zip(routePlan.changes, results) {
            switch result {
            case .success:
                metrics.changed(change.kind)
                if change.kind == .replace, let adoption = adoptions[change.route.destination] {
                    metrics.adopted(from: adoption.foreign.protocol)
                    logger.info(
                        "route adopted",
                        metadata: [
                            "subnet": "\(change.route.destination)", "from": "\(render(adoption.foreign, links))",
                            "route": "\(render(change.route, links))",
                        ])
                }
                logger.debug("route changed", metadata: ["op": "\(change.kind.rawValue)", "route": "\(render(change.route, links))"])
            case .failure(let error):
                if !batchFailed { metrics.netlinkError(error.errno) }
                logger.info(
                    "route change failed",
                    metadata: [
                        "op": "\(change.kind.rawValue)", "route": "\(render(change.route, links))",
                        "errno": "\(error.errno.name)", "error": "\(error)",
                    ])
            }
        }
        memory.update(actual: actual, plan: routePlan, results: results, protocol: config.routeProtocol, at: judged)
        lastConflicts = routePlan.conflicts

        let time = now()
        let events = judgement.driftEvents(results: results, time: time)
        record(events)
        if let judged {
            // The peers elsewhere are as the last pass (or the preview since) left them.
            let changed = judgement.peers(at: judged, results: results, unapplied: .observeOnly, previous: previous)
            var next = peers
            peers = []
            next.replace(at: judged, with: changed, by: \.subnet)
            peers = next
        } else {
            peers = judgement.peers(results: results, unapplied: .observeOnly, previous: previous)
        }
        peersPreviewDue = false
        desiredIndex = index

        passes += 1
        let duration = ContinuousClock.now - started
        lastPassDuration = duration
        lastPassError = nil
        metrics.passDuration(duration)
        // Only a pass that read the whole table is a full sync: lease passes alone must not keep
        // health's "reconcile stuck" quiet while the periodic resync no longer happens.
        if dumped {
            lastFullSync = time
            metrics.fullSync(at: time.timeIntervalSince1970)
        }
        metrics.installed(memory.routes.count)
        var counts: [PeerState: Int] = [:]
        for peer in peers { counts[peer.state, default: 0] += 1 }
        metrics.peers(counts)
        if !routePlan.changes.isEmpty || !events.isEmpty {
            logger.debug(
                "reconcile pass",
                metadata: [
                    "trigger": "\(reason.rawValue)", "changes": "\(routePlan.changes.count)", "drift": "\(events.count)",
                    "duration": "\(duration)", "dumped": "\(dumped)", "judged": "\(judged.map { "\($0.count) subnet(s)" } ?? "all")",
                ])
        }
        return PassReport(
            trigger: reason, plan: routePlan, results: results, drift: events, peers: peers, duration: duration, dumped: dumped,
            error: nil)
    }

    /// A pass that failed as a whole: counted, logged and shown in status; nothing remembered.
    private func failed(_ reason: ReconcileTrigger, _ error: PassError, started: ContinuousClock.Instant) -> PassReport {
        view = nil
        previewPeers()
        if let netlink = error.netlinkError { metrics.netlinkError(netlink.errno) }
        lastPassError = error.description
        logger.info("reconcile pass failed", metadata: ["trigger": "\(reason.rawValue)", "error": "\(error)"])
        passes += 1
        let duration = ContinuousClock.now - started
        lastPassDuration = duration
        metrics.passDuration(duration)
        return PassReport(trigger: reason, plan: RoutePlan(), results: [], drift: [], peers: peers, duration: duration, error: error)
    }

    private func record(_ events: [DriftEvent]) {
        for event in events {
            driftCounts[event.kind, default: 0] += 1
            metrics.drift(event.kind)
            guard driftLog.admit(.init(subnet: event.subnet, kind: event.kind)) else { continue }
            logger.info(
                "route drift",
                metadata: [
                    "drift": "\(event.kind.rawValue)", "subnet": "\(event.subnet)", "peer": "\(event.peer ?? "-")",
                    "gateway": "\(event.gateway?.description ?? "-")", "expected": "\(event.expected ?? "-")",
                    "actual": "\(event.actual ?? "-")", "repaired": "\(event.repaired)",
                ])
        }
        for r in driftLog.due() {
            logger.info(
                "route drift repeated",
                metadata: ["drift": "\(r.key.kind.rawValue)", "subnet": "\(r.key.subnet)", "count": "\(r.count)", "interval": "\(driftLog.interval)"])
        }
        drift.append(contentsOf: events)
        let limit = max(config.driftHistoryLimit, 0)
        if drift.count > limit { drift.removeFirst(drift.count - limit) }
    }
}

/// A route as `ip route` would print it, with link names instead of indexes.
func render(_ route: Route, _ links: [Link]) -> String {
    guard let index = route.outputInterface, let link = links.first(where: { $0.index == index }) else {
        return route.description
    }
    return route.description.replacingOccurrences(of: "dev#\(index)", with: "dev \(link.name)")
}
