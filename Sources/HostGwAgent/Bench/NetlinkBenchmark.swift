// Route-programming throughput of hostgw's Netlink module, printed beside two anchors measured
// in the same run and the same namespace: `ip -batch` (what an operator would use) and the libmnl
// C reference (the practical kernel limit). Absolute numbers drift on shared machines; the
// ratios are the result.
import Foundation
import SubnetLease
import NetAddress
import Netlink

struct NetlinkBenchmark: Sendable {
    enum Phase: String, CaseIterable, Sendable {
        case add, replace, delete
    }

    /// How the rounds of one tool and phase become one figure.
    enum Statistic: String, CaseIterable, Sendable {
        /// The fastest round: interference from other work only ever adds time, so on a shared
        /// machine the best round is the closest to what the code itself costs.
        case best
        case median
    }

    /// One tool's time per phase, in seconds (one figure from the rounds).
    typealias Timings = [Phase: Double]

    struct Report: Sendable {
        var routes: Int
        var batch: Int
        var hostgw: Timings
        var ipBatch: Timings
        var reference: Timings?
        /// Why the C reference has no figures, when it has none.
        var referenceProblem: String?
        var statistic: Statistic = .best
        var runs = 1
        /// 1-minute load average when the run ended: context for how noisy the figures are.
        var loadAverage: String?
    }

    struct Target {
        var figure: String
        var measured: Double
        var goal: Double
        /// true: measured must be >= goal; false: measured must be <= goal.
        var atLeast: Bool

        var met: Bool { atLeast ? measured >= goal : measured <= goal }
        /// Missed by more than 20%: what fails the command.
        var missedBadly: Bool { atLeast ? measured < goal * 0.8 : measured > goal * 1.2 }
        var text: String {
            let sign = atLeast ? ">=" : "<="
            let state = met ? "met" : (missedBadly ? "MISSED by more than 20%" : "missed (within 20%)")
            return "\(figure): \(String(format: "%.2f", measured))x (target \(sign) \(String(format: "%.1f", goal))x) \(state)"
        }
    }

    static let linkName = "hgw0"
    static let gateway = "10.250.0.2"
    static let proto = RouteProtocol.hostgw

    let routes: Int
    let batch: Int
    let runs: Int
    let referenceDirectory: String?
    var statistic: Statistic = .best

    /// The route plan of the C reference: 10.(64 + i/256).(i%256).0/24, so all three tools
    /// program the very same prefixes. It stays below 10.250.0.0/16 (the lab link).
    static let maxRoutes = (250 - 64) * 256

    static func prefix(_ i: Int) -> String { "10.\(64 + i / 256).\(i % 256).0/24" }

    func run(log: @Sendable (String) -> Void) throws -> Report {
        let ns = try NetworkNamespace.create(prefix: "hgw-bench")
        defer { ns.delete() }
        try setUpLink(ns)
        log("namespace \(ns.name): \(Self.linkName) 10.250.0.1/24, gateway \(Self.gateway) on-link")

        let socket = try NetlinkSocket(namespace: ns.name)
        guard let link = try socket.links().first(where: { $0.name == Self.linkName }) else {
            throw BenchError("link \(Self.linkName) missing in \(ns.name)")
        }
        let gateway = IPAddress.v4(IPv4Address(10, 250, 0, 2))
        let plan: [Route] = try (0..<routes).map { i in
            guard let dst = IPPrefix(Self.prefix(i)) else { throw BenchError("bad prefix \(Self.prefix(i))") }
            return Route(destination: dst, gateway: gateway, outputInterface: link.index, protocol: Self.proto)
        }

        var hostgw: [Phase: [Double]] = [:]
        var ipBatch: [Phase: [Double]] = [:]
        var reference: [Phase: [Double]] = [:]
        let files = try IPBatchFiles(routes: routes)
        defer { files.remove() }
        let cref = CReference.build(directory: referenceDirectory)
        defer { if case .success(let binary) = cref { binary.remove() } }

        // Round 0 warms up (slab caches, trie nodes, this process's buffers) and is discarded:
        // a single cold 10-30 ms measurement on a shared 2-core machine says more about the
        // scheduler than about route programming.
        for r in 0...runs {
            if r == 1 {
                hostgw = [:]
                ipBatch = [:]
                reference = [:]
            }
            for phase in Phase.allCases {
                settle()
                hostgw[phase, default: []].append(try timeHostGw(socket, phase, plan))
            }
            for phase in Phase.allCases {
                settle()
                ipBatch[phase, default: []].append(try timeIPBatch(ns, files.path(phase)))
                try expectCount(socket, phase, tool: "ip -batch")
            }
            if case .success(let binary) = cref {
                for phase in Phase.allCases {
                    settle()
                    reference[phase, default: []].append(try binary.time(ns: ns, phase: phase, routes: routes, batch: batch))
                    try expectCount(socket, phase, tool: "C reference")
                }
            }
            log(r == 0 ? "warm-up round done" : "run \(r)/\(runs) done")
        }
        var problem: String?
        if case .failure(let error) = cref { problem = error.message }
        return Report(
            routes: routes, batch: batch, hostgw: hostgw.mapValues(summarize), ipBatch: ipBatch.mapValues(summarize),
            reference: reference.isEmpty ? nil : reference.mapValues(summarize), referenceProblem: problem,
            statistic: statistic, runs: runs, loadAverage: Self.loadAverage())
    }

