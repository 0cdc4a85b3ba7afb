import ArgumentParser

struct ExternalSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "external-sync",
        abstract: "Keep this external host's routes to every node's pod subnet equal to the leases.",
        discussion: """
            For a host outside the cluster on the nodes' L2 segment (Kafka, Cassandra, PostgreSQL): \
            takes no lease, watches the store and keeps one route per node subnet via that node, with \
            the same protocol marker, drift detection and repair, observe-only mode, status, health and \
            metrics as `hostgw run`. Run it as a systemd service like the agent.
            """)

    @OptionGroup(title: "Store") var storeOptions: StoreOptions
    @OptionGroup(title: "Route sync and reporting") var syncOptions: SyncOptions

    func run() async throws {
        let (settings, storeSettings) = try resolveOrExit(config: storeOptions.config) { r in
            (try RunSettings(syncOptions, nil, r), try StoreSettings(storeOptions, r))
        }
        try await runDaemon(role: .external, settings: settings, storeSettings: storeSettings)
    }
}
