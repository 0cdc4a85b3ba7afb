// Real etcd members on random loopback ports with throwaway data dirs, for tests. Never the
// default 2379/2380, so a developer's own etcd is never touched.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

enum HarnessError: Error, CustomStringConvertible {
    case notHealthy(String)
    case timeout(String)
    case command(String, Int32, String)

    var description: String {
        switch self {
        case .notHealthy(let s): "etcd did not become healthy: \(s)"
        case .timeout(let s): "timed out: \(s)"
        case .command(let c, let code, let out): "\(c) exited \(code): \(out)"
        }
    }
}

/// One etcd cluster (1 or 3 members) owned by a test. `stop()` kills every member and removes
/// the data; call it from the test on every path (`withEtcd` does).
final class EtcdCluster: Sendable {
    struct Member: Sendable {
        let name: String
        let clientURL: String
        let peerURL: String
    }

    let members: [Member]
    let root: String
    private let processes: Mutex<[Int: Process]>

    var clientURLs: [String] { members.map(\.clientURL) }

    private init(members: [Member], root: String, processes: [Int: Process]) {
        self.members = members
        self.root = root
        self.processes = Mutex(processes)
    }

    static func start(members count: Int = 1) async throws -> EtcdCluster {
        let root = NSTemporaryDirectory() + "hgw-etcd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let ports = try freePorts(count * 2)
        let members = (0..<count).map { i in
            Member(name: "m\(i)", clientURL: "http://127.0.0.1:\(ports[2 * i])", peerURL: "http://127.0.0.1:\(ports[2 * i + 1])")
        }
        let initial = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let token = "hgw-\(UUID().uuidString.prefix(8))"
        var processes: [Int: Process] = [:]
        let cluster = EtcdCluster(members: members, root: root, processes: [:])
        do {
            for (i, m) in members.enumerated() {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
                p.arguments = [
                    "--name", m.name, "--data-dir", "\(root)/\(m.name)",
                    "--listen-client-urls", m.clientURL, "--advertise-client-urls", m.clientURL,
                    "--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
                    "--initial-cluster", initial, "--initial-cluster-token", token, "--initial-cluster-state", "new",
                    "--heartbeat-interval", "50", "--election-timeout", "500", "--log-level", "error", "--logger", "zap",
                ]
                _ = FileManager.default.createFile(atPath: "\(root)/\(m.name).log", contents: nil)
                let out = FileHandle(forWritingAtPath: "\(root)/\(m.name).log") ?? FileHandle.nullDevice
                p.standardOutput = out
                p.standardError = out
                p.standardInput = FileHandle.nullDevice
                try p.run()
                processes[i] = p
                cluster.processes.withLock { $0[i] = p }
            }
            for m in members { try await cluster.waitHealthy(m.clientURL) }
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    func waitHealthy(_ endpoint: String, timeout: Duration = .seconds(15)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            let (code, out) = etcdctl(["--endpoints", endpoint, "--command-timeout", "1s", "endpoint", "health"])
            if code == 0 { return }
            last = out
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError.notHealthy("\(endpoint): \(last)")
    }

    /// Index of the current leader, by asking each live member.
    func leaderIndex() throws -> Int {
        let (code, out) = etcdctl(["--endpoints", liveURLs.joined(separator: ","), "endpoint", "status", "-w", "json"])
        guard code == 0 || !out.isEmpty else { throw HarnessError.command("etcdctl endpoint status", code, out) }
        guard let start = out.firstIndex(of: "["), let data = String(out[start...]).data(using: .utf8),
            let array = try JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { throw HarnessError.command("etcdctl endpoint status", code, out) }
        for entry in array {
            guard let endpoint = entry["Endpoint"] as? String, let status = entry["Status"] as? [String: Any],
                let header = status["header"] as? [String: Any]
            else { continue }
            let leader = "\(status["leader"] ?? "")"
            let member = "\(header["member_id"] ?? "")"
            if leader == member, let i = members.firstIndex(where: { $0.clientURL == endpoint }) { return i }
        }
        throw HarnessError.command("etcdctl endpoint status (no leader)", code, out)
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

    /// Runs etcdctl (API v3) and returns exit code and combined output.
    @discardableResult
    func etcdctl(_ args: [String]) -> (Int32, String) { Self.run("/usr/bin/etcdctl", args) }

    /// `etcdctl put` against this cluster: how an operator (or an attacker) writes raw data.
    func put(_ key: String, _ value: String) throws {
        let (code, out) = etcdctl(["--endpoints", liveURLs.joined(separator: ","), "put", key, value])
        guard code == 0 else { throw HarnessError.command("etcdctl put \(key)", code, out) }
    }

    static func run(_ tool: String, _ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.environment = ["ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Ports the kernel hands out as free; all sockets are held until every port is chosen so
    /// one call never returns the same port twice.
    static func freePorts(_ n: Int) throws -> [Int] {
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        var ports: [Int] = []
        for _ in 0..<n {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw HarnessError.command("socket", errno, "") }
            fds.append(fd)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw HarnessError.command("bind", errno, "") }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            let port = Int(UInt16(bigEndian: addr.sin_port))
            guard port != 2379, port != 2380 else { continue }
            ports.append(port)
        }
        guard ports.count == n else { return try freePorts(n) }
        return ports
    }
}

/// Runs `body` with a fresh cluster and always stops it afterwards.
func withEtcd<T>(members: Int = 1, _ body: (EtcdCluster) async throws -> T) async throws -> T {
    let cluster = try await EtcdCluster.start(members: members)
    do {
        let result = try await body(cluster)
        cluster.stop()
        return result
    } catch {
        cluster.stop()
        throw error
    }
}
