// glibc malloc settings for the long-running agent, applied by the agent itself so that every
// way of starting it (systemd, a container, the bench, a shell) gets the same memory profile.
#if canImport(Glibc)
import Glibc

/// Why these values (measured with scripts/bench --only startup, 5,000 peers, VmHWM):
/// - one arena (M_ARENA_MAX 1): the agent's allocations happen on whatever Swift concurrency or
///   NIO thread runs the task, and glibc gives each such thread its own arena; freed memory stays
///   resident per arena, so a startup burst spread over several threads leaves several partly
///   used heaps. The agent allocates little outside startup and resyncs, so contention on one
///   arena costs nothing measurable (startup time unchanged).
/// - a fixed mmap threshold of 128 KiB (M_MMAP_THRESHOLD): the big, short-lived buffers of a
///   5,000-peer startup (lease snapshots, route lists, sorted copies) come from mmap and go back
///   to the kernel when freed. Setting it also stops glibc's dynamic threshold, which otherwise
///   rises to the largest freed block and keeps the next megabyte-sized arrays on the heap.
/// - trim threshold 256 KiB (M_TRIM_THRESHOLD): free heap top is returned sooner.
/// Together: peak RSS 67-70 MB -> about 55 MB with 5,000 peers (anon ~29 MB -> ~13 MB after startup).
func tuneMallocForAgent() {
    // mallopt is declared in <malloc.h>, which the Glibc module does not include; looking it up
    // keeps the package free of another C shim. Values are glibc's malloc.h constants.
    guard let symbol = dlsym(nil, "mallopt") else { return }
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3, mArenaMax: Int32 = -8
    _ = mallopt(mArenaMax, 1)
    _ = mallopt(mMmapThreshold, 128 * 1024)
    _ = mallopt(mTrimThreshold, 256 * 1024)
}
#else
func tuneMallocForAgent() {}
#endif
