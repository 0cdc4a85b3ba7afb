// Turning raw store entries into leases. Anything under the prefix that is not a valid lease of
// this network is skipped and reported, never treated as absent data: one bad key must not look
// like "no peers" and make the agent delete every route.
import Foundation
import Metrics
import Logging
public import NetAddress

/// Why a key under the subnets prefix is not a usable lease. The raw value is the `reason` label
/// of `hostgw_store_invalid_entries_total` (dashboards and alerts use it): never rename one.
public enum SkipCategory: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The key is not a subnet key of this prefix.
    case key
    /// The value is not lease JSON, or lacks the public IP its subnet needs.
    case value
    /// The subnet is not a lease subnet of the network config.
    case network
    /// Another lease holds the subnet (`SubnetClaims`).
    case overlap
    /// The lease lacks a family the network config enables.
    case family

    public var description: String { rawValue }
}

/// A key under the subnets prefix that is not a usable lease, and why.
public struct SkippedEntry: Sendable, Hashable {
    public var key: String
    public var reason: String
    public var category: SkipCategory

    public init(key: String, reason: String, category: SkipCategory) {
        self.key = key
        self.reason = reason
        self.category = category
    }
}

/// Every lease at one store revision.
///
/// A watcher's snapshot also says which snapshot it follows and how its leases differ from it
/// (`stamp`, `changes`), so a consumer that saw that one follows a lease event by the leases it
/// names instead of comparing every lease of both (issue 15: at 5,000 peers the comparisons were
/// a tenth of the agent's CPU per update). Equality and hashing are by content: the revision,
/// the leases and the skipped entries.
public struct LeaseSnapshot: Sendable, Hashable {
    public var revision: Int64
    public var leases: [Lease]
    public var skipped: [SkippedEntry]
    /// Which snapshot of which watcher this is; nil for one made by hand or by a listing.
    public var stamp: Stamp?
    /// How `leases` differ from the snapshot `changes.base` (the watcher's previous one); nil
    /// when not known (the first snapshot, a re-list), and then a consumer compares.
    public var changes: Changes?

    /// One snapshot of one watcher run: the run's random id and the snapshot's number in it.
    public struct Stamp: Sendable, Hashable {
        public var feed: UInt64
        public var sequence: UInt64

        public init(feed: UInt64, sequence: UInt64) {
            self.feed = feed
            self.sequence = sequence
        }
    }

    /// A lease as it was in the base snapshot and as it is now, by store key: nil where it is
    /// not (a new key, a deleted one, a lease now skipped or a lease no longer skipped).
    public struct Change: Sendable, Hashable {
        public var before: Lease?
        public var after: Lease?

        public init(before: Lease?, after: Lease?) {
            self.before = before
            self.after = after
        }
    }

    /// Every lease that differs from the base snapshot (`before != after`), in no order.
    public struct Changes: Sendable, Hashable {
        public var base: Stamp
        public var leases: [Change]

        public init(base: Stamp, leases: [Change]) {
            self.base = base
            self.leases = leases
        }
    }

    public init(revision: Int64, leases: [Lease], skipped: [SkippedEntry], stamp: Stamp? = nil, changes: Changes? = nil) {
        self.revision = revision
        self.leases = leases
        self.skipped = skipped
        self.stamp = stamp
        self.changes = changes
    }

    public static func == (a: LeaseSnapshot, b: LeaseSnapshot) -> Bool {
        a.revision == b.revision && a.leases == b.leases && a.skipped == b.skipped
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(revision)
        hasher.combine(leases)
        hasher.combine(skipped)
    }

    /// The changes from the snapshot stamped `previous` to this one, when this one names them
    /// (it follows `previous` directly); nil otherwise.
    public func changes(after previous: Stamp?) -> [Change]? {
        guard let previous, let changes, changes.base == previous else { return nil }
        return changes.leases
    }
}

extension LeaseSnapshot {
    /// The order of a snapshot's leases: by subnet (the IPv4 one when a lease has both), then by
    /// key.
    public static func isOrdered(_ a: Lease, before b: Lease) -> Bool {
        switch (a.subnet ?? a.ipv6Subnet, b.subnet ?? b.ipv6Subnet) {
        case (let x?, let y?) where x != y: x < y
        default: a.key < b.key
        }
    }
}

/// Key layout under the store prefix (flannel's).
public struct LeaseKeys: Sendable, Hashable {
    public var prefix: String

