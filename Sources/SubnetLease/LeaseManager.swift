// This node's lease: acquire (reuse what we hold, else what we held before a reboot, else a
// random free subnet), keep it alive, release it on `leave`. A lost lease is reported loudly and
// never replaced silently: routes on every other node point at our subnet, and switching
// subnets under running pods would break them.
public import Foundation
public import Logging
public import NetAddress

/// Who this node is, as written into its lease.
public struct NodeIdentity: Sendable, Hashable {
    public var nodeName: String
    public var publicIP: IPv4Address?
    public var publicIPv6: IPv6Address?
    public var agentVersion: String?

    public init(nodeName: String, publicIP: IPv4Address?, publicIPv6: IPv6Address? = nil, agentVersion: String? = nil) {
        self.nodeName = nodeName
        self.publicIP = publicIP
        self.publicIPv6 = publicIPv6
        self.agentVersion = agentVersion
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
            "no public \(family == .v4 ? "IPv4" : "IPv6") address for this node, but the network enables \(family.rawValue); set the node's public IP"
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

    public init(key: String? = nil, isReservation: Bool = false, lastSuccess: Date? = nil, consecutiveFailures: Int = 0, expiration: Date? = nil, lastError: String? = nil) {
        self.key = key
        self.isReservation = isReservation
        self.lastSuccess = lastSuccess
        self.consecutiveFailures = consecutiveFailures
        self.expiration = expiration
        self.lastError = lastError
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
    public private(set) var status = RenewalStatus()

    /// `clock` paces renewals and retries; `now` stamps status (both injectable for tests).
    public init(
        store: any SubnetStore, config: NetworkConfig, identity: NodeIdentity, options: LeaseOptions = LeaseOptions(),
        logger: Logger, clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = { Date() },
        fileSystem: any DurableFileSystem = POSIXFileSystem()
    ) {
        self.fileSystem = fileSystem
        self.store = store
        self.config = config
        self.identity = identity
        self.options = options
        self.logger = logger
        self.clock = clock
        self.now = now
        decoder = LeaseDecoder(config: config, keys: options.keys)
    }

    public var lease: Lease? { heldLease }

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
        let ours = reservation ?? snapshot.leases.first { !$0.isReservation && owns($0) }
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
                let lease = Lease(subnet: chosen[.v4], ipv6Subnet: chosen[.v6], attributes: desiredAttributes, expiration: entry.expiration)
                logger.info("acquired a new subnet", metadata: ["subnet": "\(lease.key)"])
                try writeState(lease)
                return hold(entry, lease: lease)
            }
            // Lost the race: read again rather than guess, so a crowd of nodes starting at
            // once converges in a few rounds and a full pool is reported at once.
            used = occupancy(try await store.range(prefix: options.keys.subnets))
            for s in chosen.values { if let i = poolIndex(of: s) { used[s.family]?.mark(i) } }
        }
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
            for s in [parsed.subnet, parsed.ipv6Subnet].compactMap({ $0 }) {
                let family = s.family
                guard let net = config.network(for: family), let pool = config.poolRange(for: family), net.overlaps(s) else { continue }
                let length = config.subnetLength(for: family)
                // The pool subnets the key covers, as network indices: a longer key sits in one,
                // a shorter one spans 2^(length - key length) of them (or the whole network).
                let covered: ClosedRange<UInt64>
                if s.length >= length {
                    guard let p = IPPrefix(address: s.address, length: length), let i = net.index(of: p) else { continue }
                    covered = i...i
                } else if s.contains(net) {
                    covered = 0...UInt64.max
                } else {
                    guard let p = IPPrefix(address: s.address, length: length), let first = net.index(of: p) else { continue }
                    let bits = length - s.length
                    let span = bits >= 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
                    let (last, overflow) = first.addingReportingOverflow(span)
                    covered = first...(overflow ? UInt64.max : last)
                }
                guard covered.upperBound >= pool.lowerBound, covered.lowerBound <= pool.upperBound else { continue }
                let lo = max(covered.lowerBound, pool.lowerBound) - pool.lowerBound
                let hi = min(covered.upperBound, pool.upperBound) - pool.lowerBound
                used[family]?.mark(lo...hi)
            }
        }
        return used
    }

    // MARK: renew

    /// Renews the held lease once. Throws `LeaseError.leaseLost` when it is gone or not ours,
    /// a `StoreError` when the store can not be reached.
    @discardableResult
    public func renew() async throws -> Lease {
        guard let entry = held, let lease = heldLease else { throw LeaseError.notAcquired }
        do {
            guard let refreshed = try await store.refresh(entry, ttl: options.ttl) else {
                throw LeaseError.leaseLost(key: entry.key, reason: "the key is gone, expired, or was re-created by someone else")
            }
            if case .lease(let current) = decoder.decode(refreshed), !ownsByAddress(current) && !owns(current) {
                throw LeaseError.leaseLost(key: entry.key, reason: "the key now names \(current.attributes.nodeName ?? current.attributes.publicIP?.description ?? "another node")")
            }
            let renewed = self.lease(from: refreshed, template: lease)
            _ = hold(refreshed, lease: renewed)
            status.lastSuccess = now()
            status.consecutiveFailures = 0
            status.lastError = nil
            return renewed
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
                let backoff = options.retryInitial * (1 << min(status.consecutiveFailures - 1, 16))
                delay = min(backoff, options.retryMax)
                logger.warning(
                    "lease renewal failed, retrying",
                    metadata: ["key": "\(held?.key ?? "")", "failures": "\(status.consecutiveFailures)", "retry_in": "\(delay)", "error": "\(error)"])
            }
        }
    }

    // MARK: release

    /// Gives the lease up (`hostgw leave`): deletes the key, drops its TTL, forgets `lease.json`.
    /// A reservation is left in place. Returns true when a key was deleted.
    @discardableResult
    public func release() async throws -> Bool {
        guard let entry = held, let lease = heldLease else { throw LeaseError.notAcquired }
        defer {
            held = nil
            heldLease = nil
        }
        try? FileManager.default.removeItem(atPath: options.stateFile)
        if lease.isReservation {
            logger.info("leaving a reservation in place", metadata: ["key": "\(entry.key)"])
            return false
        }
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
            backendType: config.backendType, nodeName: identity.nodeName, agentVersion: identity.agentVersion)
    }

    private func encodedAttributes() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(desiredAttributes)
    }

    /// A lease is ours by node name, or by public IP when it carries no node name (flanneld's).
    private func owns(_ lease: Lease) -> Bool {
        if let name = lease.attributes.nodeName { return name == identity.nodeName }
        return ownsByAddress(lease)
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
