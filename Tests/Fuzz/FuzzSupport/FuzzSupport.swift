// The driver every fuzz target shares. Built with `-sanitize=fuzzer,address -D HOSTGW_FUZZ`
// (scripts/fuzz) it hands control to libFuzzer; built normally (`swift build`) the same target
// replays files or directories of inputs through the same body, so a reproducer can be run
// without the sanitizer toolchain: `.build/debug/fuzz-netlink-reply crash-1234`.
import Foundation

#if HOSTGW_FUZZ
nonisolated(unsafe) private var fuzzBody: ((UnsafeRawBufferPointer) -> Void)?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzBody?(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}

// SwiftPM links an executable's Swift entry point as `main`, so libFuzzer's own main is not
// used; its documented library entry point runs the same loop.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// Runs `body` on every input: under libFuzzer, on generated inputs; otherwise on the files
/// named on the command line (a directory means every file in it). Exits when done.
public func fuzzMain(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    #if HOSTGW_FUZZ
    fuzzBody = body
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in fuzzTestOneInput(data, count) })
    #else
    var count = 0
    for arg in CommandLine.arguments.dropFirst() {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: arg, isDirectory: &isDir) else {
            FileHandle.standardError.write(Data("no such input: \(arg)\n".utf8))
            exit(66)
        }
        let files = isDir.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: arg)) ?? []).sorted().map { "\(arg)/\($0)" } : [arg]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { body($0) }
            count += 1
        }
    }
    print("replayed \(count) inputs")
    exit(0)
    #endif
}