    /// Every timed phase starts from a quiet kernel: 10,000 route changes leave RCU callbacks
    /// (freed trie nodes and route infos) that would otherwise run inside the next measurement.
    /// The C reference gets this pause for free from its process start; so does everyone here.
    private func settle() {
        Thread.sleep(forTimeInterval: 0.1)
    }

    private func setUpLink(_ ns: NetworkNamespace) throws {
        // A dummy link where the kernel has the driver, else a veth whose peer stays inside.
        if (try? ns.run(["ip", "link", "add", Self.linkName, "type", "dummy"])) == nil {
            try ns.run(["ip", "link", "add", Self.linkName, "type", "veth", "peer", "name", "hgw1"])
            try ns.run(["ip", "link", "set", "hgw1", "up"])
        }
        try ns.run(["ip", "addr", "add", "10.250.0.1/24", "dev", Self.linkName])
        try ns.run(["ip", "link", "set", Self.linkName, "up"])
    }

    private func timeHostGw(_ socket: NetlinkSocket, _ phase: Phase, _ plan: [Route]) throws -> Double {
        let kind: RouteChange.Kind = switch phase {
        case .add: .add
        case .replace: .replace
        case .delete: .delete
        }
        let changes = plan.map { RouteChange(kind, $0) }
        let clock = ContinuousClock()
        var results: [Result<Void, NetlinkError>] = []
        let elapsed = try clock.measure { results = try socket.apply(changes, batchSize: batch) }
        let failures = results.compactMap { if case .failure(let e) = $0 { e } else { nil } }
        if let first = failures.first {
            throw BenchError("hostgw \(phase): \(failures.count) of \(routes) failed, first: \(first)")
        }
        try expectCount(socket, phase, tool: "hostgw")
        return elapsed.seconds
    }

    private func timeIPBatch(_ ns: NetworkNamespace, _ file: String) throws -> Double {
        // The whole process, start included: what an operator running it would wait for.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "-n", ns.name, "-batch", file]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        let errText = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let elapsed = clock.now - start
        guard process.terminationStatus == 0 else {
            throw BenchError("ip -n \(ns.name) -batch \(file) exited \(process.terminationStatus): \(String(decoding: errText, as: UTF8.self).prefix(300))")
        }
        return elapsed.seconds
    }

    /// After add/replace all routes are there; after delete none are (checked, not timed).
    private func expectCount(_ socket: NetlinkSocket, _ phase: Phase, tool: String) throws {
        let count = try socket.routes(family: .v4, protocol: Self.proto).count
        let expected = phase == .delete ? 0 : routes
        guard count == expected else {
            throw BenchError("\(tool) \(phase): \(count) routes with proto \(Self.proto) in the kernel, expected \(expected)")
        }
    }

