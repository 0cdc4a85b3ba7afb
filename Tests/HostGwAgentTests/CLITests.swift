import Foundation
import HostGwTestSupport
import Testing

/// Runs the built `hostgw` binary (ProcessRunner: both streams to files) with `environment` added
/// to the inherited one, and returns (exit code, stdout, stderr). A command still running after
/// `timeout` is killed and fails the test (`ProcessError.timedOut`): a CLI test must never leave a
/// process behind, hang the suite, or pass a "must fail" check because it was killed.
func runHostGw(_ args: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) throws -> (Int32, String, String) {
    let result = try ProcessRunner.run(
        [hostGwBinary.path] + args, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, timeout: timeout)
    return (result.status, result.stdout, result.stderr)
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
