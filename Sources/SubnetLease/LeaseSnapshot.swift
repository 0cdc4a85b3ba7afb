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
public struct LeaseSnapshot: Sendable, Hashable {
    public var revision: Int64
    public var leases: [Lease]
    public var skipped: [SkippedEntry]

    public init(revision: Int64, leases: [Lease], skipped: [SkippedEntry]) {
        self.revision = revision
        self.leases = leases
        self.skipped = skipped
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
        var decoded: [LeaseDecodeCache.Item] = []
        decoded.reserveCapacity(entries.count)
        for entry in entries {
            if let hit = cache.items[entry.key], hit.modRevision == entry.modRevision, hit.createRevision == entry.createRevision {
                decoded.append(hit)
            } else {
                let keyDecoded = decodeKey(entry)
                let value = decode(entry, key: keyDecoded)
                if case .subnets = keyDecoded { cache.decodes += 1 }
                let item = LeaseDecodeCache.Item(modRevision: entry.modRevision, createRevision: entry.createRevision, key: keyDecoded, value: value)
                cache.items[entry.key] = item
                decoded.append(item)
            }
        }
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
            if let reason = lost[i] {
                skipped.append(.init(key: entry.key, reason: reason, category: .overlap))
                continue
            }
            switch decoded[i].value {
            case .skipped(let s): skipped.append(s)
            case .lease(let lease): leases.append(lease)
            }
        }
        leases.sort { a, b in
            switch (a.subnet ?? a.ipv6Subnet, b.subnet ?? b.ipv6Subnet) {
            case (let x?, let y?) where x != y: x < y
            default: a.key < b.key
            }
        }
        skipped.sort { $0.key < $1.key }
        return LeaseSnapshot(revision: revision, leases: leases, skipped: skipped)
    }

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
