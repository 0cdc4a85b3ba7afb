// Runs system tools (ip, netplan) from tests. Output goes to files, not pipes, so a chatty tool
// can never block on a full pipe while we wait for it.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ShellResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Shell {
    static var isRoot: Bool { geteuid() == 0 }

    static func which(_ tool: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> ShellResult {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-ext-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return ShellResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs and requires exit status 0, failing with the tool's stderr otherwise.
    @discardableResult
    static func check(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try run(executable, arguments)
        guard result.status == 0 else {
            throw ShellError(command: ([executable] + arguments).joined(separator: " "), result: result)
        }
        return result.stdout
    }
}

struct ShellError: Error, CustomStringConvertible {
    var command: String
    var result: ShellResult
    var description: String { "`\(command)` exited \(result.status): \(result.stderr)" }
}

/// A network namespace of our own (hgw-ext-<random>) with a veth pair whose `v0` end has
/// 10.0.0.2/24 and fd00::2/64, so gateways 10.0.0.x and fd00::x are on-link. Removed by `remove()`.
struct TestNamespace {
    let name: String
    static let ip = "/usr/sbin/ip"

    init() throws {
        name = "hgw-ext-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try Shell.check(Self.ip, ["netns", "add", name])
        do {
            try ip(["link", "set", "lo", "up"])
            try ip(["link", "add", "v0", "type", "veth", "peer", "name", "v1"])
            try ip(["addr", "add", "10.0.0.2/24", "dev", "v0"])
            try ip(["-6", "addr", "add", "fd00::2/64", "dev", "v0", "nodad"])
            try ip(["link", "set", "v0", "up"])
            try ip(["link", "set", "v1", "up"])
        } catch {
            remove()
            throw error
        }
    }

    /// `ip -n NAME ARGS...`
    @discardableResult
    func ip(_ arguments: [String]) throws -> String {
        try Shell.check(Self.ip, ["-n", name] + arguments)
    }

    func remove() {
        _ = try? Shell.run(Self.ip, ["netns", "delete", name])
    }
}
