// One value's changes for any number of subscribers, each an AsyncStream that starts with the
// current value and keeps only the newest one not yet read, or, for feeds whose readers apply
// deltas, every one (`everyValue`). The one home of the pushed streams (lease manager, lease
// feed, reconciler, neighbours, probes).
import Synchronization

public final class Broadcast<Value: Sendable>: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<Value>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())
    private let everyValue: Bool

    /// - Parameter everyValue: readers get every value published, none replaced by a newer one
    ///   (publishers of deltas keep them few, one per tick say: a slow reader buffers them).
    public init(everyValue: Bool = false) { self.everyValue = everyValue }

    /// A stream that yields `current` now, then every `publish`; it ends when its reader stops.
    public func subscribe(current: Value) -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream.makeStream(of: Value.self, bufferingPolicy: everyValue ? .unbounded : .bufferingNewest(1))
        let id = state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = continuation
            return id
        }
        continuation.yield(current)
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        return stream
    }

    public var hasSubscribers: Bool { state.withLock { !$0.subscribers.isEmpty } }

    public func publish(_ value: Value) {
        let continuations = state.withLock { Array($0.subscribers.values) }
        for continuation in continuations { continuation.yield(value) }
    }
}

