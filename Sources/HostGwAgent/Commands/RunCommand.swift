import NetAddress
import ArgumentParser
import Foundation
import RouteSync
import Hummingbird
import Logging
import Metrics
import Netlink
import Prometheus
import ServiceLifecycle
import UnixSignals
import SubnetLease

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: lease a subnet, route to every peer, repair drift, serve health and metrics.",
        discussion: """
            Every flag can also be set as HOSTGW_<FLAG> in the environment or as a key of the JSON \
            config file (--config); flags win over the environment, which wins over the file. \
            Stopping the agent leaves every route in place.
            """)

    @OptionGroup(title: "Store") var storeOptions: StoreOptions
    @OptionGroup(title: "This node") var nodeOptions: NodeOptions
    @OptionGroup(title: "Route sync and reporting") var syncOptions: SyncOptions

    func run() async throws {
        let (settings, storeSettings) = try resolveOrExit(config: storeOptions.config) { r in
            (try RunSettings(syncOptions, nodeOptions, r), try StoreSettings(storeOptions, r))
        }
        try await runDaemon(role: .node, settings: settings, storeSettings: storeSettings)
    }
}

/// Runs the agent process for `role` until SIGTERM/SIGINT or a fatal condition, which exits
/// with its status. Shared by `hostgw run` and `hostgw external-sync`.
func runDaemon(role: AgentDaemon.Role, settings: RunSettings, storeSettings: StoreSettings) async throws {
    tuneMallocForAgent()  // again, for a caller that did not come through HostGw.main (tests)
    bootstrapLogging(format: settings.logFormat, level: settings.logLevel)
    let registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    // Probe round trips on a LAN are well under the default buckets' 5 ms start.
    factory.durationHistogramBuckets["hostgw_peer_probe_rtt_seconds"] = ProbeConfig.rttHistogramBuckets
    MetricsSystem.bootstrap(factory)
    Gauge(label: "hostgw_build_info", dimensions: [("version", BuildInfo.version)]).record(1)
    var logger = Logger(label: "hostgw")
    logger[metadataKey: "node"] = "\(settings.nodeName)"

    guard hasNetAdminCapability() else {
        try fail("hostgw run needs CAP_NET_ADMIN to program routes: run it as root or grant the capability (the systemd unit does)", code: ExitStatus.noPermission)
    }
    let netlink: NetlinkClient
    let store: any SubnetStore
    do {
        netlink = try NetlinkClient()
        store = try makeStore(storeSettings, access: .readWrite, logger: logger)
    } catch {
        try fail("cannot start: \(error)", code: ExitStatus.unavailable)
    }

    let health = AgentHealth()
    let policy = HealthPolicy(
        stuckAfter: max(settings.resyncPeriod * 3, .seconds(60)), storeGrace: settings.healthGrace,
        leaseExpiryMargin: min(settings.leaseTTL / 4, .seconds(3600)))
    let notifier = SystemdNotifier()
    let daemon = AgentDaemon(
        role: role, settings: settings, storeSettings: storeSettings, store: store, netlink: netlink, health: health,
        notifier: notifier, logger: logger)
    let endpoints = HTTPEndpoints(health: health, policy: policy, registry: registry) {
        (try? await daemon.statusReport(policy: policy).jsonData()) ?? Data("{}".utf8)
    }
    let app = Application(
        router: endpoints.router(),
        configuration: .init(address: .hostname(settings.listenHost, port: settings.listenPort), serverName: nil),
        logger: logger)
    let group = ServiceGroup(
        configuration: .init(
            services: [
                .init(service: app),
                .init(service: StoreProbe(store: store, health: health, interval: .seconds(2), logger: logger)),
                .init(service: WatchdogService(notifier: notifier, health: health, policy: policy)),
                .init(service: daemon),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    logger.notice("hostgw starting", metadata: ["version": "\(BuildInfo.version)", "store": "\(storeSettings.summary)", "listen": "\(settings.listenHost):\(settings.listenPort)"])
    let outcome: Result<Void, any Error>
    do {
        try await group.run()
        outcome = .success(())
    } catch {
        outcome = .failure(error)
    }
    // Every service has ended: close the store's connections before the process goes.
    do { try await store.shutdown() } catch { logger.debug("store shutdown failed", metadata: ["error": "\(error)"]) }
    switch outcome {
    case .success: break
    case .failure(let exit as DaemonExit):
        notifier.stopping(status: exit.message)
        try fail(exit.message, code: exit.code)
    case .failure(let error):
        try fail("\(error)", code: ExitStatus.software)
    }
    notifier.stopping(status: "stopped; routes left in place")
    logger.notice("hostgw stopped; routes left in place")
}

/// Effective capabilities from /proc/self/status: CAP_NET_ADMIN is bit 12.
func hasNetAdminCapability() -> Bool {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
        let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    else { return false }
    return mask & (1 << 12) != 0
}
