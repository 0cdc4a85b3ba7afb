import Foundation
import Testing

/// Runs the built `hostgw` binary and returns (exit code, stdout, stderr).
func runHostGw(_ args: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = hostGwBinary
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    p.environment = env
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
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
