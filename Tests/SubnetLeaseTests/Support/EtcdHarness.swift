// Real etcd members on random loopback ports with throwaway data dirs, for tests. Never the
// default 2379/2380, so a developer's own etcd is never touched.
import Foundation
import HostGwTestSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

enum HarnessError: Error, CustomStringConvertible {
    case notHealthy(String)
    case timeout(String)
    /// A tool the harness ran failed, or printed what it could not read.
    case command(ProcessResult)
    case noLeader(ProcessResult)
    case noFreePort(below: Int)
    /// What a test needed to fail went through.
    case unexpectedSuccess(String)

    var description: String {
        switch self {
        case .notHealthy(let s): "etcd did not become healthy: \(s)"
        case .timeout(let s): "timed out: \(s)"
        case .command(let result): "\(result) (stdout: \(result.stdout.prefix(300)))"
        case .noLeader(let result): "no member reports itself leader: \(result.stdout.prefix(300))"
        case .noFreePort(let below): "no free loopback port below \(below)"
        case .unexpectedSuccess(let what): "\(what) succeeded"
        }
    }
}

/// The TLS side of a test cluster: etcd serves https with `certFile`/`keyFile` and demands a
/// client certificate signed by `caFile`; the harness's own etcdctl calls present `clientCertFile`.
struct EtcdTLS: Sendable {
    let caFile: String
    let certFile: String
    let keyFile: String
    let clientCertFile: String
    let clientKeyFile: String
    /// For a server certificate that deliberately does not name the client URL's host.
    var etcdctlSkipsServerVerification = false

    var etcdFlags: [String] { ["--cert-file", certFile, "--key-file", keyFile, "--trusted-ca-file", caFile, "--client-cert-auth"] }
    var etcdctlFlags: [String] {
        ["--cacert", caFile, "--cert", clientCertFile, "--key", clientKeyFile] + (etcdctlSkipsServerVerification ? ["--insecure-skip-tls-verify"] : [])
    }
}

/// One etcd cluster (1 or 3 members) owned by a test. `stop()` kills every member and removes
/// the data; call it from the test on every path (`withEtcd` does).
///
/// Tests run in parallel in one process (and other processes on the machine may run etcd too),
/// so a member's ports come from `PortAllocator` (never handed out twice, never in the kernel's
/// ephemeral range where outgoing connections take their local ports), and a started cluster is
/// only used once every client URL answers with *this* cluster's member list: a member that lost
/// a port race exits, and its URL must never reach another cluster. Every wait on etcdctl is
/// asynchronous, because a blocked thread of Swift's small cooperative pool stalls every other
/// test's awaits (enough, on a loaded 2-core machine, to let a 5 s etcd lease expire between its
/// grant and its use).
final class EtcdCluster: Sendable {
    struct Member: Sendable {
        let name: String
        let clientURL: String
        let peerURL: String
    }

    let members: [Member]
    let root: String
    /// Set when the client URLs are https and demand a client certificate.
    let tls: EtcdTLS?
    private let processes: Mutex<[Int: Process]>

    var clientURLs: [String] { members.map(\.clientURL) }

    private init(members: [Member], root: String, tls: EtcdTLS?) {
        self.members = members
        self.root = root
        self.tls = tls
        self.processes = Mutex([:])
    }

    static func start(members count: Int = 1, tls: EtcdTLS? = nil) async throws -> EtcdCluster {
        var failures: [String] = []
        for _ in 0..<4 {
            let cluster = try launch(members: count, tls: tls)
            do {
                for m in cluster.members { try await cluster.waitHealthy(m.clientURL) }
                try await cluster.verifyIdentity()
                return cluster
            } catch let error as HarnessError {
                // Most likely a port another process took between our check and etcd's bind.
                failures.append("\(error) (logs: \(cluster.logs()))")
                cluster.stop()
            } catch {
                cluster.stop()
                throw error
            }
        }
        throw HarnessError.notHealthy(failures.joined(separator: "; "))
    }

