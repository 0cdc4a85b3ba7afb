// HostGwTestSupport: what every test target of hostgw shares, so that each of these decisions is
// made once: who the tests run as and how a test that needs root skips (here), how a fixture's
// address literal is parsed (`AddressLiterals`), a logger that stays quiet (`QuietLogger`), how a
// program is run (`ProcessRunner`), the one network-namespace lab (`NamespaceLab`) and how a
// metric is read back (`TestMetrics+Series`). Test code only: no product links it, and it never
// touches the root network namespace.
public import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Kernel tests create network namespaces, which needs root.
public let isRoot = geteuid() == 0

extension Trait where Self == ConditionTrait {
    /// Skips a kernel test (or suite) when not root, with the reason printed in the test log.
    public static var needsRoot: Self { .enabled(if: isRoot, "needs root to create network namespaces") }

    /// Skips a test when `tool` is not installed (see `ProcessRunner.locate`), naming the Debian
    /// package that brings it.
    public static func needs(tool: String, package: String) -> Self {
        .enabled(if: ProcessRunner.locate(tool) != nil, "\(tool) not installed (Debian package \(package))")
    }
}
