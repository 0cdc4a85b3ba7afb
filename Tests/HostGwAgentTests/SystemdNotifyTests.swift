import NetAddress
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import HostGwAgent

/// A NOTIFY_SOCKET like systemd's: a unix datagram socket the test reads from.
final class NotifySocket {
    let path: String
    let fd: Int32

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.EADDRINUSE) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func receive() -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

@Suite struct SystemdNotifyTests {
    @Test func readyStatusAndWatchdogArriveOnTheNotifySocket() throws {
        let sock = try NotifySocket()
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "20000000"])
        #expect(n.watchdogInterval == .seconds(10))
        n.ready(status: "routing 3 peers")
        #expect(sock.receive() == "READY=1\nSTATUS=routing 3 peers")
        n.watchdog()
        #expect(sock.receive() == "WATCHDOG=1")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let n = SystemdNotifier(environment: [:])
        #expect(!n.isEnabled)
        #expect(n.send("READY=1") == false)
        #expect(n.watchdogInterval == nil)
    }

    @Test func watchdogForAnotherPidIsIgnored() {
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"])
        #expect(n.watchdogInterval == nil || getpid() == 1)
    }
}
