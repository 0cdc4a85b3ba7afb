// One value's changes for any number of subscribers, each an AsyncStream that starts with the
// current value and keeps only the newest one not yet read. The one home of the pushed status
// streams (lease manager, lease feed, reconciler).
import Synchronization

public final class Broadcast<Value: Sendable>: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<Value>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// A stream that yields `current` now, then every `publish`; it ends when its reader stops.
    public func subscribe(current: Value) -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream.makeStream(of: Value.self, bufferingPolicy: .bufferingNewest(1))
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

/// Changes for any number of subscribers, each an AsyncStream that starts with a value standing
/// for everything so far and then yields every change, none dropped (unlike `Broadcast`, whose
/// readers may miss values): for feeds whose readers apply deltas. Publishers keep changes few
/// (one per tick, say), since a slow reader buffers them.
public final class ChangeFeed<Change: Sendable>: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<Change>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// A stream that yields `initial` now, then every `publish`; it ends when its reader stops.
    public func subscribe(initial: Change) -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream.makeStream(of: Change.self, bufferingPolicy: .unbounded)
        let id = state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = continuation
            return id
        }
        continuation.yield(initial)
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        return stream
    }

    public var hasSubscribers: Bool { state.withLock { !$0.subscribers.isEmpty } }

    public func publish(_ change: Change) {
        let continuations = state.withLock { Array($0.subscribers.values) }
        for continuation in continuations { continuation.yield(change) }
    }
}
