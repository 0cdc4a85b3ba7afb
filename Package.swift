// swift-tools-version: 6.1
// hostgw: a host-gw pod-network agent. Dependencies flow one way:
// HostGwAgent -> ExternalPeers -> RouteSync -> SubnetLease -> NetAddress, and RouteSync -> Netlink ->
// CMnl (C, libmnl) + NetAddress. Only Netlink imports the C shim, and only internally; SubnetLease
// never touches the kernel, so it does not link libmnl.
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// How the shipped agent is linked (release builds on Linux; see docs/performance.md, "Memory"):
/// - lld instead of gold, for the two options below;
/// - no dynamic export of the binary's own symbols: nothing looks them up, and exporting them
///   adds about 3.5 MB of symbol tables that the loader reads at every start;
/// - packed relative relocations (DT_RELR, glibc >= 2.36): about 130,000 relocation records
///   shrink from 3 MB to 25 KB, which the loader otherwise reads, resident, at every start.
/// - the functions the agent runs packed together (packaging/hostgw.order, made by
///   scripts/gen-order-file; works best with scripts/build-release, which gives every function
///   its own section): the binary's pages the agent touches are most of its resident memory.
/// Together they take about 20 MB off the agent's resident memory with 5,000 peers.
let agentLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld",
            "-Xlinker", "--no-export-dynamic",
            "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
            "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/packaging/hostgw.order",
            "-Xlinker", "--no-warn-symbol-ordering",
        ],
        .when(platforms: [.linux], configuration: .release)
    )
]

let package = Package(
    name: "hostgw",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hostgw", targets: ["HostGwAgent"]),
        .library(name: "NetAddress", targets: ["NetAddress"]),
        .library(name: "Netlink", targets: ["Netlink"]),
        .library(name: "SubnetLease", targets: ["SubnetLease"]),
        .library(name: "RouteSync", targets: ["RouteSync"]),
        .library(name: "ExternalPeers", targets: ["ExternalPeers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CMnl",
            pkgConfig: "libmnl",
            providers: [.apt(["libmnl-dev"])]
        ),
        .target(
            name: "NetAddress",
            swiftSettings: upcoming
        ),
        .target(
            name: "Netlink",
            dependencies: [
                "CMnl",
                "NetAddress",
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "SubnetLease",
            dependencies: [
                "NetAddress",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "RouteSync",
            dependencies: [
                "NetAddress",
                "Netlink",
                "SubnetLease",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "ExternalPeers",
            dependencies: [
                "NetAddress",
                "Netlink",
                "SubnetLease",
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "HostGwAgent",
            dependencies: [
                "NetAddress",
                "Netlink",
                "SubnetLease",
                "RouteSync",
                "ExternalPeers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: upcoming,
            linkerSettings: agentLinkerSettings
        ),
        // What every test target shares (namespace lab, process runner, fixture literals, quiet
        // logger, metrics lookups): test code only, no product links it.
        .target(
            name: "HostGwTestSupport",
            dependencies: [
                "NetAddress",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Tests/HostGwTestSupport",
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "NetAddressTests",
            dependencies: ["HostGwTestSupport", "NetAddress"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "NetlinkTests",
            dependencies: ["HostGwTestSupport", "Netlink", "NetAddress"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "SubnetLeaseTests",
            dependencies: [
                "HostGwTestSupport",
                "NetAddress",
                "SubnetLease",
                "Netlink",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "RouteSyncTests",
            dependencies: [
                "HostGwTestSupport",
                "NetAddress",
                "RouteSync",
                "SubnetLease",
                "Netlink",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ExternalPeersTests",
            dependencies: [
                "HostGwTestSupport",
                "NetAddress",
                "ExternalPeers",
                "SubnetLease",
                "Netlink",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "HostGwAgentTests",
            dependencies: [
                "HostGwTestSupport",
                "NetAddress",
                "HostGwAgent",
                "RouteSync",
                "SubnetLease",
                "Netlink",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
    ]
)

// Coverage-guided fuzz targets (Tests/Fuzz, docs/fuzzing.md). `scripts/fuzz` builds them with
// `-sanitize=fuzzer,address -D HOSTGW_FUZZ` into .build-fuzz; a normal build makes each one a
// replayer of saved inputs (`.build/debug/fuzz-netlink-reply FILE...`).
let fuzzTargets: [(name: String, product: String, dependencies: [Target.Dependency])] = [
    ("FuzzNetlinkReply", "fuzz-netlink-reply", ["Netlink"]),
    ("FuzzNetworkConfig", "fuzz-network-config", ["NetAddress", "SubnetLease"]),
    ("FuzzLeaseValue", "fuzz-lease-value", ["NetAddress", "SubnetLease"]),
    ("FuzzEtcdWire", "fuzz-etcd-wire", ["SubnetLease"]),
    ("FuzzSettingsFile", "fuzz-settings-file", ["SubnetLease"]),
]
package.targets.append(.target(name: "FuzzSupport", path: "Tests/Fuzz/FuzzSupport", swiftSettings: upcoming))
for t in fuzzTargets {
    package.targets.append(
        .executableTarget(
            name: t.name, dependencies: ["FuzzSupport"] + t.dependencies, path: "Tests/Fuzz/\(t.name)", swiftSettings: upcoming))
    package.products.append(.executable(name: t.product, targets: [t.name]))
}