    static func loadAverage() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.map(String.init)
    }

    private func summarize(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        if statistic == .best { return sorted[0] }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

struct BenchError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// `ip -batch` input files, one line per route, in a private temporary directory.
struct IPBatchFiles {
    let directory: URL

    init(routes: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let proto = NetlinkBenchmark.proto.rawValue
        for phase in NetlinkBenchmark.Phase.allCases {
            let verb = phase == .delete ? "del" : phase.rawValue
            var text = ""
            text.reserveCapacity(routes * 72)
            for i in 0..<routes {
                text += "route \(verb) \(NetlinkBenchmark.prefix(i)) via \(NetlinkBenchmark.gateway) dev \(NetlinkBenchmark.linkName) proto \(proto)\n"
            }
            try text.write(toFile: path(phase), atomically: true, encoding: .utf8)
        }
    }

    func path(_ phase: NetlinkBenchmark.Phase) -> String { directory.appendingPathComponent("\(phase.rawValue).batch").path }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// /work/shared/bench/nlroutes.c, compiled at bench time.
struct CReference {
    let binary: String
    let directory: URL

    struct Problem: Error { var message: String }

    /// `--reference-dir`, else ../shared/bench from the current directory, else the same path
    /// relative to this repository.
    static func candidates(_ explicit: String?) -> [String] {
        if let explicit { return [explicit] }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return ["../shared/bench", repo.appendingPathComponent("../shared/bench").standardized.path]
    }

    static func build(directory explicit: String?) -> Result<CReference, Problem> {
        let tried = candidates(explicit)
        guard let dir = tried.first(where: { FileManager.default.fileExists(atPath: "\($0)/nlroutes.c") }) else {
            return .failure(Problem(message: "nlroutes.c not found in \(tried.joined(separator: ", ")) (use --reference-dir)"))
        }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-nlroutes-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let binary = tmp.appendingPathComponent("nlroutes").path
            let r = try NetworkNamespace.execute(["cc", "-O2", "-o", binary, "\(dir)/nlroutes.c", "-lmnl"])
            guard r.status == 0 else {
                try? FileManager.default.removeItem(at: tmp)
                return .failure(Problem(message: "cc -O2 -o \(binary) \(dir)/nlroutes.c -lmnl failed: \(r.stderr.prefix(300))"))
            }
            return .success(CReference(binary: binary, directory: tmp))
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            return .failure(Problem(message: "building the C reference failed: \(error)"))
        }
    }

    /// The reference's own clock (it excludes its process start), from its `routes/s` figure.
    /// Its `add` already uses NLM_F_CREATE|NLM_F_REPLACE, so running it again over installed
    /// routes is the replace phase.
    func time(ns: NetworkNamespace, phase: NetlinkBenchmark.Phase, routes: Int, batch: Int) throws -> Double {
        let verb = phase == .delete ? "del" : "add"
        let out = try ns.run([
            binary, verb, NetlinkBenchmark.linkName, NetlinkBenchmark.gateway, String(routes), String(batch),
            String(NetlinkBenchmark.proto.rawValue),
        ])
        // "add 10000 routes batch 256: 0.047 s, 212766 routes/s, 0 errors"
        let fields = out.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" })
        guard let i = fields.firstIndex(of: "routes/s"), i > 0, let rate = Double(fields[i - 1]), rate > 0 else {
            throw BenchError("cannot read the C reference's output: \(out)")
        }
        return Double(routes) / rate
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

extension NetlinkBenchmark.Report {
    private func rate(_ seconds: Double?) -> String {
        guard let seconds, seconds > 0 else { return "n/a" }
        return Int((Double(routes) / seconds).rounded()).formatted(.number.grouping(.automatic))
    }

    /// ip-batch time / hostgw time: how many times faster hostgw is.
    func speedup(_ phase: NetlinkBenchmark.Phase) -> Double? {
        guard let h = hostgw[phase], let i = ipBatch[phase], h > 0 else { return nil }
        return i / h
    }

    /// hostgw time / C time: 1.0 is the kernel limit, lower is better.
    func timeRatio(_ phase: NetlinkBenchmark.Phase) -> Double? {
        guard let h = hostgw[phase], let c = reference?[phase], c > 0 else { return nil }
        return h / c
    }

    /// ip-batch time / C time: the most any tool doing the same kernel work can gain on ip -batch.
    func ceiling(_ phase: NetlinkBenchmark.Phase) -> Double? {
        guard let i = ipBatch[phase], let c = reference?[phase], c > 0 else { return nil }
        return i / c
    }

    /// Says when the ip -batch target is out of reach even for the C reference on this machine.
    var ceilingNote: String? {
        let parts = NetlinkBenchmark.Phase.allCases.compactMap { phase in
            ceiling(phase).map { String(format: "%@ %.2fx", phase.rawValue, $0) }
        }
        guard !parts.isEmpty else { return nil }
        return "ceiling (C reference vs ip -batch, same kernel work): " + parts.joined(separator: ", ")
    }

    var table: String {
        let header = ["phase", "hostgw routes/s", "ip -batch routes/s", "C ref routes/s", "hostgw/ip-batch (speed)", "hostgw/C-ref (time)"]
        var rows = [header]
        for phase in NetlinkBenchmark.Phase.allCases {
            rows.append([
                phase.rawValue, rate(hostgw[phase]), rate(ipBatch[phase]), rate(reference?[phase]),
                speedup(phase).map { String(format: "%.2fx faster", $0) } ?? "n/a",
                timeRatio(phase).map { String(format: "%.2fx", $0) } ?? "n/a",
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: " | ")
        }
        var out = [line(rows[0]), widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")]
        out += rows.dropFirst().map(line)
        return out.joined(separator: "\n")
    }

    var summary: String {
        let parts = NetlinkBenchmark.Phase.allCases.map { phase in
            let s = speedup(phase).map { String(format: "%.2fx ip -batch", $0) } ?? "ip -batch n/a"
            let t = timeRatio(phase).map { String(format: "%.2fx C time", $0) } ?? "C n/a"
            return "\(phase) \(s), \(t)"
        }
        let load = loadAverage.map { ", load average \($0) on \(ProcessInfo.processInfo.activeProcessorCount) CPUs" } ?? ""
        return "summary (\(routes) routes, batch \(batch), \(statistic.rawValue) of \(runs) rounds\(load)): " + parts.joined(separator: "; ")
    }

    /// add and delete: >= 3x faster than ip -batch, and hostgw time <= 1.3x the C reference's.
    var targets: [NetlinkBenchmark.Target] {
        var out: [NetlinkBenchmark.Target] = []
        for phase in [NetlinkBenchmark.Phase.add, .delete] {
            if let s = speedup(phase) {
                out.append(.init(figure: "\(phase) speed vs ip -batch", measured: s, goal: 3, atLeast: true))
            }
            if let t = timeRatio(phase) {
                out.append(.init(figure: "\(phase) time vs C reference", measured: t, goal: 1.3, atLeast: false))
            }
        }
        return out
    }
}