    public static let defaultPrefix = "/coreos.com/network"

    public init(prefix: String = LeaseKeys.defaultPrefix) {
        var p = prefix
        while p.hasSuffix("/") && p.count > 1 { p.removeLast() }
        self.prefix = p
    }

    public var config: String { prefix + "/config" }
    public var subnets: String { prefix + "/subnets/" }
    public func key(for lease: Lease) -> String { subnets + lease.key }
    public func key(subnet: IPPrefix?, ipv6Subnet: IPPrefix?) -> String { subnets + Lease.key(subnet: subnet, ipv6Subnet: ipv6Subnet) }
}

/// Decodes store entries against the network config.
struct LeaseDecoder: Sendable {
    let config: NetworkConfig
    let keys: LeaseKeys

    enum Decoded: Sendable {
        case lease(Lease)
        case skipped(SkippedEntry)
    }

    enum KeyDecoded: Sendable {
        case subnets(subnet: IPPrefix?, ipv6Subnet: IPPrefix?)
        case skipped(SkippedEntry)
    }

    func decode(_ entry: StoreEntry) -> Decoded { decode(entry, key: decodeKey(entry)) }

    /// The entry whose key decoded as `key`; the value is read only for a valid lease key.
    func decode(_ entry: StoreEntry, key: KeyDecoded) -> Decoded {
        switch key {
        case .skipped(let skipped): .skipped(skipped)
        case .subnets(let subnet, let ipv6Subnet): decodeValue(entry, (subnet, ipv6Subnet))
        }
    }

    /// The claim of an entry whose key decoded as `key`: nil unless it is a valid lease key.
    static func claim(_ entry: StoreEntry, key: KeyDecoded) -> SubnetClaims.Claim? {
        guard case .subnets(let subnet, let ipv6Subnet) = key else { return nil }
        return SubnetClaims.Claim(key: entry.key, createRevision: entry.createRevision, subnets: [subnet, ipv6Subnet].compactMap { $0 })
    }

    /// The key alone: a subnet key of this prefix whose subnets the network config allows.
    func decodeKey(_ entry: StoreEntry) -> KeyDecoded {
        guard entry.key.hasPrefix(keys.subnets) else {
            return .skipped(.init(key: entry.key, reason: "key is outside \(keys.subnets)", category: .key))
        }
        let suffix = String(entry.key.dropFirst(keys.subnets.count))
        guard let parsed = Lease.parseKey(suffix) else {
            return .skipped(.init(key: entry.key, reason: "key is not a subnet key such as 10.244.3.0-24", category: .key))
        }
        for family in IPFamily.allCases {
            let subnet = family == .v4 ? parsed.subnet : parsed.ipv6Subnet
            if let subnet {
                if let problem = config.problem(withLeaseSubnet: subnet) {
                    return .skipped(.init(key: entry.key, reason: problem, category: .network))
                }
            } else if config.network(for: family) != nil {
                return .skipped(.init(key: entry.key, reason: "no \(family.rawValue) subnet, the network config enables \(family.rawValue)", category: .family))
            }
        }
        return .subnets(subnet: parsed.subnet, ipv6Subnet: parsed.ipv6Subnet)
    }

    private func decodeValue(_ entry: StoreEntry, _ parsed: (subnet: IPPrefix?, ipv6Subnet: IPPrefix?)) -> Decoded {
        let attributes: LeaseAttributes
        do {
            attributes = try JSONDecoder().decode(LeaseAttributes.self, from: entry.value)
        } catch {
            return .skipped(.init(key: entry.key, reason: "value is not lease JSON: \(Self.short(error))", category: .value))
        }
        if parsed.subnet != nil, attributes.publicIP == nil {
            return .skipped(.init(key: entry.key, reason: "value has no PublicIP for the IPv4 subnet", category: .value))
        }
        if parsed.ipv6Subnet != nil, attributes.publicIPv6 == nil {
            return .skipped(.init(key: entry.key, reason: "value has no PublicIPv6 for the IPv6 subnet", category: .value))
        }
        let expiration: Date? = entry.hasTTL ? (entry.expiration ?? .distantFuture) : nil
        return .lease(
            Lease(
                subnet: parsed.subnet, ipv6Subnet: parsed.ipv6Subnet, attributes: attributes, expiration: expiration,
                createRevision: entry.createRevision))
    }

