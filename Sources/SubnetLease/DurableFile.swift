// The one way hostgw replaces a file other software (or the next boot) reads: subnet.env, the
// CNI conflist, lease.json. Readers see the old file or the new one, never a part of one, and
// after a power loss the new one is on disk: write a temporary file in the same directory, fsync
// it, rename it over the target, fsync the directory (the rename lives in the directory).
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A replacement that failed: which file, which step, and the errno (EROFS, ENOSPC, EACCES...).
public struct DurableFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: POSIXErrorCode

    public init(path: String, operation: String, errno: POSIXErrorCode) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    /// `rename to /run/flannel/subnet.env: .../.subnet.env.tmp-42: EROFS (Read-only file system)`.
    public var description: String { "\(operation) \(path): \(errno) (\(String(cString: strerror(errno.rawValue))))" }
}

/// The system calls a durable replace makes; tests substitute a recorder or a fault injector.
public protocol DurableFileSystem: Sendable {
    /// A new file opened for writing (O_CREAT|O_EXCL|O_WRONLY|O_CLOEXEC), or the errno.
    func create(_ path: String, mode: UInt32) -> Result<Int32, POSIXError>
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, POSIXError>
    func fsync(_ fd: Int32) -> POSIXErrorCode?
    func close(_ fd: Int32)
    func rename(_ from: String, _ to: String) -> POSIXErrorCode?
    func unlink(_ path: String)
    /// A directory opened for fsync (O_RDONLY|O_DIRECTORY|O_CLOEXEC), or the errno.
    func openDirectory(_ path: String) -> Result<Int32, POSIXError>
    func makeDirectories(_ path: String) -> POSIXErrorCode?
}

public enum DurableFile {
    /// Replaces `path` with `data` durably (see the file comment). Creates missing parent
    /// directories. On failure the target is untouched and no temporary file is left.
    public static func replace(_ path: String, with data: Data, mode: UInt32 = 0o644) throws(DurableFileError) {
        try replace(path, with: data, mode: mode, using: POSIXFileSystem())
    }

    public static func replace(
        _ path: String, with data: Data, mode: UInt32 = 0o644, using fs: some DurableFileSystem
    ) throws(DurableFileError) {
        let dir = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        if let e = fs.makeDirectories(dir) { throw DurableFileError(path: dir, operation: "create directory", errno: e) }
        let tmp = (dir as NSString).appendingPathComponent(".\(name).tmp-\(getpid())")
        fs.unlink(tmp)  // a leftover of a crashed run with our pid
        let fd: Int32
        switch fs.create(tmp, mode: mode) {
        case .success(let v): fd = v
        case .failure(let e): throw DurableFileError(path: tmp, operation: "create", errno: e.code)
        }
        func abandon(_ operation: String, _ e: POSIXErrorCode, closing: Bool = true) -> DurableFileError {
            if closing { fs.close(fd) }
            fs.unlink(tmp)
            return DurableFileError(path: tmp, operation: operation, errno: e)
        }
        let written: POSIXErrorCode? = data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                switch fs.write(fd, UnsafeRawBufferPointer(rebasing: raw[offset...])) {
                case .success(let n) where n > 0: offset += n
                case .success: return .EIO
                case .failure(let e): return e.code
                }
            }
            return nil
        }
        if let e = written { throw abandon("write", e) }
        if let e = fs.fsync(fd) { throw abandon("fsync", e) }
        fs.close(fd)
        if let e = fs.rename(tmp, path) { throw abandon("rename to \(path):", e, closing: false) }
        // The new name is durable only once the directory is: a power loss before this may
        // bring the old file back (never an empty one: the data was synced before the rename).
        switch fs.openDirectory(dir) {
        case .success(let dfd):
            let e = fs.fsync(dfd)
            fs.close(dfd)
            // EINVAL: a file system that cannot sync directories (some FUSE, 9p); the rename is done.
            if let e, e != .EINVAL { throw DurableFileError(path: dir, operation: "fsync directory", errno: e) }
        case .failure(let e):
            throw DurableFileError(path: dir, operation: "open directory", errno: e.code)
        }
    }
}

/// The real system calls, retried on EINTR.
public struct POSIXFileSystem: DurableFileSystem {
    public init() {}

    public func create(_ path: String, mode: UInt32) -> Result<Int32, POSIXError> {
        retryingEINTR { open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode_t(truncatingIfNeeded: mode)) }
    }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, POSIXError> {
        retryingEINTR { sysWrite(fd, bytes) }
    }

    public func fsync(_ fd: Int32) -> POSIXErrorCode? {
        if case .failure(let e) = retryingEINTR({ sysFsync(fd) }) { return e.code }
        return nil
    }

    public func close(_ fd: Int32) { sysClose(fd) }

    public func rename(_ from: String, _ to: String) -> POSIXErrorCode? {
        sysRename(from, to) == 0 ? nil : posixCode(errno)
    }

    public func unlink(_ path: String) { sysUnlink(path) }

    public func openDirectory(_ path: String) -> Result<Int32, POSIXError> {
        retryingEINTR { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    /// mkdir -p: each missing component, mode 0755.
    public func makeDirectories(_ path: String) -> POSIXErrorCode? {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/\(part)"
            if mkdir(current, 0o755) != 0, errno != EEXIST { return posixCode(errno) }
        }
        return nil
    }
}

private func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> Result<T, POSIXError> {
    while true {
        let r = call()
        if r >= 0 { return .success(r) }
        if errno != EINTR { return .failure(POSIXError(posixCode(errno))) }
    }
}

// File-scope names for the C calls the methods above shadow.
private func sysWrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int { write(fd, bytes.baseAddress, bytes.count) }
private func sysFsync(_ fd: Int32) -> Int32 { fsync(fd) }
private func sysClose(_ fd: Int32) { _ = close(fd) }
private func sysRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
private func sysUnlink(_ path: String) { _ = unlink(path) }

private func posixCode(_ raw: Int32) -> POSIXErrorCode { POSIXErrorCode(rawValue: raw) ?? .EIO }
