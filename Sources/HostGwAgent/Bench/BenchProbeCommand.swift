// `hostgw bench probe`: the CPU the peer probes cost one node. One process runs what a node with
// N peers runs: a responder, and a prober with N peers' targets (node path, and pod path from a
// source address of its own), all on loopback addresses (127.1.0.0/16 and 127.2.0.0/16, local on
// every Linux machine: no namespace, no root, no traffic off the machine). Since every peer of
// a node probes it as often as it probes them, the answers it gives equal the probes it sends:
// one process doing both is the node's whole probe load. CPU is utime + stime of /proc/self/stat
// (every thread, the kernel's loopback delivery included) over the window, first with no
// targets (the anchor: runtime, timers), then with all of them, after one warm-up rotation.
import ArgumentParser
import Foundation
import Logging
import Metrics
import NetAddress
import Prometheus
import RouteSync
import SubnetLease

struct BenchProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Measure the CPU the peer probes cost one node at N peers (for scripts/bench).",
        discussion: """
            A tool for scripts/bench, hidden from help. Loopback only (127.1.0.0/16, 127.2.0.0/16),
            on an ephemeral UDP port. Prints `key=value` lines: cpu_pct (of one core, with the
            targets), idle_pct (the same process without targets), sent_per_s, answered_per_s,
            reachable, targets, budget_limited, rtt_histogram_series.
            """,
        shouldDisplay: false
    )

    @Option(help: "How many peers (each probed on the node path and, with --paths 2, the pod path).")
    var targets: Int = 1000

    @Option(help: "1: node path only; 2: node and pod path per peer.")
    var paths: Int = 2

    @Option(help: ArgumentHelp("Measured window with the targets, in seconds (the anchor window is half as long).", valueName: "seconds"))
    var seconds: Int = 20

    @Option(help: "Probe budget, probes per second.")
    var budget: Int = ProbeConfig().budget

    @Option(help: ArgumentHelp("Probe interval, in milliseconds.", valueName: "ms"))
    var intervalMs: Int = 2000

    func validate() throws {
        guard (1...60_000).contains(targets) else { throw ValidationError("--targets must be between 1 and 60000") }
        guard (1...2).contains(paths) else { throw ValidationError("--paths must be 1 or 2") }
        guard seconds >= 2 else { throw ValidationError("--seconds must be at least 2") }
        guard budget >= 1, intervalMs >= 10 else { throw ValidationError("--budget must be at least 1 and --interval-ms at least 10") }
    }

    func run() async throws {
        var factory = PrometheusMetricsFactory(registry: PrometheusCollectorRegistry())
        factory.durationHistogramBuckets["hostgw_peer_probe_rtt_seconds"] = ProbeConfig.rttHistogramBuckets
        let registry = factory.registry
        let logger = Logger(label: "hostgw-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let responder = ProbeResponder(port: 0, metrics: factory, logger: logger)
        let port: UInt16
        do { port = try await responder.bind() } catch { try fail("cannot bind the responder: \(error)", code: ExitStatus.unavailable) }
        let config = ProbeConfig(port: port, interval: .milliseconds(intervalMs), budget: budget)
        let prober = PeerProber(config: config, metrics: factory, logger: logger)
        var list: [ProbeTarget] = []
        for i in 0..<targets {
            let peer = "bench-\(i)"
            let offset = UInt32(i + 1)
            list.append(ProbeTarget(peer: peer, path: .node, address: .v4(IPv4Address(0x7F01_0000 + offset))))
            if paths == 2 {
                list.append(
                    ProbeTarget(peer: peer, path: .pod, address: .v4(IPv4Address(0x7F02_0000 + offset)), source: .v4(IPv4Address(127, 0, 0, 1))))
            }
        }
        let tasks = [Task { try await responder.run() }, Task { try await prober.run() }]
        defer { for t in tasks { t.cancel() } }

        let idleWindow = max(1, seconds / 2)
        try await Task.sleep(for: .milliseconds(500))
        let idle = try await Self.cpuPercent(over: idleWindow)

        await prober.setTargets(list)
        // Warm-up: one rotation (every target probed once), bounded by three planned rotations.
        let rotation = max(Double(intervalMs) / 1000, Double(list.count) / (0.9 * Double(budget)))
        let deadline = ContinuousClock.now + .seconds(3 * rotation + 5)
        while ContinuousClock.now < deadline, await prober.stats().values.contains(where: { $0.sent == 0 }) {
            try await Task.sleep(for: .milliseconds(200))
        }
        let sentBefore = Self.sample(registry, "hostgw_peer_probes_sent_total")
        let answeredBefore = Self.sample(registry, "hostgw_peer_probe_requests_answered_total")
        let busy = try await Self.cpuPercent(over: seconds)
        let sent = Self.sample(registry, "hostgw_peer_probes_sent_total") - sentBefore
        let answered = Self.sample(registry, "hostgw_peer_probe_requests_answered_total") - answeredBefore
        let stats = await prober.stats()
        let reachable = stats.values.filter { $0.state == .reachable }.count
        var text: [UInt8] = []
        registry.emit(into: &text)
        let exposition = String(decoding: text, as: UTF8.self)
        let histogramSeries = exposition.split(separator: "\n").filter { $0.hasPrefix("hostgw_peer_probe_rtt_seconds_bucket") }.count
        let limited = exposition.split(separator: "\n").first { $0.hasPrefix("hostgw_peer_probe_budget_limited ") }.map { String($0.split(separator: " ").last ?? "") } ?? "?"
        print("targets=\(list.count)")
        print("peers=\(targets)")
        print("window_s=\(seconds)")
        print(String(format: "cpu_pct=%.3f", busy))
        print(String(format: "idle_pct=%.3f", idle))
        print(String(format: "sent_per_s=%.1f", sent / Double(seconds)))
        print(String(format: "answered_per_s=%.1f", answered / Double(seconds)))
        print("reachable=\(reachable)")
        print("budget=\(budget)")
        print("budget_limited=\(limited)")
        print("rtt_histogram_series=\(histogramSeries)")
    }

    /// The sum of a metric's samples in the registry's exposition (all label sets).
    private static func sample(_ registry: PrometheusCollectorRegistry, _ name: String) -> Double {
        var text: [UInt8] = []
        registry.emit(into: &text)
        return String(decoding: text, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    /// This process's CPU (utime + stime, every thread) over `seconds` of wall time, in % of one core.
    private static func cpuPercent(over seconds: Int) async throws -> Double {
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let t0 = try ticks()
        let w0 = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let t1 = try ticks()
        let wall = (ContinuousClock.now - w0).seconds
        return Double(t1 - t0) / hz / wall * 100
    }

    private static func ticks() throws -> Int {
        let stat = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces) in parentheses: utime is the
        // 14th field of the line, stime the 15th.
        guard let close = stat.lastIndex(of: ")") else { throw ValidationError("unreadable /proc/self/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Int(fields[11]), let stime = Int(fields[12]) else { throw ValidationError("unreadable /proc/self/stat") }
        return utime + stime
    }
}