    /// The claims of the entries whose key is a valid lease key (whatever their value), by
    /// entry index: what `SubnetClaims` judges on the read side and in the claim check alike.
    func claims(_ entries: [StoreEntry]) -> [(entry: Int, claim: SubnetClaims.Claim)] {
        entries.indices.compactMap { i in
            Self.claim(entries[i], key: decodeKey(entries[i])).map { (i, $0) }
        }
    }

    /// `entry` decoded, from `cache` when it holds the entry at its revision (and kept there).
    func item(_ entry: StoreEntry, cache: inout LeaseDecodeCache) -> LeaseDecodeCache.Item {
        if let hit = cache.items[entry.key], hit.modRevision == entry.modRevision, hit.createRevision == entry.createRevision {
            return hit
        }
        let keyDecoded = decodeKey(entry)
        let value = decode(entry, key: keyDecoded)
        if case .subnets = keyDecoded { cache.decodes += 1 }
        let item = LeaseDecodeCache.Item(modRevision: entry.modRevision, createRevision: entry.createRevision, key: keyDecoded, value: value)
        cache.items[entry.key] = item
        return item
    }

    /// Decodes a full listing. Of two keys claiming one subnet, the younger gives way
    /// (`SubnetClaims`) and is skipped as an overlap.
    func snapshot(entries: [StoreEntry], revision: Int64) -> LeaseSnapshot {
        var cache = LeaseDecodeCache()
        return snapshot(entries: entries, revision: revision, cache: &cache)
    }

    /// `snapshot(entries:revision:)`, decoding only the entries `cache` does not hold at their
    /// revision: after a watch event, the keys it names. The result is the same as without a
    /// cache (a test holds the two equal); the cache keeps exactly the keys of `entries`.
    func snapshot(entries: [StoreEntry], revision: Int64, cache: inout LeaseDecodeCache) -> LeaseSnapshot {
        var unused: [String: LeaseSnapshotBuilder.Placed]?
        return snapshot(entries: entries, revision: revision, cache: &cache, placed: &unused)
    }

    /// The same, also telling (when `placed` is non-nil) where each entry went: what
    /// `LeaseSnapshotBuilder` starts from.
    func snapshot(
        entries: [StoreEntry], revision: Int64, cache: inout LeaseDecodeCache, placed: inout [String: LeaseSnapshotBuilder.Placed]?
    ) -> LeaseSnapshot {
        var decoded: [LeaseDecodeCache.Item] = []
        decoded.reserveCapacity(entries.count)
        for entry in entries { decoded.append(item(entry, cache: &cache)) }
        if cache.items.count > entries.count {
            let live = Set(entries.map(\.key))
            cache.items = cache.items.filter { live.contains($0.key) }
        }

        var leases: [Lease] = []
        leases.reserveCapacity(entries.count)
        var skipped: [SkippedEntry] = []
        let claims: [(entry: Int, claim: SubnetClaims.Claim)] = decoded.indices.compactMap { i in
            Self.claim(entries[i], key: decoded[i].key).map { (i, $0) }
        }
        let claimList = claims.map(\.claim)
        var lost: [Int: String] = [:]
        for (index, loss) in SubnetClaims.losses(claimList) {
            lost[claims[index].entry] = SubnetClaims.reason(loss, in: claimList)
        }
        for (i, entry) in entries.enumerated() {
            let place: LeaseSnapshotBuilder.Placed
            if let reason = lost[i] {
                place = .skipped(.init(key: entry.key, reason: reason, category: .overlap))
            } else {
                switch decoded[i].value {
                case .skipped(let s): place = .skipped(s)
                case .lease(let lease): place = .lease(lease)
                }
            }
            switch place {
            case .skipped(let s): skipped.append(s)
            case .lease(let lease): leases.append(lease)
            }
            placed?[entry.key] = place
        }
        leases.sort(by: Self.leaseOrder)
        skipped.sort { $0.key < $1.key }
        return LeaseSnapshot(revision: revision, leases: leases, skipped: skipped)
    }

    static func leaseOrder(_ a: Lease, _ b: Lease) -> Bool { LeaseSnapshot.isOrdered(a, before: b) }

    static func short(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): c.debugDescription
        case DecodingError.keyNotFound(let k, _): "missing \(k.stringValue)"
        case DecodingError.typeMismatch(_, let c): "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.valueNotFound(_, let c): "null at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }
}

