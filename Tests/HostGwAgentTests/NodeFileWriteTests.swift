// subnet.env and the CNI conflist go through the durable replace; a path the unit makes
// read-only is a configuration error that names the path and the unit setting to change.
import Foundation
import SubnetLease
import Testing

@testable import HostGwAgent

/// Fails `create` with `errno`; nothing else is ever reached.
struct FailingFileSystem: DurableFileSystem {
    var errno: POSIXErrorCode
    func create(_ path: String, mode: UInt32) -> Result<Int32, POSIXError> { .failure(POSIXError(errno)) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, POSIXError> { .failure(POSIXError(errno)) }
    func fsync(_ fd: Int32) -> POSIXErrorCode? { errno }
    func close(_ fd: Int32) {}
    func rename(_ from: String, _ to: String) -> POSIXErrorCode? { errno }
    func unlink(_ path: String) {}
    func openDirectory(_ path: String) -> Result<Int32, POSIXError> { .failure(POSIXError(errno)) }
    func makeDirectories(_ path: String) -> POSIXErrorCode? { nil }
}

@Suite struct NodeFileWriteTests {
    @Test func aReadOnlyPathExits78NamingThePathAndReadWritePaths() {
        #expect {
            try writeNodeFile("/etc/cni/net.d/10-hostgw.conflist", setting: "cni-conflist", "{}", using: FailingFileSystem(errno: .EROFS))
        } throws: { error in
            guard let e = error as? DaemonExit else { return false }
            return e.code == ExitStatus.config && e.message.contains("--cni-conflist /etc/cni/net.d/10-hostgw.conflist")
                && e.message.contains("ReadWritePaths=") && e.message.contains("/etc/cni/net.d") && e.message.contains("EROFS")
                && !e.message.contains("\n")
        }
    }

    @Test func permissionDeniedIsAConfigurationErrorToo() {
        #expect {
            try writeNodeFile("/run/flannel/subnet.env", setting: "subnet-file", "", using: FailingFileSystem(errno: .EACCES))
        } throws: { ($0 as? DaemonExit)?.code == ExitStatus.config && "\($0)".contains("--subnet-file /run/flannel/subnet.env") }
    }

    @Test func otherFailuresAreNotBlamedOnTheConfiguration() {
        #expect {
            try writeNodeFile("/run/flannel/subnet.env", setting: "subnet-file", "", using: FailingFileSystem(errno: .ENOSPC))
        } throws: { ($0 as? DaemonExit)?.code == ExitStatus.software && "\($0)".contains("ENOSPC") }
    }

    @Test func writesTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hgw-files-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("flannel/subnet.env").path
        try writeNodeFile(path, setting: "subnet-file", "A=1\n")
        try writeNodeFile(path, setting: "subnet-file", "B=2\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "B=2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("flannel").path) == ["subnet.env"])
    }
}
