// This node's lease: acquire (reuse what we hold, else what we held before a reboot, else a
// random free subnet), keep it alive, release it on `leave`. A lost lease is reported loudly and
// never replaced silently: routes on every other node point at our subnet, and switching
// subnets under running pods would break them.
public import Foundation
public import Logging
public import Metrics
public import NetAddress

/// Who this node is, as written into its lease.
public struct NodeIdentity: Sendable, Hashable {
    public var nodeName: String
    public var publicIP: IPv4Address?
    public var publicIPv6: IPv6Address?
    public var agentVersion: String?
    /// Which machine this is (`LeaseHolder.load`); nil only in tests and tools that write no lease.
    public var holder: LeaseHolder?

    public init(
        nodeName: String, publicIP: IPv4Address?, publicIPv6: IPv6Address? = nil, agentVersion: String? = nil, holder: LeaseHolder? = nil
    ) {
        self.nodeName = nodeName
        self.publicIP = publicIP
        self.publicIPv6 = publicIPv6
        self.agentVersion = agentVersion
        self.holder = holder
    }
}

public struct LeaseOptions: Sendable, Hashable {
    public var keys: LeaseKeys
    public var ttl: Duration
    /// How often a held lease is renewed; nil means a third of the TTL.
    public var renewInterval: Duration?
    /// Where `lease.json` (the subnet to ask for again after a reboot) lives.
    public var stateDirectory: String
    public var retryInitial: Duration
    public var retryMax: Duration
    /// The retry schedule of renewals and own-key repairs.
    public var retry: Backoff { Backoff(initial: retryInitial, maximum: retryMax) }

    public init(
        keys: LeaseKeys = LeaseKeys(), ttl: Duration = .seconds(24 * 3600), renewInterval: Duration? = nil,
        stateDirectory: String = "/var/lib/hostgw", retryInitial: Duration = .seconds(1), retryMax: Duration = .seconds(60)
    ) {
        self.keys = keys
        self.ttl = ttl
        self.renewInterval = renewInterval
        self.stateDirectory = stateDirectory
        self.retryInitial = retryInitial
        self.retryMax = retryMax
    }

    public var effectiveRenewInterval: Duration { renewInterval ?? ttl / 3 }
    public var stateFile: String { (stateDirectory as NSString).appendingPathComponent("lease.json") }
}

public enum LeaseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every subnet of the pool is leased.
    case poolFull(pool: String, size: UInt64)
    /// Our lease key is gone, expired, or now belongs to another node. The agent must exit.
    case leaseLost(key: String, reason: String)
    /// An operation that needs a lease ran before `acquire()`.
    case notAcquired
    /// The node identity lacks an address the network config needs.
    case missingPublicIP(family: IPFamily)

    public var description: String {
        switch self {
        case .poolFull(let pool, let size):
            "subnet pool full: all \(size) subnets of \(pool) are leased; remove stale leases (`hostgw leases`) or widen the network"
        case .leaseLost(let key, let reason):
            "lease lost: \(key): \(reason); the node's pod routes elsewhere are gone or wrong; restart the agent to acquire again"
        case .notAcquired:
            "no lease held: acquire() first"
        case .missingPublicIP(let family):
            "no public \(family.label) address for this node, but the network enables \(family.rawValue); set the node's public IP"
        }
    }
}

/// Renewal health, for the agent's status endpoint and metrics.
public struct RenewalStatus: Sendable, Hashable {
    public var key: String?
    public var isReservation: Bool
    public var lastSuccess: Date?
    public var consecutiveFailures: Int
    public var expiration: Date?
    public var lastError: String?
    /// How often the own key was found deleted or overwritten and what was done, by kind.
    public var ownKeyRepairs: [OwnKeyRepair.Kind: Int] = [:]
    public var lastOwnKeyRepair: OwnKeyRepair?
    /// Other machines holding a lease under this node's name (each "node N at IP, holder H").
    public var nameClashes: [String] = []

