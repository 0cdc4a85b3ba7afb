// When the embedded store's file is written: inotify on its directory (IN_MODIFY, IN_CREATE,
// IN_MOVED_TO, IN_CLOSE_WRITE on the file and its -wal and -journal), so the watch polls when
// another process commits instead of every 150 ms whether anything changed or not. A commit in
// WAL mode is write(2)s to the -wal file; readers touch only the -shm index (mmap: no event), so
// the pollers of 50 agents do not wake each other. The events are read by a DispatchSource on
// its own queue (no blocking call on the cooperative pool) and coalesced into `wakes`.
//
// The last write of a commit can come before the writer updates the -shm index that readers
// look in (on a busy machine, by tens of milliseconds), so a poll right on the event can miss
// that commit: after each event the watch is also woken every `follow` for `window` (150 ms for
// 1 s), which keeps the old bound of one poll period on how late a commit is seen.
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class StoreFileChanges: Sendable {
    let wakes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    /// Dispatch sources may be cancelled from any thread (libdispatch is thread-safe); the
    /// protocol type is not marked Sendable.
    nonisolated(unsafe) private let source: any DispatchSourceRead
    private let queue: DispatchQueue
    private let follow: Duration
    private let window: Duration
    /// Until when follow-up wakes run (nil: none running).
    private let followUntil = Mutex<ContinuousClock.Instant?>(nil)

    /// Watches the directory of `path`; nil when inotify is not available (no file-change
    /// wakes: the watch polls at its fixed interval).
    init?(path: String, follow: Duration = .milliseconds(150), window: Duration = .seconds(1)) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let fd = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_MODIFY) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            close(fd)
            return nil
        }
        (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.follow = follow
        self.window = window
        queue = DispatchQueue(label: "hostgw-store-file-changes")
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        let names = Set([base, base + "-wal", base + "-journal"])
        let continuation = continuation
        source.setEventHandler { [weak self] in
            if Self.drain(fd, names: names) { self?.changed() }
        }
        source.setCancelHandler {
            close(fd)
            continuation.finish()
        }
        source.resume()
    }

    deinit { source.cancel() }

    func stop() { source.cancel() }

    /// Wakes the watch as a change would (its heartbeat).
    func wake() { continuation.yield() }

    private func changed() {
        continuation.yield()
        let start = followUntil.withLock { until -> Bool in
            defer { until = ContinuousClock.now + window }
            return until == nil
        }
        if start { scheduleFollowUp() }
    }

    /// One follow-up wake `follow` from now, and the next after it while within the window.
    private func scheduleFollowUp() {
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(follow.nanoseconds))) { [weak self] in
            guard let self else { return }
            self.continuation.yield()
            let more = self.followUntil.withLock { until -> Bool in
                guard let end = until, ContinuousClock.now < end else {
                    until = nil
                    return false
                }
                return true
            }
            if more { self.scheduleFollowUp() }
        }
    }

    /// Reads every pending event; true when one names the store's files.
    private static func drain(_ fd: Int32, names: Set<String>) -> Bool {
        var hit = false
        let size = 4096
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, size)
            guard n > 0 else { break }
            var offset = 0
            // struct inotify_event { int wd; uint32_t mask, cookie, len; char name[len]; }
            while offset + 16 <= n {
                let length = Int(buffer.load(fromByteOffset: offset + 12, as: UInt32.self))
                if length > 0, offset + 16 + length <= n {
                    let bytes = UnsafeRawBufferPointer(start: buffer + offset + 16, count: length)
                    let end = bytes.firstIndex(of: 0) ?? length
                    if names.contains(String(decoding: bytes[0..<end], as: UTF8.self)) { hit = true }
                }
                offset += 16 + length
            }
        }
        return hit
    }
}
