// Only the executable bootstraps logging. `text` writes one line per event on stderr, with
// every message and metadata value through `displaySafe` (a node name from the store cannot
// start a forged line or send terminal escapes); `json` writes one JSON object per line with
// every metadata key as a field, for log shippers (JSON escapes control characters itself).
import Foundation
import Logging
import SubnetLease

enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}

func bootstrapLogging(format: LogFormat, level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = LineLogHandler(label: label, format: format)
        handler.logLevel = level
        return handler
    }
}

/// One line per event on stderr, in `format`.
struct LineLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        let line: String
        switch format {
        case .text: line = Self.textLine(time: Date(), level: event.level, label: label, metadata: all, message: event.message.description)
        case .json:
            guard let json = Self.jsonLine(time: Date(), level: event.level, label: label, metadata: all, message: event.message.description)
            else { return }
            line = json
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// swift-log's stream format (`2025-01-02T03:04:05Z info hostgw: key=value message`), with
    /// store text made safe.
    static func textLine(time: Date, level: Logger.Level, label: String, metadata: Logger.Metadata, message: String) -> String {
        let meta = metadata.sorted { $0.key < $1.key }.map { "\(displaySafe($0.key, limit: 64))=\(displaySafe("\($0.value)"))" }
        return "\(isoTime(time)) \(level) \(label):\(meta.isEmpty ? "" : " " + meta.joined(separator: " ")) \(displaySafe(message, limit: 1024))"
    }

    /// One JSON object with every metadata key as a field.
    static func jsonLine(time: Date, level: Logger.Level, label: String, metadata: Logger.Metadata, message: String) -> String? {
        var fields: [String: String] = [:]
        for (k, v) in metadata { fields[k] = "\(v)" }
        fields["time"] = isoTime(time)
        fields["level"] = level.rawValue
        fields["logger"] = label
        fields["msg"] = message
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(fields)).map { String(decoding: $0, as: UTF8.self) }
    }
}
