// Which subnets of one family's pool are taken, as index intervals built from the keys present.
// A malformed key of the wrong length (10.244.0.0-17) marks every pool subnet it overlaps as one
// interval, and a free subnet is found by walking the intervals, so claiming costs
// O(keys · log keys) whatever the size of the pool (a /8 of /24s, an IPv6 /40 of /64s).

struct PoolOccupancy: Sendable {
    /// Pool indices are 0 ..< size.
    let size: UInt64
    private var taken: [ClosedRange<UInt64>] = []

    init(size: UInt64) { self.size = size }

    mutating func mark(_ index: UInt64) {
        if index < size { taken.append(index...index) }
    }

    /// Marks `range`, clipped to the pool.
    mutating func mark(_ range: ClosedRange<UInt64>) {
        guard size > 0, range.lowerBound < size else { return }
        taken.append(range.lowerBound...min(range.upperBound, size - 1))
    }

    func contains(_ index: UInt64) -> Bool { taken.contains { $0.contains(index) } }

    /// The taken intervals, sorted and merged.
    private var merged: [ClosedRange<UInt64>] {
        var out: [ClosedRange<UInt64>] = []
        for r in taken.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound || r.lowerBound == last.upperBound + 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// How many pool indices are free (saturating: a pool of 2^64 subnets is never full).
    var freeCount: UInt64 {
        merged.reduce(size) { free, r in free - min(free, r.upperBound - r.lowerBound + 1) }
    }

    /// The n-th free index (n from 0), or nil when fewer than n + 1 are free.
    func freeIndex(_ n: UInt64) -> UInt64? {
        var candidate = n
        for r in merged {
            guard r.lowerBound <= candidate else { break }
            let (next, overflow) = candidate.addingReportingOverflow(r.upperBound - r.lowerBound + 1)
            if overflow { return nil }
            candidate = next
        }
        return candidate < size ? candidate : nil
    }

    /// A free index chosen uniformly, or nil when the pool is full.
    func randomFree(using generator: inout some RandomNumberGenerator) -> UInt64? {
        let free = freeCount
        guard free > 0 else { return nil }
        return freeIndex(UInt64.random(in: 0..<free, using: &generator))
    }
}