/// What a lease watcher keeps of its last snapshot's decoding, by key and revision, so a watch
/// event re-decodes only the keys it names (at 5,000 leases a full decode per event is most of
/// the agent's CPU). Valid for one `LeaseDecoder` (one network config and prefix).
struct LeaseDecodeCache: Sendable {
    struct Item: Sendable {
        let modRevision: Int64
        let createRevision: Int64
        let key: LeaseDecoder.KeyDecoded
        let value: LeaseDecoder.Decoded
    }
    var items: [String: Item] = [:]
    /// How many lease values were decoded (JSON) through this cache: what a test counts.
    var decodes = 0
}

/// A watcher's snapshot kept current one store key at a time (issue 15): the snapshot
/// `LeaseDecoder.snapshot(entries:revision:)` gives for the same entries (a test holds the two
/// equal), but a watch event costs the keys it names and the claims sharing a subnet with them,
/// not a decode, a claim judgement and a sort of every lease.
struct LeaseSnapshotBuilder: Sendable {
    /// Where one entry went: a lease, or skipped (with why).
    enum Placed: Sendable {
        case lease(Lease)
        case skipped(SkippedEntry)

        var lease: Lease? {
            if case .lease(let lease) = self { lease } else { nil }
        }
    }

    let decoder: LeaseDecoder
    /// Every entry under the prefix, by key.
    private(set) var entries: [String: StoreEntry] = [:]
    private(set) var cache = LeaseDecodeCache()
    private var claims = SubnetClaimIndex<String>()
    private var placed: [String: Placed] = [:]
    private var leases: [Lease] = []
    private var skipped: [SkippedEntry] = []
    /// The last snapshot taken (`take`), while the changes since are known.
    private var base: LeaseSnapshot.Stamp?
    /// The lease each key placed again since `base` had there (nil: none), as of `base`.
    private var before: [String: Lease?] = [:]

    init(decoder: LeaseDecoder) { self.decoder = decoder }

    /// The snapshot of the current entries at `revision`.
    func snapshot(revision: Int64) -> LeaseSnapshot { LeaseSnapshot(revision: revision, leases: leases, skipped: skipped) }

    /// `snapshot(revision:)` stamped `stamp`, with its changes since the last snapshot taken
    /// when they are known (none was taken since a `reset` or a `rebuild`).
    mutating func take(revision: Int64, stamp: LeaseSnapshot.Stamp) -> LeaseSnapshot {
        var snapshot = snapshot(revision: revision)
        snapshot.stamp = stamp
        if let base {
            var changed: [LeaseSnapshot.Change] = []
            for (key, old) in before {
                let now = placed[key]?.lease
                if now != old { changed.append(.init(before: old, after: now)) }
            }
            snapshot.changes = .init(base: base, leases: changed)
        }
        base = stamp
        before = [:]
        return snapshot
    }

    /// Starts over from a full listing.
    mutating func reset(_ listing: [String: StoreEntry]) {
        entries = listing
        rebuild()
    }

    /// A put (`entry`) or a delete (nil) of `key`.
    mutating func apply(key: String, entry: StoreEntry?) {
        entries[key] = entry
        var affected: Set<String> = [key]
        affected.formUnion(claims.claiming(claims.claims[key]?.subnets ?? []))
        if let entry {
            let item = decoder.item(entry, cache: &cache)
            claims.set(key, LeaseDecoder.claim(entry, key: item.key))
        } else {
            cache.items[key] = nil
            claims.set(key, nil)
        }
        affected.formUnion(claims.claiming(claims.claims[key]?.subnets ?? []))
        // Mixed prefix lengths overlap without being equal: judged over every claim.
        if claims.isMixed { return rebuild() }
        for key in affected { place(key) }
    }

    private mutating func rebuild() {
        base = nil
        before = [:]
        var all: [String: Placed]? = [:]
        let snap = decoder.snapshot(entries: Array(entries.values), revision: 0, cache: &cache, placed: &all)
        leases = snap.leases
        skipped = snap.skipped
        placed = all ?? [:]
        claims = SubnetClaimIndex()
        for entry in entries.values {
            if let item = cache.items[entry.key] { claims.set(entry.key, LeaseDecoder.claim(entry, key: item.key)) }
        }
    }

