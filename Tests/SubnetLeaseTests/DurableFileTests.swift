// The durable replace of subnet.env, the CNI conflist and lease.json: the order of the system
// calls (data synced before the rename, the directory synced after it), what a failing call
// leaves behind, and a lease state file torn by a power loss.
import Foundation
import HostGwTestSupport
import Logging
import Synchronization
import Testing

@testable import SubnetLease

/// Records every call and passes it to the real file system, failing the one named in `fail`.
final class RecordingFileSystem: DurableFileSystem {
    let calls = Mutex<[String]>([])
    let fail: (call: String, errno: POSIXErrorCode)?
    private let real = POSIXFileSystem()
    private let names = Mutex<[Int32: String]>([:])

    init(failing call: String? = nil, with errno: POSIXErrorCode = .EIO) { fail = call.map { ($0, errno) } }

    var log: [String] { calls.withLock { $0 } }

    private func record(_ call: String, _ path: String) -> POSIXErrorCode? {
        let name = (path as NSString).lastPathComponent.hasPrefix(".") ? "tmp" : (path as NSString).lastPathComponent
        calls.withLock { $0.append("\(call) \(name)") }
        return fail?.call == call ? fail?.errno : nil
    }

    private func name(_ fd: Int32) -> String { names.withLock { $0[fd] ?? "fd\(fd)" } }

    func create(_ path: String, mode: UInt32) -> Result<Int32, POSIXError> {
        if let e = record("create", path) { return .failure(POSIXError(e)) }
        let r = real.create(path, mode: mode)
        if case .success(let fd) = r { names.withLock { $0[fd] = "tmp" } }
        return r
    }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, POSIXError> {
        if let e = record("write", name(fd)) { return .failure(POSIXError(e)) }
        return real.write(fd, bytes)
    }
    func fsync(_ fd: Int32) -> POSIXErrorCode? {
        if let e = record("fsync", name(fd)) { return e }
        return real.fsync(fd)
    }
    func close(_ fd: Int32) {
        _ = record("close", name(fd))
        names.withLock { $0[fd] = nil }
        real.close(fd)
    }
    func rename(_ from: String, _ to: String) -> POSIXErrorCode? {
        if let e = record("rename", to) { return e }
        return real.rename(from, to)
    }
    func unlink(_ path: String) {
        _ = record("unlink", path)
        real.unlink(path)
    }
    func openDirectory(_ path: String) -> Result<Int32, POSIXError> {
        if let e = record("openDirectory", "dir") { return .failure(POSIXError(e)) }
        let r = real.openDirectory(path)
        if case .success(let fd) = r { names.withLock { $0[fd] = "dir" } }
        return r
    }
    func makeDirectories(_ path: String) -> POSIXErrorCode? { real.makeDirectories(path) }
}

@Suite struct DurableFileTests {
    @Test func dataIsSyncedBeforeTheRenameAndTheDirectoryAfterIt() throws {
        let dir = try tempDirectory("durable")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fs = RecordingFileSystem()
        try DurableFile.replace(dir + "/run/subnet.env", with: Data("A=1\n".utf8), using: fs)
        #expect(fs.log == [
            "unlink tmp", "create tmp", "write tmp", "fsync tmp", "close tmp", "rename subnet.env",
            "openDirectory dir", "fsync dir", "close dir",
        ])
        #expect(FileManager.default.contents(atPath: dir + "/run/subnet.env") == Data("A=1\n".utf8))
    }

    @Test(arguments: ["create", "write", "fsync", "rename"])
    func aFailedStepLeavesTheOldFileAndNoTemporary(_ step: String) throws {
        let dir = try tempDirectory("durable-fault")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lease.json"
        try DurableFile.replace(path, with: Data("old".utf8))
        let fs = RecordingFileSystem(failing: step, with: .ENOSPC)
        #expect {
            try DurableFile.replace(path, with: Data("new".utf8), using: fs)
        } throws: { error in
            (error as? DurableFileError)?.errno == .ENOSPC && "\(error)".contains("ENOSPC")
        }
        #expect(FileManager.default.contents(atPath: path) == Data("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["lease.json"])
    }

    @Test func aReadOnlyFileSystemIsReportedAsEROFSWithThePath() throws {
        let fs = RecordingFileSystem(failing: "create", with: .EROFS)
        #expect {
            try DurableFile.replace("/etc/cni/net.d/10-hostgw.conflist", with: Data(), using: fs)
        } throws: { error in
            guard let e = error as? DurableFileError else { return false }
            return e.errno == .EROFS && e.path.hasPrefix("/etc/cni/net.d/") && "\(e)".contains("EROFS")
        }
    }

    @Test func replacingKeepsOnlyTheNewContents() throws {
        let dir = try tempDirectory("durable-real")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a/b/subnet.env"
        try DurableFile.replace(path, with: Data("A=1\n".utf8))
        try DurableFile.replace(path, with: Data("B=2\n".utf8), mode: 0o600)
        #expect(FileManager.default.contents(atPath: path) == Data("B=2\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a/b") == ["subnet.env"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o600)
    }

    @Test func leaseStateIsWrittenDurably() async throws {
        let dir = try tempDirectory("durable-lease")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fs = RecordingFileSystem()
        try await withStore(.embedded) { f in
            let m = LeaseManager(
                store: f.store, config: try config(standardConfigJSON), identity: node(1), options: LeaseOptions(stateDirectory: dir),
                logger: quietLogger, fileSystem: fs)
            _ = try await m.acquire()
        }
        let log = fs.log
        let rename = try #require(log.firstIndex(of: "rename lease.json"))
        #expect(log[..<rename].contains("fsync tmp"))
        #expect(log[rename...].contains("fsync dir"))
    }

    @Test(arguments: ["", "{\"subnet\": \"10.244.", "\u{0}\u{0}\u{0}\u{0}"])
    func anEmptyOrTornStateFileIsTreatedAsAbsent(_ contents: String) async throws {
        let dir = try tempDirectory("torn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(FileManager.default.createFile(atPath: dir + "/lease.json", contents: Data(contents.utf8)))
        let logs = LogCapture()
        try await withStore(.embedded) { f in
            let lease = try await LeaseManager(
                store: f.store, config: try config(standardConfigJSON), identity: node(1), options: LeaseOptions(stateDirectory: dir),
                logger: logs.logger
            ).acquire()
            #expect(lease.subnet != nil)
        }
        #expect(logs.messages.contains { $0.level == .warning && $0.message.contains("lease state file") })
        // ...and it is replaced by a good one.
        let state = try #require(FileManager.default.contents(atPath: dir + "/lease.json"))
        #expect(try JSONSerialization.jsonObject(with: state) is [String: Any])
    }
}
