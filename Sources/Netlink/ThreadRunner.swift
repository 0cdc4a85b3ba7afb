// Threads this module owns. Network namespaces belong to a thread and blocking netlink receives
// must stay off Swift's cooperative pool, so both run on plain OS threads started here.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum ThreadRunner {
    private final class Job {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new thread and waits for it; nil when no thread could be started. The
    /// thread ends with `body`, so whatever it does to thread state (setns) dies with it.
    static func runOnFreshThread<T>(_ body: @escaping () -> T) -> T? {
        var result: T?
        let job = Job { result = body() }
        let context = Unmanaged.passRetained(job).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Job>.fromOpaque(context).release()
            return nil
        }
        // pthread_join orders the thread's write of `result` before the read below.
        pthread_join(thread, nil)
        return result
    }

    /// Starts a long-lived thread running `body` (detached: it ends when `body` returns).
    static func startDetached(_ body: @escaping @Sendable () -> Void) -> Bool {
        final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}
