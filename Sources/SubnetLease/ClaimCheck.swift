// The claim rule that makes subnet claims race-free in both families. The atomic create is on
// the combined key (`10.244.7.0-24&fd00:244:0:7::-64`), so it can not stop two nodes that pick
// different IPv4 subnets from picking the same IPv6 one. So every claim, once written, is
// checked against every other key: when an older key (lower create revision) holds a subnet of
// either family that the claim holds too, the claim gives way (is deleted) and the node picks
// again. Of any two clashing keys the younger one's check runs after both were written, so it
// always sees the older one: two keys never keep one subnet. The read side judges a transient
// clash the same way (the older lease wins).
import NetAddress

public enum ClaimCheck {
    /// The oldest key under `prefix` (other than `claim`) that holds one of `claim`'s subnets and
    /// is older than it, or nil when the claim may stay. `entries` is a listing read after the
    /// claim was written.
    public static func olderClash(claim: StoreEntry, entries: [StoreEntry], prefix: String) -> StoreEntry? {
        guard let mine = subnets(of: claim.key, prefix: prefix), !mine.isEmpty else { return nil }
        return entries
            .filter { $0.key != claim.key && $0.createRevision < claim.createRevision }
            .filter { other in
                guard let theirs = subnets(of: other.key, prefix: prefix) else { return false }
                return theirs.contains { t in mine.contains { $0.overlaps(t) } }
            }
            .min { $0.createRevision < $1.createRevision }
    }

    /// The subnets a key names (either family), nil when the key is not a lease key.
    static func subnets(of key: String, prefix: String) -> [IPPrefix]? {
        guard key.hasPrefix(prefix), let parsed = Lease.parseKey(String(key.dropFirst(prefix.count))) else { return nil }
        return [parsed.subnet, parsed.ipv6Subnet].compactMap { $0 }
    }
}