    public init(key: String? = nil, isReservation: Bool = false, lastSuccess: Date? = nil, consecutiveFailures: Int = 0, expiration: Date? = nil, lastError: String? = nil) {
        self.key = key
        self.isReservation = isReservation
        self.lastSuccess = lastSuccess
        self.consecutiveFailures = consecutiveFailures
        self.expiration = expiration
        self.lastError = lastError
    }
}

/// One repair of the own key, for status.
public struct OwnKeyRepair: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        /// The key was gone and was created again with the same subnet.
        case recreated
        /// The key held a foreign value and got this node's value back.
        case restored
        /// Another hostgw agent holds the key; this agent gave it up (and exits).
        case yielded
    }

    public var time: Date
    public var kind: Kind
    /// What was found in the key.
    public var found: String

    public init(time: Date, kind: Kind, found: String) {
        self.time = time
        self.kind = kind
        self.found = found
    }
}

/// What `lease.json` remembers across reboots.
struct LeaseStateFile: Codable, Sendable, Hashable {
    var subnet: IPPrefix?
    var ipv6Subnet: IPPrefix?
    var nodeName: String
}

public actor LeaseManager {
    public let store: any SubnetStore
    public let config: NetworkConfig
    public let identity: NodeIdentity
    public let options: LeaseOptions
    private let logger: Logger
    private let clock: any Clock<Duration>
    private let now: @Sendable () -> Date
    private let decoder: LeaseDecoder
    /// Where lease.json is written through (tests record or fail the calls).
    private let fileSystem: any DurableFileSystem

    private var held: StoreEntry?
    private var heldLease: Lease?
    /// The own key and the stamp of the last snapshot `observe` judged (see `LeaseSnapshot.changes`).
    private var lastObserved: (key: String, stamp: LeaseSnapshot.Stamp)?
    public private(set) var status = RenewalStatus() {
        didSet {
            guard status != oldValue else { return }
            statusBroadcast.publish(status)
        }
    }
    private let statusBroadcast = Broadcast<RenewalStatus>()

    /// `status` now, then on every change (renewals, failures, repairs); the newest replaces one
    /// not yet read. What the agent's health and expiry gauge follow, without polling.
    public func statusUpdates() -> AsyncStream<RenewalStatus> { statusBroadcast.subscribe(current: status) }
    private let metricsFactory: any MetricsFactory
    /// Wakes `runFollowing()` when a snapshot shows the own key changed.
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// `clock` paces renewals and retries; `now` stamps status (both injectable for tests).
    public init(
        store: any SubnetStore, config: NetworkConfig, identity: NodeIdentity, options: LeaseOptions = LeaseOptions(),
        logger: Logger, clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = { Date() },
        metricsFactory: any MetricsFactory = MetricsSystem.factory, fileSystem: any DurableFileSystem = POSIXFileSystem()
    ) {
        self.fileSystem = fileSystem
        self.store = store
        self.config = config
        self.identity = identity
        self.options = options
        self.logger = logger
        self.clock = clock
        self.now = now
        self.metricsFactory = metricsFactory
        decoder = LeaseDecoder(config: config, keys: options.keys)
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public var lease: Lease? { heldLease }

    // MARK: publish

    /// What this node publishes with its lease; the agent sets it on change.
    private var report = NodeReport()

    /// Publishes `report` with the lease: one compare-and-swap of the own key when it differs from
    /// what the key holds, none otherwise (never a write per call). The etcd lease (TTL) stays
    /// attached. A reservation (the operator's key) is never written. When the write fails it is
    /// retried at the next renewal.
    public func publish(_ report: NodeReport) async throws {
        self.report = report
        try await flushReport()
    }

    /// Whether the own key carries the current report.
    public var reportPublished: Bool { heldLease.map { $0.isReservation || $0.attributes.published == report } ?? false }

    private func flushReport() async throws {
        for _ in 0..<3 {
            guard let entry = held, let lease = heldLease, !lease.isReservation, lease.attributes.published != report else { return }
            if let swapped = try await store.compareAndSwap(entry, value: try encodedAttributes()) {
                _ = hold(swapped, lease: self.lease(from: swapped, template: lease))
                return
            }
            // The key changed under us: the own-key rules look at it (and restore it if needed).
            _ = try await repairUntilSettled(attempts: 3)
        }
    }

    // MARK: acquire

    /// Acquires this node's lease: the one it holds (or a reservation for its IP), else the subnet in
    /// `lease.json` if free, else a random free subnet. Throws `LeaseError.poolFull` when none is free.
    public func acquire() async throws -> Lease {
        if config.enableIPv4, identity.publicIP == nil { throw LeaseError.missingPublicIP(family: .v4) }
        if config.enableIPv6, identity.publicIPv6 == nil { throw LeaseError.missingPublicIP(family: .v6) }
        let value = try encodedAttributes()
        // A lease found but lost between read and refresh sends us round again; bounded.
        for _ in 0..<5 {
            let listing = try await store.range(prefix: options.keys.subnets)
            switch try await adoptExisting(listing, value: value) {
            case .adopted(let lease): return lease
            case .changed: continue
            case .none: break
            }
            if let remembered = try await claimRemembered(listing, value: value) { return remembered }
            return try await claimRandom(listing, value: value)
        }
        throw StoreError.conflict(key: options.keys.subnets, message: "this node's lease kept changing while it was being adopted")
    }

    private enum Adoption {
        case none
        case adopted(Lease)
        /// Our key changed between the read and the write: read again.
        case changed
    }

    private func adoptExisting(_ listing: RangeResult, value: Data) async throws -> Adoption {
        let snapshot = decoder.snapshot(entries: listing.entries, revision: listing.revision)
        let entriesByKey = Dictionary(listing.entries.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let reservation = snapshot.leases.first { $0.isReservation && ownsByAddress($0) }
        let remembered = rememberedKey()
        let leases = snapshot.leases.filter { !$0.isReservation }
        // The lease carrying this machine's holder first: after a name clash two leases bear our name.
        let ours = reservation
            ?? leases.first { $0.attributes.holder != nil && $0.attributes.holder == identity.holder }
            ?? leases.first { ownership($0, remembered) == .mine }
        noteNameClashes(in: leases, remembered: remembered, announce: true)
        guard let ours, let entry = entriesByKey[options.keys.key(for: ours)] else { return .none }
        if ours.isReservation {
            logger.info("using the reservation for this node", metadata: ["subnet": "\(ours.key)"])
            return .adopted(hold(entry, lease: ours))
        }
        var current = entry
        if ours.attributes != desiredAttributes {
            guard let swapped = try await store.compareAndSwap(entry, value: value) else { return .changed }
            current = swapped
        }
        guard let refreshed = try await store.refresh(current, ttl: options.ttl) else { return .changed }
        logger.info("reusing this node's lease", metadata: ["subnet": "\(ours.key)"])
        try writeState(ours)
        return .adopted(hold(refreshed, lease: lease(from: refreshed, template: ours)))
    }

    private func claimRemembered(_ listing: RangeResult, value: Data) async throws -> Lease? {
        guard let state = readState(), state.nodeName == identity.nodeName else { return nil }
        if config.enableIPv4 != (state.subnet != nil) || config.enableIPv6 != (state.ipv6Subnet != nil) { return nil }
        for s in [state.subnet, state.ipv6Subnet].compactMap({ $0 }) where !config.contains(leaseSubnet: s) {
            logger.info("remembered subnet no longer fits the network config", metadata: ["subnet": "\(s)"])
            return nil
        }
        let used = occupancy(listing)
        for s in [state.subnet, state.ipv6Subnet].compactMap({ $0 }) {
            if let i = poolIndex(of: s), used[s.family]?.contains(i) ?? false { return nil }
        }
        let key = options.keys.key(subnet: state.subnet, ipv6Subnet: state.ipv6Subnet)
        guard let entry = try await store.create(key: key, value: value, ttl: options.ttl) else { return nil }
        guard try await yieldToOlderClaim(entry) == nil else { return nil }
        logger.info("acquired the remembered subnet again", metadata: ["subnet": "\(entry.key)"])
        let lease = Lease(subnet: state.subnet, ipv6Subnet: state.ipv6Subnet, attributes: desiredAttributes, expiration: entry.expiration)
        try writeState(lease)
        return hold(entry, lease: lease)
    }

    private func claimRandom(_ listing: RangeResult, value: Data) async throws -> Lease {
        var used = occupancy(listing)
        var generator = SystemRandomNumberGenerator()
        while true {
            try Task.checkCancellation()
            var chosen: [IPFamily: IPPrefix] = [:]
            for family in IPFamily.allCases where config.network(for: family) != nil {
                guard let index = used[family]?.randomFree(using: &generator), let pick = config.poolSubnet(index, family: family) else {
                    throw LeaseError.poolFull(pool: config.poolDescription(for: family), size: config.poolSize(for: family))
                }
                chosen[family] = pick
            }
            let key = options.keys.key(subnet: chosen[.v4], ipv6Subnet: chosen[.v6])
            if let entry = try await store.create(key: key, value: value, ttl: options.ttl) {
                if let clash = try await yieldToOlderClaim(entry) {
                    // Gave way to an older claim on one of the subnets: pick again without it.
                    used = occupancy(try await store.range(prefix: options.keys.subnets))
                    for s in chosen.values { mark(s, in: &used) }
                    for s in ClaimCheck.subnets(of: clash.key, prefix: options.keys.subnets) ?? [] { mark(s, in: &used) }
                    continue
                }
                let lease = Lease(subnet: chosen[.v4], ipv6Subnet: chosen[.v6], attributes: desiredAttributes, expiration: entry.expiration)
                logger.info("acquired a new subnet", metadata: ["subnet": "\(lease.key)"])
                try writeState(lease)
                return hold(entry, lease: lease)
            }
            // Lost the race: read again rather than guess, so a crowd of nodes starting at
            // once converges in a few rounds and a full pool is reported at once.
            used = occupancy(try await store.range(prefix: options.keys.subnets))
            for s in chosen.values { mark(s, in: &used) }
        }
    }

    /// Checks a claim just written against every other key (`ClaimCheck`). Returns the older key
    /// it clashed with after deleting the claim, or nil when the claim stands.
    private func yieldToOlderClaim(_ entry: StoreEntry) async throws -> StoreEntry? {
        let listing = try await store.range(prefix: options.keys.subnets)
        guard let older = ClaimCheck.olderClash(
            claim: entry, entries: listing.entries, prefix: options.keys.subnets, isValid: { config.problem(withLeaseSubnet: $0) == nil }) else { return nil }
        logger.info("an older lease holds a subnet of this claim; giving way", metadata: ["claim": "\(entry.key)", "older": "\(older.key)"])
        _ = try await store.compareAndDelete(entry)
        return older
    }

    /// The index of pool subnet `s` (0 at SubnetMin), or nil when `s` is not one.
    private func poolIndex(of s: IPPrefix) -> UInt64? {
        guard let net = config.network(for: s.family), let range = config.poolRange(for: s.family), s.length == config.subnetLength(for: s.family),
            let i = net.index(of: s), range.contains(i)
        else { return nil }
        return i - range.lowerBound
    }

    /// The taken part of each family's pool: every subnet named by a key under the prefix, valid
    /// lease or not (a malformed value still marks its subnet taken, so we never claim over it),
    /// and every pool subnet a key of another length overlaps. One interval per key.
    private func occupancy(_ listing: RangeResult) -> [IPFamily: PoolOccupancy] {
        var used: [IPFamily: PoolOccupancy] = [:]
        for family in IPFamily.allCases where config.network(for: family) != nil {
            used[family] = PoolOccupancy(size: config.poolSize(for: family))
        }
        for entry in listing.entries where entry.key.hasPrefix(options.keys.subnets) {
            guard let parsed = Lease.parseKey(String(entry.key.dropFirst(options.keys.subnets.count))) else { continue }
            for s in [parsed.subnet, parsed.ipv6Subnet].compactMap({ $0 }) { mark(s, in: &used) }
        }
        return used
    }

    /// Marks every pool subnet `s` covers as taken: a longer prefix sits in one, a shorter one
    /// spans 2^(length - prefix length) of them (or the whole network). One interval per prefix.
    private func mark(_ s: IPPrefix, in used: inout [IPFamily: PoolOccupancy]) {
        let family = s.family
        guard let net = config.network(for: family), let pool = config.poolRange(for: family), net.overlaps(s) else { return }
        let length = config.subnetLength(for: family)
        // The covered pool subnets, as network indices.
        let covered: ClosedRange<UInt64>
        if s.length >= length {
            guard let p = IPPrefix(address: s.address, length: length), let i = net.index(of: p) else { return }
            covered = i...i
        } else if s.contains(net) {
            covered = 0...UInt64.max
        } else {
            guard let p = IPPrefix(address: s.address, length: length), let first = net.index(of: p) else { return }
            let bits = length - s.length
            let span = bits >= 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
            let (last, overflow) = first.addingReportingOverflow(span)
            covered = first...(overflow ? UInt64.max : last)
        }
        guard covered.upperBound >= pool.lowerBound, covered.lowerBound <= pool.upperBound else { return }
        let lo = max(covered.lowerBound, pool.lowerBound) - pool.lowerBound
        let hi = min(covered.upperBound, pool.upperBound) - pool.lowerBound
        used[family]?.mark(lo...hi)
    }

    // MARK: renew

    /// Renews the held lease once. Throws `LeaseError.leaseLost` when it is gone or not ours,
    /// a `StoreError` when the store can not be reached.
    @discardableResult
    public func renew() async throws -> Lease {
        guard let entry = held, let lease = heldLease else { throw LeaseError.notAcquired }
        do {
            let refreshed = try await store.refresh(entry, ttl: options.ttl)
            let renewed: Lease
            if let refreshed, held == entry, ownKeyAction(for: refreshed) == .keep {
                renewed = self.lease(from: refreshed, template: lease)
                _ = hold(refreshed, lease: renewed)
            } else if held != entry, let current = heldLease {
                // The own-key watch replaced the key meanwhile; that incarnation is the one to keep.
                renewed = current
            } else {
                // Gone, re-created by someone else, or overwritten: the same repair as the watch's.
                renewed = try await repairUntilSettled(attempts: 3)
            }
            status.lastSuccess = now()
            status.consecutiveFailures = 0
            status.lastError = nil
            if !reportPublished {
                do { try await flushReport() } catch {
                    logger.warning("publishing this node's report with its lease failed; retrying at the next renewal", metadata: ["key": "\(entry.key)", "error": "\(error)"])
                }
            }
            return heldLease ?? renewed
        } catch let error as LeaseError {
            status.lastError = error.description
            logger.error("lease lost", metadata: ["key": "\(entry.key)", "error": "\(error)"])
            throw error
        } catch {
            status.consecutiveFailures += 1
            status.lastError = "\(error)"
            throw error
        }
    }

    /// Renews on schedule until cancelled, retrying failures with backoff. Returns only by
    /// cancellation; throws `LeaseError.leaseLost` when the lease is lost or expired while the
    /// store was unreachable.
    public func runRenewals() async throws {
        guard held != nil else { throw LeaseError.notAcquired }
        var delay = options.effectiveRenewInterval
        while true {
            try await clock.sleep(for: delay)
            do {
                try await renew()
                delay = options.effectiveRenewInterval
            } catch let error as LeaseError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if let expiration = status.expiration, now() >= expiration, let key = held?.key {
                    let lost = LeaseError.leaseLost(key: key, reason: "expired at \(expiration) while the store was unreachable (\(error))")
                    status.lastError = lost.description
                    throw lost
                }
                delay = options.retry.delay(afterFailures: status.consecutiveFailures)
                logger.warning(
                    "lease renewal failed, retrying",
                    metadata: ["key": "\(held?.key ?? "")", "failures": "\(status.consecutiveFailures)", "retry_in": "\(delay)", "error": "\(error)"])
            }
        }
    }

    // MARK: own key

    /// The own-key hook: the agent passes every lease snapshot it gets. Cheap while the key holds
    /// this node's value; when it is gone or overwritten, wakes `runFollowing()`, which repairs it.
    public func observe(_ snapshot: LeaseSnapshot) {
        guard let key = held?.key, let lease = heldLease, !lease.isReservation else { return }
        // Name clashes change only with a lease under this node's name: a snapshot that names
        // its changes since the last one seen (for the same own key) is judged by those, not by
        // comparing the name of every lease in it.
        let named = lastObserved?.key == key ? snapshot.changes(after: lastObserved?.stamp) : nil
        lastObserved = snapshot.stamp.map { (key, $0) }
        let name = identity.nodeName
        if named?.contains(where: { $0.before?.attributes.nodeName == name || $0.after?.attributes.nodeName == name }) != false {
            noteNameClashes(in: snapshot.leases, remembered: key, announce: false)
        }
        let observed: OwnKeyObservation
        // By subnets, not by building every lease's key: a snapshot may hold thousands.
        if let found = snapshot.leases.first(where: { $0.subnet == lease.subnet && $0.ipv6Subnet == lease.ipv6Subnet }) {
            observed = .value(found.attributes, hasTTL: found.expiration != nil)
        } else if let skipped = snapshot.skipped.first(where: { $0.key == key }) {
            observed = .unreadable(reason: skipped.reason)
        } else {
            observed = .absent
        }
        if OwnKeyAction.decide(observed, own: desiredAttributes, isReservation: false) != .keep { wake.yield() }
    }

    /// Repairs the own key each time `observe` saw it deleted or overwritten (store failures are
    /// retried with backoff), until cancelled. Throws `LeaseError.leaseLost` when another hostgw
    /// agent holds the key.
    public func runFollowing() async throws {
        guard held != nil else { throw LeaseError.notAcquired }
        for await _ in wakeups {
            var backoff = options.retry
            while true {
                do {
                    _ = try await repairUntilSettled(attempts: 5)
                    break
                } catch let error as LeaseError {
                    throw error
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    let delay = backoff.fail()
                    logger.warning(
                        "repairing this node's lease failed, retrying",
                        metadata: ["key": "\(held?.key ?? "")", "retry_in": "\(delay)", "error": "\(error)"])
                    try await clock.sleep(for: delay)
                }
            }
        }
        throw CancellationError()
    }

    /// Looks at the own key in the store and acts on it until it holds this node's value.
    private func repairUntilSettled(attempts: Int) async throws -> Lease {
        guard let key = held?.key else { throw LeaseError.notAcquired }
        for _ in 0..<attempts {
            if let lease = try await repairOnce() { return lease }
        }
        throw StoreError.conflict(key: key, message: "this node's lease kept changing while it was being repaired")
    }

    /// One read of the own key and one action; nil when the key changed under the action (look again).
    private func repairOnce() async throws -> Lease? {
        guard let entry = held, let lease = heldLease else { throw LeaseError.notAcquired }
        let current = try await store.get(key: entry.key)
        switch ownKeyAction(for: current) {
        case .keep:
            guard let current else { return lease }
            if current.createRevision == entry.createRevision && current.modRevision == entry.modRevision { return lease }
            // Another incarnation with our value (a concurrent repair of ours): hold that one.
            guard let refreshed = try await store.refresh(current, ttl: options.ttl) else { return nil }
            return hold(refreshed, lease: self.lease(from: refreshed, template: lease))
        case .recreate:
            guard let created = try await store.create(key: entry.key, value: try encodedAttributes(), ttl: options.ttl) else { return nil }
            recordRepair(.recreated, found: "the key was gone", key: entry.key)
            return hold(created, lease: self.lease(from: created, template: lease))
        case .restore(let found):
            // Delete and create rather than swap the value: a fresh key carries our own TTL (an
            // `etcdctl put` detaches the key from our etcd lease, and a swap would keep it detached).
            guard let current, try await store.compareAndDelete(current) else { return nil }
            guard let created = try await store.create(key: entry.key, value: try encodedAttributes(), ttl: options.ttl) else { return nil }
            recordRepair(.restored, found: found, key: entry.key)
            return hold(created, lease: self.lease(from: created, template: lease))
        case .yield(let holder):
            recordRepair(.yielded, found: holder, key: entry.key)
            let lost = LeaseError.leaseLost(key: entry.key, reason: "another hostgw agent holds it: \(holder)")
            status.lastError = lost.description
            throw lost
        }
    }

    private func ownKeyAction(for entry: StoreEntry?) -> OwnKeyAction {
        let observed: OwnKeyObservation
        switch entry {
        case .none:
            observed = .absent
        case .some(let e):
            switch decoder.decode(e) {
            case .lease(let l): observed = .value(l.attributes, hasTTL: e.hasTTL)
            case .skipped(let s): observed = .unreadable(reason: s.reason)
            }
        }
        return OwnKeyAction.decide(observed, own: desiredAttributes, isReservation: heldLease?.isReservation ?? false)
    }

    private func recordRepair(_ kind: OwnKeyRepair.Kind, found: String, key: String) {
        status.ownKeyRepairs[kind, default: 0] += 1
        status.lastOwnKeyRepair = OwnKeyRepair(time: now(), kind: kind, found: found)
        Counter(label: "hostgw_lease_repairs_total", dimensions: [("kind", kind.rawValue)], factory: metricsFactory).increment()
        switch kind {
        case .recreated: logger.warning("this node's lease was deleted; created it again with the same subnet", metadata: ["key": "\(key)"])
        case .restored: logger.warning("this node's lease was overwritten; wrote its own value back", metadata: ["key": "\(key)", "found": "\(found)"])
        case .yielded: logger.error("another hostgw agent holds this node's lease key; giving it up", metadata: ["key": "\(key)", "holder": "\(found)"])
        }
    }

    /// Leases under this node's name that another machine holds: kept in status and a gauge,
    /// logged when acquiring (`announce`), so two machines sharing a name are visible on both.
    private func noteNameClashes(in leases: [Lease], remembered: String?, announce: Bool) {
        let clashes = leases.filter { $0.attributes.nodeName == identity.nodeName && ownership($0, remembered) == .sameNameOtherMachine }
            .map { "\(options.keys.key(for: $0)): \(OwnKeyAction.describe($0.attributes))\($0.attributes.holder.map { ", holder \($0)" } ?? "")" }
        if announce {
            for clash in clashes {
                logger.warning(
                    "another machine holds a lease under this node's name; leaving it alone and leasing a subnet of its own: give each machine its own --node-name",
                    metadata: ["node": "\(identity.nodeName)", "other": "\(clash)"])
            }
        }
        if clashes != status.nameClashes {
            status.nameClashes = clashes
            Gauge(label: "hostgw_lease_name_clashes", factory: metricsFactory).record(clashes.count)
        }
    }

    private func ownership(_ lease: Lease, _ remembered: String?) -> LeaseOwnership {
        LeaseOwnership.of(lease.attributes, key: options.keys.key(for: lease), for: identity, remembered: remembered)
    }

    /// The key `lease.json` remembers for this node name, if any.
    private func rememberedKey() -> String? {
        guard let state = readState(), state.nodeName == identity.nodeName else { return nil }
        return options.keys.key(subnet: state.subnet, ipv6Subnet: state.ipv6Subnet)
    }

    // MARK: release

    /// Gives the held lease up: deletes the key, drops its TTL, forgets `lease.json`.
    /// A reservation is left in place. Returns true when a key was deleted.
    @discardableResult
    public func release() async throws -> Bool {
        guard let entry = held, let lease = heldLease else { throw LeaseError.notAcquired }
        defer {
            held = nil
            heldLease = nil
        }
        return try await release(lease, entry: entry)
    }

    /// Gives up `lease`, found by a reader rather than acquired (`hostgw leave`, with the agent
    /// stopped): the same steps as `release()`. Returns false for a reservation (left in place)
    /// and for a key that is already gone.
    @discardableResult
    public func release(_ lease: Lease) async throws -> Bool {
        guard let entry = try await store.get(key: options.keys.key(for: lease)) else {
            try? FileManager.default.removeItem(atPath: options.stateFile)
            return false
        }
        return try await release(lease, entry: entry)
    }

    private func release(_ lease: Lease, entry: StoreEntry) async throws -> Bool {
        try? FileManager.default.removeItem(atPath: options.stateFile)
        if lease.isReservation {
            logger.info("leaving a reservation in place", metadata: ["key": "\(entry.key)"])
            return false
        }
        // Renewed since it was read (same incarnation, newer modRevision): still ours to delete.
        var deleted = try await store.compareAndDelete(entry)
        if !deleted, let current = try await store.get(key: entry.key), current.createRevision == entry.createRevision {
            deleted = try await store.compareAndDelete(current)
        }
        logger.info("released lease", metadata: ["key": "\(entry.key)", "deleted": "\(deleted)"])
        return deleted
    }

    // MARK: helpers

    private var desiredAttributes: LeaseAttributes {
        LeaseAttributes(
            publicIP: config.enableIPv4 ? identity.publicIP : nil, publicIPv6: config.enableIPv6 ? identity.publicIPv6 : nil,
            backendType: config.backendType, nodeName: identity.nodeName, agentVersion: identity.agentVersion, holder: identity.holder,
            published: report)
    }

    private func encodedAttributes() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(desiredAttributes)
    }

    private func ownsByAddress(_ lease: Lease) -> Bool {
        if let ip = lease.attributes.publicIP, let mine = identity.publicIP { return ip == mine }
        if let ip = lease.attributes.publicIPv6, let mine = identity.publicIPv6 { return ip == mine }
        return false
    }

    private func lease(from entry: StoreEntry, template: Lease) -> Lease {
        var lease = template
        if case .lease(let decoded) = decoder.decode(entry) { lease = decoded }
        lease.expiration = entry.hasTTL ? entry.expiration : nil
        return lease
    }

    private func hold(_ entry: StoreEntry, lease: Lease) -> Lease {
        held = entry
        heldLease = lease
        status.key = entry.key
        status.isReservation = lease.isReservation
        status.expiration = lease.expiration
        if status.lastSuccess == nil || status.consecutiveFailures == 0 { status.lastSuccess = now() }
        return lease
    }

    /// The remembered subnet, or nil. A missing, empty or torn file (a power loss while it was
    /// first written on a file system without ordered writes) means "nothing remembered".
    private func readState() -> LeaseStateFile? {
        guard let data = FileManager.default.contents(atPath: options.stateFile) else { return nil }
        if data.isEmpty {
            logger.warning("ignoring an empty lease state file (torn by a crash or power loss?)", metadata: ["path": "\(options.stateFile)"])
            return nil
        }
        do {
            return try JSONDecoder().decode(LeaseStateFile.self, from: data)
        } catch {
            logger.warning("ignoring unreadable lease state file", metadata: ["path": "\(options.stateFile)", "error": "\(error)"])
            return nil
        }
    }

    /// Durably (DurableFile: fsync of the file and its directory), so after a power loss the
    /// file holds the old or the new subnet, never nothing.
    private func writeState(_ lease: Lease) throws {
        let state = LeaseStateFile(subnet: lease.subnet, ipv6Subnet: lease.ipv6Subnet, nodeName: identity.nodeName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try DurableFile.replace(options.stateFile, with: try encoder.encode(state), using: fileSystem)
    }
}