    /// Takes `key` out of the snapshot and puts it back where its entry, value and claim say.
    private mutating func place(_ key: String) {
        let old = placed.removeValue(forKey: key)
        if base != nil, before[key] == nil { before[key] = .some(old?.lease) }
        switch old {
        case .lease(let old)?:
            var i = leases.firstIndex(notBefore: { LeaseDecoder.leaseOrder($0, old) })
            while i < leases.count, leases[i] != old { i += 1 }
            if i < leases.count { leases.remove(at: i) }
        case .skipped(let old)?:
            let i = skipped.firstIndex(notBefore: { $0.key < old.key })
            if i < skipped.count, skipped[i].key == old.key { skipped.remove(at: i) }
        case nil:
            break
        }
        guard entries[key] != nil, let item = cache.items[key] else { return }
        let next: Placed
        if let loss = claims.loss(of: key) {
            next = .skipped(.init(key: key, reason: claims.reason(loss), category: .overlap))
        } else {
            switch item.value {
            case .lease(let lease): next = .lease(lease)
            case .skipped(let s): next = .skipped(s)
            }
        }
        switch next {
        case .lease(let lease): leases.insert(lease, at: leases.firstIndex(notBefore: { LeaseDecoder.leaseOrder($0, lease) }))
        case .skipped(let s): skipped.insert(s, at: skipped.firstIndex(notBefore: { $0.key < s.key }))
        }
        placed[key] = next
    }
}

extension RandomAccessCollection {
    /// In a collection sorted so that `isBefore` holds for a prefix of it, the index just past
    /// that prefix: where an element belongs (a binary search).
    public func firstIndex(notBefore isBefore: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let mid = index(low, offsetBy: half)
            if isBefore(self[mid]) {
                low = index(after: mid)
                count -= half + 1
            } else {
                count = half
            }
        }
        return low
    }
}

/// Logs and counts skipped entries once per (key, revision), so a bad key seen in every
/// snapshot is reported once, not on every change elsewhere. `alreadyReported` keeps only the
/// entries skipped in the current snapshot: it is as big as the store's bad entries now, not
/// every (key, revision) that was ever bad.
struct SkipReporter: Sendable {
    let logger: Logger
    let factory: any MetricsFactory

    func report(_ skipped: [SkippedEntry], entries: [String: StoreEntry], alreadyReported: inout Set<String>) {
        var current = Set<String>()
        current.reserveCapacity(skipped.count)
        for s in skipped {
            let id = "\(s.key)@\(entries[s.key]?.modRevision ?? 0)"
            current.insert(id)
            guard !alreadyReported.contains(id) else { continue }
            logger.warning("skipping invalid store entry", metadata: ["key": "\(s.key)", "reason": "\(s.reason)"])
            Counter(label: "hostgw_store_invalid_entries_total", dimensions: [("reason", s.category.rawValue)], factory: factory).increment()
        }
        alreadyReported = current
    }
}

/// Whether a listing looks up the expiry of each lease (see `SubnetStore.listLeases`).
public enum ExpiryLookup: Sendable, Hashable {
    case none
    case all
}

extension SubnetStore {
    /// Every lease under `keys`. Expiries are looked up only when `expiries` is `.all` (`hostgw
    /// leases`, where a human reads them): etcd answers a listing with lease IDs only, and a
    /// lookup per lease is N requests. Routing never needs them, since the store itself expires
    /// keys; without the lookup a TTL lease's `expiration` is `.distantFuture`.
    public func listLeases(config: NetworkConfig, keys: LeaseKeys = LeaseKeys(), expiries: ExpiryLookup = .none) async throws -> LeaseSnapshot {
        let result = try await range(prefix: keys.subnets)
        let entries = expiries == .all ? try await resolveExpirations(result.entries) : result.entries
        return LeaseDecoder(config: config, keys: keys).snapshot(entries: entries, revision: result.revision)
    }

    /// `lease` with its expiry looked up (at most two requests: the key, then its TTL), for
    /// showing one lease such as the node's own. Unchanged when the key is gone or has no TTL.
    public func withExpiry(_ lease: Lease, keys: LeaseKeys = LeaseKeys()) async throws -> Lease {
        guard !lease.isReservation, let entry = try await get(key: keys.key(for: lease)), entry.hasTTL else { return lease }
        var resolved = lease
        resolved.expiration = try await resolveExpirations([entry]).first?.expiration ?? lease.expiration
        return resolved
    }
}
