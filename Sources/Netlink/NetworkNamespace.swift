// Throwaway network namespaces for tests, the lab and benchmarks. Everything runs through
// `ip netns` child processes, so no Swift thread ever changes namespace.
import Foundation
import Synchronization

/// A command that did not succeed, with what it printed on stderr.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var command: [String]
    public var status: Int32
    public var stderr: String

    public var description: String {
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return "`\(command.joined(separator: " "))` exited \(status)" + (text.isEmpty ? "" : ": \(text)")
    }
}

/// A network namespace named `<prefix>-<8 hex digits>`, created on `create` and removed by
/// `delete()` (idempotent). Owners call `delete()` in a `defer`, also on failure.
public final class NetworkNamespace: Sendable {
    public let name: String
    private let deleted = Mutex(false)

    private init(name: String) { self.name = name }

    public static func create(prefix: String) throws -> NetworkNamespace {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let name = "\(prefix)-\(String(repeating: "0", count: 8 - suffix.count))\(suffix)"
        try Self.command(["ip", "netns", "add", name])
        return NetworkNamespace(name: name)
    }

    /// /run/netns/<name>, what `NetlinkSocket(namespace:)` accepts too.
    public var path: String { "/run/netns/\(name)" }

    /// Runs `args` inside the namespace (`ip netns exec`) and returns its stdout; throws a
    /// `CommandError` naming the command and its stderr on a non-zero exit.
    @discardableResult
    public func run(_ args: [String]) throws -> String {
        try Self.command(["ip", "netns", "exec", name] + args)
    }

    /// Runs `args` inside the namespace and returns how it ended, without judging it.
    public func execute(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Self.execute(["ip", "netns", "exec", name] + args)
    }

    public func delete() {
        let first = deleted.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        _ = try? Self.execute(["ip", "netns", "del", name])
    }

    deinit { delete() }

    @discardableResult
    static func command(_ args: [String]) throws -> String {
        let r = try execute(args)
        guard r.status == 0 else { throw CommandError(command: args, status: r.status, stderr: r.stderr) }
        return r.stdout
    }

    /// Runs a command found on PATH and collects both streams. stderr is read on its own thread
    /// so a chatty child cannot fill one pipe while we wait on the other.
    public static func execute(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errData = DataBox()
        let errHandle = err.fileHandleForReading
        let done = DispatchSemaphore(value: 0)
        if !ThreadRunner.startDetached({
            let d = errHandle.readDataToEndOfFile()
            errData.value.withLock { $0 = d }
            done.signal()
        }) {
            done.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), errData.value.withLock { String(decoding: $0, as: UTF8.self) })
    }
}

private final class DataBox: Sendable {
    let value = Mutex(Data())
}

extension NetworkNamespace {
    /// Runs `body` on a short-lived OS thread that entered the network namespace `namespace` (a
    /// name under /run/netns or an absolute path) and returns what it returned. For opening
    /// sockets of other kinds (UDP) inside a namespace: a socket keeps the namespace it was
    /// created in. No Swift thread changes namespace; the thread ends with `body`.
    public static func runInside<T>(_ namespace: String, _ body: @escaping () -> T) throws(NetlinkError) -> T {
        try SocketIO.insideNamespace(namespace, body)
    }
}
