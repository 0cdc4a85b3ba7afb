// The one way tests run a program (ip, netplan, sh, etcd and etcdctl, sqlite3, openssl, the
// hostgw binary). A bare tool name is looked up on PATH and then in /usr/sbin and /sbin (a
// non-root PATH often lacks them), never at a hard-coded path. Output goes to files, not pipes,
// so a chatty program can never block on a full pipe while we wait for it.
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a program ended and what it printed.
public struct ProcessResult: Sendable, CustomStringConvertible {
    public var command: [String]
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var description: String {
        let text = (stderr.isEmpty ? stdout : stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        return "`\(command.joined(separator: " "))` exited \(status)" + (text.isEmpty ? "" : ": \(text)")
    }
}

public enum ProcessError: Error, CustomStringConvertible {
    /// A bare tool name found neither on PATH nor in /usr/sbin, /sbin.
    case notFound(tool: String)
    /// `check` of a program that exited non-zero.
    case failed(ProcessResult)
    /// Still running after the timeout: killed, so a test never leaves a process behind or hangs.
    case timedOut(command: [String], after: Duration)

    public var description: String {
        switch self {
        case .notFound(let tool): "\(tool) not found in \(ProcessRunner.searchPath.joined(separator: ":")) (PATH, then /usr/sbin and /sbin)"
        case .failed(let result): result.description
        case .timedOut(let command, let after): "`\(command.joined(separator: " "))` still running after \(after): killed"
        }
    }
}

public enum ProcessRunner {
    /// The full path of `tool`: itself when it names a path, else the first executable of that
    /// name on PATH, /usr/sbin or /sbin; nil when there is none.
    public static func locate(_ tool: String) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        return searchPath.lazy.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Where `locate` looks: PATH's directories, then /usr/sbin and /sbin.
    static var searchPath: [String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
    }

    /// Runs `command` to its end, blocking the calling thread: for short programs. `environment`
    /// replaces the inherited one when given.
    public static func run(
        _ command: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(120)
    ) throws -> ProcessResult {
        let capture = try Capture()
        defer { capture.remove() }
        let process = try capture.process(command, environment: environment)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try capture.launch(process)
        if exited.wait(timeout: .now() + .milliseconds(Int(timeout / .milliseconds(1)))) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ProcessError.timedOut(command: command, after: timeout)
        }
        process.waitUntilExit()
        return capture.result(command, status: process.terminationStatus)
    }

    /// Runs `command` and requires exit status 0; returns its stdout.
    @discardableResult
    public static func check(_ command: [String], environment: [String: String]? = nil) throws -> String {
        let result = try run(command, environment: environment)
        guard result.status == 0 else { throw ProcessError.failed(result) }
        return result.stdout
    }

    /// Runs `command` to its end without holding a thread: the caller is resumed by the process's
    /// termination handler. For programs that async tests wait on while other tests run (a
    /// blocked thread of Swift's small cooperative pool stalls every other test's awaits).
    public static func runSuspending(_ command: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
        let capture = try Capture()
        defer { capture.remove() }
        let process = try capture.process(command, environment: environment)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try capture.launch(process)
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return capture.result(command, status: status)
    }

    /// Starts a long-running program (an etcd member) with stdout and stderr appended to
    /// `logFile`; the caller owns the process and ends it.
    public static func start(_ command: [String], logFile: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        defer { try? log.close() }
        let process = try makeProcess(command, environment: nil)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    fileprivate static func makeProcess(_ command: [String], environment: [String: String]?) throws -> Process {
        guard let tool = command.first else { throw ProcessError.notFound(tool: "(empty command)") }
        guard let executable = locate(tool) else { throw ProcessError.notFound(tool: tool) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        return process
    }
}

/// A program's stdout and stderr, each in a file of a directory of its own.
private struct Capture {
    let directory: URL
    var out: URL { directory.appendingPathComponent("out") }
    var err: URL { directory.appendingPathComponent("err") }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func process(_ command: [String], environment: [String: String]?) throws -> Process {
        let process = try ProcessRunner.makeProcess(command, environment: environment)
        for file in [out, err] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        return process
    }

    /// Starts `process` and closes this side's copies of its output files.
    func launch(_ process: Process) throws {
        defer {
            try? (process.standardOutput as? FileHandle)?.close()
            try? (process.standardError as? FileHandle)?.close()
        }
        try process.run()
    }

    func result(_ command: [String], status: Int32) -> ProcessResult {
        ProcessResult(
            command: command, status: status,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