    private static func launch(members count: Int, tls: EtcdTLS?) throws -> EtcdCluster {
        let root = NSTemporaryDirectory() + "hgw-etcd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let ports = try PortAllocator.shared.take(count * 2)
        let members = (0..<count).map { i in
            // Peers stay plain http: the tests are about the client side.
            Member(name: "m\(i)", clientURL: "\(tls == nil ? "http" : "https")://127.0.0.1:\(ports[2 * i])", peerURL: "http://127.0.0.1:\(ports[2 * i + 1])")
        }
        let initial = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let token = "hgw-\(UUID().uuidString.prefix(8))"
        let cluster = EtcdCluster(members: members, root: root, tls: tls)
        do {
            for (i, m) in members.enumerated() {
                let command = [
                    "etcd", "--name", m.name, "--data-dir", "\(root)/\(m.name)",
                    "--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
                    "--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
                    "--initial-cluster", initial, "--initial-cluster-token", token, "--initial-cluster-state", "new",
                    "--heartbeat-interval", "50", "--election-timeout", "500", "--log-level", "error", "--logger", "zap",
                ] + (tls?.etcdFlags ?? [])
                let p = try ProcessRunner.start(command, logFile: "\(root)/\(m.name).log")
                cluster.processes.withLock { $0[i] = p }
            }
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    func waitHealthy(_ endpoint: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            if let i = members.firstIndex(where: { $0.clientURL == endpoint }),
                processes.withLock({ $0[i].map { !$0.isRunning } ?? false })
            {
                throw HarnessError.notHealthy("\(endpoint): member \(members[i].name) exited")
            }
            let health = try await etcdctl(["--endpoints", endpoint, "--command-timeout", "2s", "endpoint", "health"])
            if health.status == 0 { return }
            last = health.description
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError.notHealthy("\(endpoint): \(last)")
    }

    /// Every client URL must be served by this cluster: its member list names exactly our peer
    /// URLs, and every member process is still running.
    private func verifyIdentity() async throws {
        let ours = Set(members.map(\.peerURL))
        for m in members {
            let listing = try await etcdctl(["--endpoints", m.clientURL, "--command-timeout", "5s", "member", "list", "-w", "json"])
            let out = listing.stdout
            guard listing.status == 0, let start = out.firstIndex(of: "{"), let data = String(out[start...]).data(using: .utf8),
                let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                let list = object["members"] as? [[String: Any]]
            else { throw HarnessError.notHealthy("\(m.clientURL): member list unreadable: \(listing)") }
            let theirs = Set(list.flatMap { ($0["peerURLs"] as? [String]) ?? [] })
            guard theirs == ours else {
                throw HarnessError.notHealthy("\(m.clientURL) answers for another cluster (peers \(theirs.sorted()))")
            }
        }
        let exited = processes.withLock { p in members.indices.filter { p[$0]?.isRunning != true } }
        guard exited.isEmpty else { throw HarnessError.notHealthy("members \(exited) exited after start") }
    }

    private func logs() -> String {
        members.map { m in
            let text = (try? String(contentsOfFile: "\(root)/\(m.name).log", encoding: .utf8)) ?? ""
            return "\(m.name): \(text.suffix(300))"
        }.joined(separator: " | ")
    }

    /// Index of the current leader, by asking each live member.
    func leaderIndex() async throws -> Int {
        let status = try await etcdctl(["--endpoints", liveURLs.joined(separator: ","), "endpoint", "status", "-w", "json"])
        // A dead member fails the command, but the live ones are still listed on stdout.
        let out = status.stdout
        guard status.status == 0 || !out.isEmpty else { throw HarnessError.command(status) }
        guard let start = out.firstIndex(of: "["), let data = String(out[start...]).data(using: .utf8),
            let array = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { throw HarnessError.command(status) }
        for entry in array {
            guard let endpoint = entry["Endpoint"] as? String, let status = entry["Status"] as? [String: Any],
                let header = status["header"] as? [String: Any]
            else { continue }
            let leader = "\(status["leader"] ?? "")"
            let member = "\(header["member_id"] ?? "")"
            if leader == member, let i = members.firstIndex(where: { $0.clientURL == endpoint }) { return i }
        }
        throw HarnessError.noLeader(status)
    }

    var liveURLs: [String] {
        processes.withLock { p in members.indices.filter { p[$0]?.isRunning == true }.map { members[$0].clientURL } }
    }

    /// SIGKILLs one member (a crash, not a clean shutdown).
    func kill(member i: Int) {
        let p = processes.withLock { $0.removeValue(forKey: i) }
        guard let p else { return }
        Glibc.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// SIGSTOPs one member: its sockets stay open and the kernel keeps acknowledging, but it
    /// answers nothing (a hung machine). `resume` undoes it; `stop` kills it either way.
    func pause(member i: Int) {
        if let p = processes.withLock({ $0[i] }) { Glibc.kill(p.processIdentifier, SIGSTOP) }
    }

    func resume(member i: Int) {
        if let p = processes.withLock({ $0[i] }) { Glibc.kill(p.processIdentifier, SIGCONT) }
    }

    func stop() {
        let all = processes.withLock { p in
            defer { p.removeAll() }
            return Array(p.values)
        }
        for p in all where p.isRunning {
            Glibc.kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs etcdctl (API v3, none of the caller's ETCDCTL_* settings), with the client
    /// certificate on a TLS cluster. Every wait on it is asynchronous (see the type's comment).
    @discardableResult
    func etcdctl(_ args: [String]) async throws -> ProcessResult {
        try await ProcessRunner.runSuspending(
            ["etcdctl"] + (tls?.etcdctlFlags ?? []) + args, environment: ["ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"])
    }

    /// `etcdctl put` against this cluster: how an operator (or an attacker) writes raw data.
    func put(_ key: String, _ value: String) async throws {
        let result = try await etcdctl(["--endpoints", liveURLs.joined(separator: ","), "put", key, value])
        guard result.status == 0 else { throw HarnessError.command(result) }
    }

    /// Ports for members (and for "dead" endpoints nobody listens on).
    static func freePorts(_ n: Int) throws -> [Int] { try PortAllocator.shared.take(n) }
}

/// Hands out loopback TCP ports below the kernel's ephemeral range, each at most once per test
/// process, starting at a random point so concurrent test processes rarely meet. The kernel never
/// picks these for bind(0) or outgoing connections, so a port checked free stays free unless
/// another process asks for exactly it (which `EtcdCluster.verifyIdentity` detects).
final class PortAllocator: Sendable {
    static let shared = PortAllocator()

    private let range: Range<Int>
    private let next: Mutex<Int>

    private init() {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let ephemeralLow = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        let upper = max(min(ephemeralLow, 65536), 12000)
        range = 10000..<upper
        next = Mutex(Int.random(in: range))
    }

    func take(_ n: Int) throws -> [Int] {
        var ports: [Int] = []
        var tried = 0
        while ports.count < n {
            guard tried < range.count else { throw HarnessError.noFreePort(below: range.upperBound) }
            tried += 1
            let port = next.withLock { p in
                defer { p = p + 1 >= range.upperBound ? range.lowerBound : p + 1 }
                return p
            }
            guard port != 2379, port != 2380, Self.isFree(port) else { continue }
            ports.append(port)
        }
        return ports
    }

    /// Whether nothing holds `port` on 127.0.0.1 right now.
    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0
    }
}

/// Runs `body` with a fresh cluster and always stops it afterwards.
func withEtcd<T>(members: Int = 1, tls: EtcdTLS? = nil, _ body: (EtcdCluster) async throws -> T) async throws -> T {
    let cluster = try await EtcdCluster.start(members: members, tls: tls)
    do {
        let result = try await body(cluster)
        cluster.stop()
        return result
    } catch {
        cluster.stop()
        throw error
    }
}
