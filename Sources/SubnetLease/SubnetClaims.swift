// Two leases claiming one subnet: the one rule every reader and writer of leases applies (the
// claim check after a lease is written, the lease snapshot, the routes a node installs, the
// routes an external host is given). The older claim (lower store create revision, then the lower
// key) holds the subnet, and every younger claim that overlaps a subnet of an older one, in
// either family, gives way, even when that older claim gives way itself: a claim may only stay
// when no older key clashes with it, which is what keeps claims race-free (the younger one's check
// always sees the older one), and readers judge a transient clash the same way.
public import NetAddress

public enum SubnetClaims {
    /// One key's claim: its subnets (either family) and its age.
    public struct Claim: Sendable, Hashable {
        public var key: String
        /// The store's create revision; nil for leases not read from a store (tests, renders),
        /// which are older than every stored one and then ordered by key.
        public var createRevision: Int64?
        public var subnets: [IPPrefix]

        public init(key: String, createRevision: Int64?, subnets: [IPPrefix]) {
            self.key = key
            self.createRevision = createRevision
            self.subnets = subnets
        }
    }

    /// A claim that gives way: the first of its subnets (in its order) an older claim holds too.
    public struct Loss: Sendable, Hashable {
        /// Index of the claim that gives way.
        public var claim: Int
        public var subnet: IPPrefix
        /// Index of the oldest claim it clashes with on `subnet`.
        public var holder: Int
    }

    /// True when `a` is the older claim.
    public static func isOlder(_ a: Claim, _ b: Claim) -> Bool {
        switch (a.createRevision, b.createRevision) {
        case (let x?, let y?) where x != y: x < y
        case (nil, .some): true
        case (.some, nil): false
        default: a.key < b.key
        }
    }

    /// The claims that give way, by index. Claims of one key never clash with each other.
    public static func losses(_ claims: [Claim]) -> [Int: Loss] {
        let order = claims.indices.sorted { isOlder(claims[$0], claims[$1]) }
        // Prefixes of one length overlap only when equal: a dictionary lookup. Mixed lengths
        // (a malformed lease a caller chose to keep) fall back to a scan.
        let mixed = Set(claims.flatMap { $0.subnets.map { [$0.family == .v4 ? 4 : 6, $0.length] } }).count
            > Set(claims.flatMap { $0.subnets.map(\.family) }).count
        var oldest: [IPPrefix: Int] = [:]
        oldest.reserveCapacity(claims.count)
        var seen: [(prefix: IPPrefix, claim: Int)] = []
        var losses: [Int: Loss] = [:]
        for index in order {
            let claim = claims[index]
            for subnet in claim.subnets {
                var holder: Int?
                if let h = oldest[subnet], claims[h].key != claim.key {
                    holder = h
                } else if mixed {
                    holder = seen.first { claims[$0.claim].key != claim.key && $0.prefix.overlaps(subnet) }?.claim
                }
                if let holder {
                    losses[index] = Loss(claim: index, subnet: subnet, holder: holder)
                    break
                }
            }
            for subnet in claim.subnets {
                if oldest[subnet] == nil { oldest[subnet] = index }
                if mixed { seen.append((subnet, index)) }
            }
        }
        return losses
    }

    /// The words every reader uses for a loss.
    public static func reason(_ loss: Loss, in claims: [Claim], holderNode: String? = nil) -> String {
        reason(subnet: loss.subnet, holderKey: claims[loss.holder].key, holderNode: holderNode)
    }

    public static func reason(subnet: IPPrefix, holderKey: String, holderNode: String? = nil) -> String {
        let who = holderNode.map { " (node \($0))" } ?? ""
        return "subnet \(subnet) is held by the older lease \(holderKey)\(who); this lease gives way"
    }
}

extension Lease {
    /// This lease's claim, for `SubnetClaims`.
    public var claim: SubnetClaims.Claim {
        SubnetClaims.Claim(key: key, createRevision: createRevision, subnets: [subnet, ipv6Subnet].compactMap { $0 })
    }
}

/// `SubnetClaims.losses` kept current one claim at a time, for readers that see one lease change
/// among thousands (issue 15): who claims each subnet, so a changed claim re-judges only the
/// claims sharing a subnet with it. A claim's loss depends on those claims alone (an older claim
/// wins even when it gives way itself), so `loss(of:)` for any id equals what `losses` gives over
/// every claim of the index, as long as no two lengths of one family are claimed (`isMixed`: then
/// callers judge every claim with `losses`).
public struct SubnetClaimIndex<ID: Hashable & Sendable>: Sendable {
    public private(set) var claims: [ID: SubnetClaims.Claim] = [:]
    private var claimants: [IPPrefix: [ID]] = [:]
    private struct Shape: Hashable, Sendable {
        var family: IPFamily
        var length: Int
    }
    private var shapes: [Shape: Int] = [:]
    private var families: [IPFamily: Int] = [:]

    public init() {}

    /// Some family is claimed at two lengths: prefixes may overlap without being equal, and
    /// `loss(of:)` does not judge that.
    public var isMixed: Bool { shapes.count > families.count }

    /// Sets (or with nil removes) the claim of `id`.
    public mutating func set(_ id: ID, _ claim: SubnetClaims.Claim?) {
        if let old = claims.removeValue(forKey: id) {
            for subnet in old.subnets {
                claimants[subnet]?.removeAll { $0 == id }
                if claimants[subnet]?.isEmpty == true { claimants[subnet] = nil }
                Self.count(&shapes, Shape(family: subnet.family, length: subnet.length), by: -1)
                Self.count(&families, subnet.family, by: -1)
            }
        }
        guard let claim else { return }
        claims[id] = claim
        for subnet in claim.subnets {
            claimants[subnet, default: []].append(id)
            Self.count(&shapes, Shape(family: subnet.family, length: subnet.length), by: 1)
            Self.count(&families, subnet.family, by: 1)
        }
    }

    /// Every id claiming one of `subnets`.
    public func claiming(_ subnets: [IPPrefix]) -> [ID] {
        subnets.flatMap { claimants[$0] ?? [] }
    }

    /// The subnet `id` gives way on and the id of the oldest claim holding it (as
    /// `SubnetClaims.losses` judges); nil when `id` keeps its subnets or has no claim.
    public func loss(of id: ID) -> (subnet: IPPrefix, holder: ID)? {
        guard let claim = claims[id] else { return nil }
        for subnet in claim.subnets {
            guard let ids = claimants[subnet], ids.count > 1 else { continue }
            var oldest = ids[0]
            for other in ids.dropFirst() where SubnetClaims.isOlder(claims[other]!, claims[oldest]!) { oldest = other }
            if oldest != id, claims[oldest]!.key != claim.key { return (subnet, oldest) }
        }
        return nil
    }

    /// The words `SubnetClaims.reason` uses for `id`'s loss.
    public func reason(_ loss: (subnet: IPPrefix, holder: ID), holderNode: String? = nil) -> String {
        SubnetClaims.reason(subnet: loss.subnet, holderKey: claims[loss.holder]?.key ?? "?", holderNode: holderNode)
    }

    private static func count<K: Hashable>(_ counts: inout [K: Int], _ key: K, by delta: Int) {
        let next = counts[key, default: 0] + delta
        counts[key] = next > 0 ? next : nil
    }
}
