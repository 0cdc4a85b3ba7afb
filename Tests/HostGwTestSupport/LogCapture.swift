public import Logging
import Synchronization

/// An in-memory log handler: what a component logged, with its metadata.
public final class LogCapture: Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])
    public init() {}

    public var messages: [Entry] { entries.withLock { $0 } }

    public var logger: Logger {
        var l = Logger(label: "capture") { _ in Handler(owner: self) }
        l.logLevel = .trace
        return l
    }

    struct Handler: LogHandler {
        let owner: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { $1 }
            let entry = Entry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" })
            owner.entries.withLock { $0.append(entry) }
        }
    }
}
