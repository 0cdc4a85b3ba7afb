import Foundation
import Testing

/// Runs the built `hostgw` binary and returns (exit code, stdout, stderr). Both streams go to
/// files: reading one pipe to its end while the child fills the other would hang both.
/// A command still running after `timeout` is killed and reported as exit code -1: a CLI test
/// must never leave a process behind (or hang the suite).
func runHostGw(_ args: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) throws -> (Int32, String, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("out")
    let errURL = dir.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    defer {
        try? out.close()
        try? err.close()
    }
    let p = Process()
    p.executableURL = hostGwBinary
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    p.environment = env
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let deadline = ContinuousClock.now + timeout
    while p.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return (-1, "", "killed after \(timeout)")
    }
    let o = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let e = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return (p.terminationStatus, o, e)
}

/// The `hostgw` binary next to the test bundle in the build folder.
let hostGwBinary: URL = {
    var dir = Bundle.main.bundleURL
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("hostgw")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: ".build/debug/hostgw")
}()

@Suite struct CLITests {
    @Test func versionPrintsVersion() throws {
        let (code, out, _) = try runHostGw(["version"])
        #expect(code == 0)
        #expect(out.hasPrefix("hostgw "))
    }

    @Test func unknownFlagExitsWithUsageError() throws {
        let (code, _, err) = try runHostGw(["version", "--no-such-flag"])
        #expect(code == 64)
        #expect(err.contains("--no-such-flag"))
    }
}
