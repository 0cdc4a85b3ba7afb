// The claim rule that makes subnet claims race-free in both families. The atomic create is on
// the combined key (`10.244.7.0-24&fd00:244:0:7::-64`), so it can not stop two nodes that pick
// different IPv4 subnets from picking the same IPv6 one. So every claim, once written, is
// checked against every other key: when an older key (lower create revision) holds a subnet of
// either family that the claim holds too, the claim gives way (is deleted) and the node picks
// again. Of any two clashing keys the younger one's check runs after both were written, so it
// always sees the older one: two keys never keep one subnet. The read side judges a transient
// clash the same way (the older lease wins).
public import NetAddress

public enum ClaimCheck {
    /// The oldest key `claim` gives way to (`SubnetClaims`: an older key that holds one of its
    /// subnets), or nil when the claim may stay. `entries` is a listing read after the claim was
    /// written; keys that are no lease keys, or whose subnets `isValid` rejects (readers skip
    /// them too), claim nothing.
    public static func olderClash(
        claim: StoreEntry, entries: [StoreEntry], prefix: String, isValid: (IPPrefix) -> Bool = { _ in true }
    ) -> StoreEntry? {
        var candidates = entries.filter { $0.key != claim.key }
        candidates.append(claim)
        var claims: [SubnetClaims.Claim] = []
        var claimed: [StoreEntry] = []
        for entry in candidates {
            guard let subnets = subnets(of: entry.key, prefix: prefix), !subnets.isEmpty, subnets.allSatisfy(isValid) else { continue }
            claims.append(SubnetClaims.Claim(key: entry.key, createRevision: entry.createRevision, subnets: subnets))
            claimed.append(entry)
        }
        guard let mine = claimed.lastIndex(where: { $0.key == claim.key }), let loss = SubnetClaims.losses(claims)[mine] else { return nil }
        return claimed[loss.holder]
    }

    /// The subnets a key names (either family), nil when the key is not a lease key.
    static func subnets(of key: String, prefix: String) -> [IPPrefix]? {
        guard key.hasPrefix(prefix), let parsed = Lease.parseKey(String(key.dropFirst(prefix.count))) else { return nil }
        return [parsed.subnet, parsed.ipv6Subnet].compactMap { $0 }
    }
}
