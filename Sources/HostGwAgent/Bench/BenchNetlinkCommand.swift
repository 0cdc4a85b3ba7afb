// `hostgw bench netlink`: route-programming throughput against ip -batch and the C reference.
import ArgumentParser
import Foundation

struct BenchNetlinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netlink",
        abstract: "Time adding, replacing and deleting N routes: hostgw vs ip -batch vs the libmnl C reference.",
        discussion: """
            Runs in a throwaway network namespace (removed at the end, also on error); needs root.
            Targets (for 10,000 routes): add and delete at least 3x faster than `ip -batch`, and
            hostgw's time at most 1.3x the C reference's. Exits 1 when a target is missed by more
            than 20%.
            """
    )

    @Option(help: "Number of /24 routes per phase (at most \(NetlinkBenchmark.maxRoutes)).")
    var routes: Int = 10_000

    @Option(help: "Requests per sendmsg for hostgw and the C reference.")
    var batch: Int = 256

    @Option(help: "Measured rounds per tool and phase, after one warm-up round.")
    var runs: Int = 7

    @Option(help: "Figure reported from the rounds: best (fastest round) or median.")
    var statistic: String = NetlinkBenchmark.Statistic.best.rawValue

    @Option(help: "Directory holding nlroutes.c (default: ../shared/bench, then the same path next to the repository).")
    var referenceDir: String?

    func validate() throws {
        guard (1...NetlinkBenchmark.maxRoutes).contains(routes) else {
            throw ValidationError("--routes must be between 1 and \(NetlinkBenchmark.maxRoutes) (the C reference's 10.64.0.0-10.249.255.0 plan)")
        }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard NetlinkBenchmark.Statistic(rawValue: statistic) != nil else {
            throw ValidationError("--statistic must be one of: \(NetlinkBenchmark.Statistic.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let bench = NetlinkBenchmark(
            routes: routes, batch: batch, runs: runs, referenceDirectory: referenceDir,
            statistic: NetlinkBenchmark.Statistic(rawValue: statistic) ?? .best)
        // The measurements block in syscalls: they run on a thread of their own, not on the
        // cooperative pool that runs this command.
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<NetlinkBenchmark.Report, any Error>, Never>) in
            let thread = Thread {
                continuation.resume(returning: Result { try bench.run { FileHandle.standardError.write(Data("bench: \($0)\n".utf8)) } })
            }
            thread.name = "hostgw-bench"
            thread.start()
        }
        let report: NetlinkBenchmark.Report
        do {
            report = try outcome.get()
        } catch {
            FileHandle.standardError.write(Data("bench netlink failed: \(error)\n".utf8))
            throw ExitCode.failure
        }
        print(report.table)
        print(report.summary)
        if let note = report.ceilingNote { print(note) }
        if let problem = report.referenceProblem { print("C reference unavailable: \(problem)") }
        if routes != 10_000 { print("note: the targets are defined for 10,000 routes; this run used \(routes)") }
        let targets = report.targets
        for target in targets { print("target \(target.text)") }
        if report.reference == nil { print("target add/delete time vs C reference: not evaluated") }
        let missed = targets.filter(\.missedBadly)
        if !missed.isEmpty {
            print("FAILED: " + missed.map(\.figure).joined(separator: ", "))
            throw ExitCode.failure
        }
    }
}
